"""The pull-request renderer: golden output, escaping, and the size limit with its cut notice."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from styx.plan import (
    GITHUB_COMMENT_LIMIT,
    Action,
    DiffKind,
    NodeChange,
    Plan,
    PropertyChange,
    Step,
    comment_marker,
    render,
    render_markdown,
)

GOLDEN = Path(__file__).parent / "golden"
NODE = "pulumi-python:dynamic/styx-local:Node"
NOTICE = re.compile(
    r"\n… not shown, to fit GitHub's comment limit: (?P<parts>[^(]+) "
    r"\((?P<chars>[\d,]+) characters cut\); run `styx plan` for the full plan\n$"
)
PART = re.compile(r"([\d,]+) of ([\d,]+) (table rows|node changes|property diffs|warnings)")


def cut_counts(text: str) -> dict[str, tuple[int, int]]:
    """{kind: (cut, total)} as the cut notice states them."""
    found = NOTICE.search(text)
    assert found is not None, text[-300:]
    parts = found["parts"].split(", ")
    counts = {}
    for part in parts:
        match = PART.fullmatch(part)
        assert match is not None, part
        counts[match[3]] = (int(match[1].replace(",", "")), int(match[2].replace(",", "")))
    return counts
UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")


def big_plan(nodes: int = 300, value_size: int = 400) -> Plan:
    """A plan that creates `nodes` nodes, each with several long property values."""
    steps = tuple(
        Step(
            Action.CREATE,
            NODE,
            f"big-worker{i}",
            f"urn:pulumi:big::styx::{NODE}::big-worker{i}",
            tuple(
                PropertyChange(f"prop{j}", DiffKind.ADD, None, f"{i}-{j}-" + "x" * value_size)
                for j in range(5)
            ),
        )
        for i in range(nodes)
    )
    names = tuple(f"worker{i}" for i in range(nodes))
    return Plan(
        "styx",
        "big",
        "local",
        steps,
        node_changes=(NodeChange("nodes", f"{nodes} new nodes: setup runs there", names, True),),
        cost_after=1.53,
        warnings=("a warning",),
        stack_version=1,
        setup_nodes=names,
    )


def assert_well_formed(text: str) -> None:
    """Balanced <details> and code fences, and every table row with exactly four cells."""
    assert text.count("<details>") == text.count("</details>") <= 1
    fences = [line for line in text.splitlines() if line.startswith("```")]
    assert len(fences) % 2 == 0
    for line in text.splitlines():
        if line.startswith("|"):
            assert len(UNESCAPED_PIPE.findall(line)) == 5, line


def test_markdown_golden(golden: Callable[[Path, str], None], review: Plan) -> None:
    golden(GOLDEN / "plan.md", render_markdown(review))


def test_marker_heading_and_summary_lead(review: Plan) -> None:
    lines = render_markdown(review).splitlines()
    assert lines[0] == comment_marker("styx", "hello") == "<!-- styx-plan: styx/hello -->"
    assert "`styx/hello`" in lines[1]
    assert lines[3] == f"**`{review.summary()}`**"


def test_values_are_escaped(review: Plan) -> None:
    text = render_markdown(review)
    assert "<script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; \\| \\*not\\* emphasis" in text
    assert_well_formed(text)


def test_marker_cannot_close_the_comment_early() -> None:
    marker = comment_marker("a-->b", "c <x>")
    assert marker.count("-->") == 1 and "<x>" not in marker


def test_names_with_backticks_and_pipes_stay_in_their_cell() -> None:
    step = Step(Action.CREATE, NODE, "we`ird|name", "urn")
    text = render_markdown(Plan("styx", "s", "local", (step,)))
    assert "| ``we`ird\\|name`` |" in text
    assert_well_formed(text)


def test_no_changes_says_so() -> None:
    plan = Plan("styx", "hello", "local", steps=(Step(Action.SAME, NODE, "h", "u"),))
    text = render_markdown(plan)
    assert "No changes. The cluster matches the task." in text
    assert "#### Infrastructure" not in text and "<details>" not in text


def test_300_nodes_fit_with_summary_table_and_cut_notice() -> None:
    plan = big_plan()
    text = render_markdown(plan)
    assert len(text) <= GITHUB_COMMENT_LIMIT
    assert plan.summary() in text
    assert_well_formed(text)
    # Folded diffs go first: every table row and the warning survive.
    assert sum(line.startswith("| create |") for line in text.splitlines()) == 300
    assert "- a warning" in text
    found = NOTICE.search(text)
    assert found is not None
    full = render_markdown(plan, limit=10**8)
    assert int(found["chars"].replace(",", "")) == len(full) - (len(text) - len(found[0]))


def test_cut_keeps_whole_blocks_at_every_limit(review: Plan) -> None:
    full = render_markdown(review)
    assert len(full) < 4_096 and render_markdown(review, limit=4_096) == full  # nothing cut
    plan = big_plan(nodes=40, value_size=60)
    full = render_markdown(plan, limit=10**8)
    assert render_markdown(plan, limit=len(full)) == full
    assert NOTICE.search(render_markdown(plan, limit=len(full) - 1)) is not None
    for limit in range(4_096, len(full), 997):
        text = render_markdown(plan, limit=limit)
        assert len(text) <= limit and plan.summary() in text
        assert_well_formed(text)
        assert NOTICE.search(text) is not None
        for block in text.split("**create** ")[1:]:  # every diff shown is shown whole
            assert block.count("+ prop") == 5


def test_the_notice_counts_what_was_cut_of_each_kind() -> None:
    text = render_markdown(big_plan(nodes=300, value_size=400))
    shown_diffs = text.count("**create** ")
    assert cut_counts(text) == {"property diffs": (300 - shown_diffs, 300)}


def test_the_notice_counts_table_rows_apart_from_diffs() -> None:
    # 1,500 creates with long names: only part of the table fits, and none of the diffs.
    plan = big_plan(nodes=1_500, value_size=400)
    plan = replace(plan, steps=tuple(replace(s, name=s.name + "-" + "n" * 40) for s in plan.steps))
    text = render_markdown(plan)
    rows = sum(line.startswith("| create |") for line in text.splitlines())
    assert 0 < rows < 1_500
    counts = cut_counts(text)
    assert counts["table rows"] == (1_500 - rows, 1_500)
    assert counts["property diffs"] == (1_500, 1_500)
    assert f"{1_500 - rows:,} of 1,500 table rows" in text


def test_one_huge_diff_does_not_hide_the_small_ones() -> None:
    huge = Step(
        Action.UPDATE,
        NODE,
        "huge",
        "u1",
        tuple(PropertyChange(f"p{j}", DiffKind.UPDATE, "a" * 900, "b" * 900) for j in range(60)),
    )
    small = Step(
        Action.UPDATE,
        NODE,
        "small",
        "u2",
        (PropertyChange("state", DiffKind.UPDATE, "stopped", "running"),),
    )
    text = render_markdown(Plan("styx", "s", "local", (huge, small)), limit=20_000)
    assert '+ state: "running"' in text
    assert "**update** `styx-local:Node` `huge`" not in text
    assert cut_counts(text) == {"property diffs": (1, 2)}


def test_long_values_and_node_lists_are_clipped() -> None:
    step = Step(
        Action.UPDATE,
        NODE,
        "n",
        "u",
        (PropertyChange("script", DiffKind.UPDATE, "x", "y" * 5_000),),
    )
    nodes = tuple(f"w{i}" for i in range(25))
    plan = Plan("styx", "s", "local", (step,), (NodeChange("setup", "setup changed", nodes),))
    text = render_markdown(plan)
    assert "(4,002 more characters)" in text
    assert "w9, … 15 more)" in text


def test_limit_has_a_floor() -> None:
    with pytest.raises(ValueError, match="at least"):
        render_markdown(big_plan(nodes=1), limit=100)


def test_render_dispatches_by_format(review: Plan) -> None:
    assert render(review, "markdown") == render_markdown(review)
    assert render(review, "text").startswith("Stack styx/hello")
    assert render(review, "json").startswith("{\n")
    with pytest.raises(ValueError, match="unknown plan format"):
        render(review, "yaml")  # type: ignore[arg-type]
