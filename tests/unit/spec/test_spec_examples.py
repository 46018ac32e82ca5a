"""Golden files pin the parsed model of every example, SkyPilot recipe and stack."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from styx.spec import Spec, load_stack, load_task

HERE = Path(__file__).parent
REPO = HERE.parents[2]
GOLDEN = HERE / "golden"
EXAMPLES = sorted((REPO / "examples").glob("*.yaml"))
SKYPILOT = sorted((HERE / "skypilot").glob("*.yaml"))
STACKS = sorted((REPO / "stacks").glob("*.yaml"))

Golden = Callable[[Path, str], None]


def _dump(data: Any) -> str:
    # Absolute paths differ per checkout and user: goldens show <repo> and ~ instead.
    text = json.dumps(data, indent=2, ensure_ascii=False).replace(str(REPO), "<repo>")
    return text.replace(str(Path.home()), "~") + "\n"


def _pinned(spec: Spec) -> dict[str, Any]:
    data: dict[str, Any] = {"spec": spec.to_dict()}
    # A fingerprint covers absolute local paths, so it is only stable without them.
    if spec.workdir is None and not spec.file_mounts:
        data["fingerprint"] = spec.fingerprint()
    return data


def test_there_are_examples() -> None:
    assert {p.name for p in EXAMPLES} >= {"hello.yaml", "train_multinode.yaml"}
    assert {p.name for p in SKYPILOT} == {"basic_cluster.yaml", "basic_managed_job.yaml"}
    assert {p.name for p in STACKS} >= {"dev.yaml", "prod.yaml"}


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_golden(path: Path, golden: Golden) -> None:
    golden(GOLDEN / f"example-{path.stem}.json", _dump(_pinned(load_task(path))))


@pytest.mark.parametrize("path", SKYPILOT, ids=[p.stem for p in SKYPILOT])
def test_skypilot_recipe_validates_unchanged(path: Path, golden: Golden) -> None:
    golden(GOLDEN / f"skypilot-{path.stem}.json", _dump(_pinned(load_task(path))))


@pytest.mark.parametrize("path", STACKS, ids=[p.stem for p in STACKS])
def test_stack_golden(path: Path, golden: Golden) -> None:
    stack = load_stack(path)
    spec = load_task(stack.task, stack=stack)
    golden(GOLDEN / f"stack-{path.stem}.json",
           _dump({"stack": stack.to_dict(), **_pinned(spec)}))


def test_hello_is_the_demo() -> None:
    """examples/hello.yaml is what `make demo` runs on two local nodes: keep it that way."""
    spec = load_task(REPO / "examples" / "hello.yaml")
    assert spec.name == "hello"
    assert spec.num_nodes == 2
    assert spec.resources.cloud is None
    assert spec.workdir is None
    assert spec.resources.cpus is not None and str(spec.resources.cpus) == "1"
    assert spec.run is not None
    for variable in ("$SKYPILOT_NODE_RANK", "$SKYPILOT_NODE_IPS", "$SKYPILOT_NUM_NODES"):
        assert variable in spec.run
    first_line = (REPO / "examples" / "hello.yaml").read_text().splitlines()[0]
    assert first_line == "# yaml-language-server: $schema=../schemas/task.schema.json"
