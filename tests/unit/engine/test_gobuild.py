"""The wrapper module mirrors upstream's replace lines (pure text in, text out)."""

from __future__ import annotations

from styx.engine._gobuild import upstream_replaces, wrapper_go_mod

UPSTREAM = """module github.com/pulumi/pulumi/pkg/v3

go 1.26.6

replace github.com/pulumi/pulumi/sdk/v3 => ../sdk

replace github.com/atotto/clipboard => github.com/tgummerer/clipboard v0.0.0-2024 // fork

replace (
	example.com/a v1.0.0 => example.com/b v1.2.0
	example.com/local => ./local
)

require github.com/blang/semver v3.5.1+incompatible
"""


def test_folder_replaces_are_dropped_and_module_replaces_kept() -> None:
    assert upstream_replaces(UPSTREAM) == [
        "replace github.com/atotto/clipboard => github.com/tgummerer/clipboard v0.0.0-2024",
        "replace example.com/a v1.0.0 => example.com/b v1.2.0",
    ]


def test_wrapper_requires_pkg_and_sdk_at_the_same_version() -> None:
    text = wrapper_go_mod("3.259.0", ["replace x => y v1"])
    assert "\tgithub.com/pulumi/pulumi/pkg/v3 v3.259.0\n" in text
    assert "\tgithub.com/pulumi/pulumi/sdk/v3 v3.259.0\n" in text
    assert text.endswith("replace x => y v1\n")
