"""Render a Plan as a pull-request comment: summary, tables, folded diffs, within a size limit."""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from styx.plan._model import Action, DiffKind, NodeChange, Plan, PropertyChange, Step
from styx.plan._text import display_type

__all__ = ["CI_HEADROOM", "GITHUB_COMMENT_LIMIT", "comment_marker", "render_markdown"]

# GitHub refuses an issue or pull-request comment longer than this.
GITHUB_COMMENT_LIMIT = 65_536
# What a comment leaves for the CI's own first line (examples/ci/plan-comment.js puts a
# hidden marker naming the stack file there, at most 220 characters).
CI_HEADROOM = 512
# Below this the heading, summary and cut notice might not fit together.
_MIN_LIMIT = 4_096

_MAX_NAME = 100  # project, stack, cloud, type and resource names as shown
_MAX_CELL_PATHS = 8  # property paths listed in a table cell before "… k more"
_MAX_CELL_VALUE = 40  # a drift value in a table cell
_MAX_VALUE = 1_000  # a property value in the folded diffs
_MAX_BLOCK_LINES = 100  # property lines per resource in the folded diffs
_MAX_TEXT = 1_000  # a warning or a node change's summary
_MAX_NODES = 10  # node names listed per node change

_ACTION_LABEL = {
    Action.CREATE: "create",
    Action.UPDATE: "update",
    Action.REPLACE: "**replace**",  # destructive actions stand out in a review
    Action.DELETE: "**delete**",
    Action.SAME: "same",
    Action.READ: "read",
}
# What the cut notice counts, in the words it uses, in the order it lists them.
_KINDS = {
    "row": "table rows",
    "node": "node changes",
    "diff": "property diffs",
    "warning": "warnings",
}
_DIFF_SIGN = {DiffKind.ADD: "+", DiffKind.DELETE: "-"}
_MARKER_UNSAFE = re.compile(r"[^A-Za-z0-9_.\-/]")
_CELL_ESCAPES = str.maketrans(
    {
        "\\": "\\\\", "`": "\\`", "*": "\\*", "_": "\\_", "[": "\\[", "]": "\\]",
        "|": "\\|", "$": "\\$", "~": "\\~", "#": "\\#",
        "&": "&amp;", "<": "&lt;", ">": "&gt;",
        "\n": " ", "\r": " ",
    }
)
_BACKTICKS = re.compile(r"`+")


def _size(text: str) -> int:
    """Length as GitHub may count it: UTF-16 code units, never fewer than Python's characters."""
    return len(text.encode("utf-16-le")) // 2


def _clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return f"{text[: limit - 1]}…"


def _esc(text: str, limit: int = _MAX_TEXT) -> str:
    """Plain text that stays plain: no markup, no HTML, no table breaks, no math."""
    return _clip(text, limit).translate(_CELL_ESCAPES)


def _code(text: str, *, table: bool = False, limit: int = _MAX_NAME) -> str:
    """A code span that holds any text: a delimiter longer than any backtick run inside."""
    text = _clip(text, limit).replace("\n", " ").replace("\r", " ")
    if table:
        text = text.replace("|", "\\|")  # GFM splits cells before it reads code spans
    ticks = "`" * (max((len(run) for run in _BACKTICKS.findall(text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def _fence(lines: Sequence[str]) -> tuple[str, str]:
    longest = max((len(run) for line in lines for run in _BACKTICKS.findall(line)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}diff", ticks


def _json(value: Any, limit: int) -> str:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text) - limit:,} more characters)"


def _money(value: float) -> str:
    return f"${value:,.2f}/h" if math.isfinite(value) else f"${value}/h"


def comment_marker(project: str, stack: str) -> str:
    """The hidden first line by which CI finds, and then updates, its own plan comment."""
    name = _MARKER_UNSAFE.sub("-", f"{project[:_MAX_NAME]}/{stack[:_MAX_NAME]}")
    return f"<!-- styx-plan: {name} -->"


@dataclass(frozen=True)
class _Item:
    """One atomic piece of a section: kept or cut whole, so no cut lands inside markup."""

    kind: str  # what the cut notice counts it as: one of _KINDS
    text: str


@dataclass(frozen=True)
class _Section:
    head: str
    items: tuple[_Item, ...]
    tail: str = ""
    rank: int = 0  # sections with a lower rank keep their items first


def _paths_cell(changes: Sequence[PropertyChange]) -> str:
    parts = []
    for change in changes[:_MAX_CELL_PATHS]:
        sign = _DIFF_SIGN.get(change.kind, "")
        forced = " (forces replacement)" if change.replaces else ""
        parts.append(f"{sign}{_esc(change.path, _MAX_NAME)}{forced}")
    if len(changes) > _MAX_CELL_PATHS:
        parts.append(f"… {len(changes) - _MAX_CELL_PATHS} more")
    return ", ".join(parts)


def _drift_cell(changes: Sequence[PropertyChange]) -> str:
    parts = [
        f"{_esc(c.path, _MAX_NAME)}: {_code(_json(c.old, _MAX_CELL_VALUE), table=True)} → "
        f"{_code(_json(c.new, _MAX_CELL_VALUE), table=True)}"
        for c in changes[:_MAX_CELL_PATHS]
    ]
    if len(changes) > _MAX_CELL_PATHS:
        parts.append(f"… {len(changes) - _MAX_CELL_PATHS} more")
    return "<br>".join(parts)


def _row(label: str, step: Step, what: str) -> str:
    kind = _code(display_type(step.type), table=True)
    return f"| {label} | {kind} | {_code(step.name, table=True)} | {what or '—'} |\n"


def _step_row(step: Step) -> str:
    what = _paths_cell(step.changes)
    # A reason already listed as a property that forces replacement needs no second mention.
    forced = {c.path for c in step.changes[:_MAX_CELL_PATHS] if c.replaces}
    reasons = [r for r in step.replace_reasons if r not in forced][:_MAX_CELL_PATHS]
    if reasons:
        because = "because of " + ", ".join(_esc(r, _MAX_NAME) for r in reasons)
        what = f"{because}; {what}" if what else because
    return _row(_ACTION_LABEL[step.action], step, what)


def _drift_label(step: Step) -> str:
    return "gone" if step.action is Action.DELETE else "drifted"


def _diff_lines(change: PropertyChange) -> list[str]:
    forced = "  (forces replacement)" if change.replaces else ""
    path = change.path.replace("\n", " ").replace("\r", " ")
    old, new = _json(change.old, _MAX_VALUE), _json(change.new, _MAX_VALUE)
    if change.kind is DiffKind.ADD:
        return [f"+ {path}: {new}{forced}"]
    if change.kind is DiffKind.DELETE:
        return [f"- {path}: {old}{forced}"]
    return [f"- {path}: {old}", f"+ {path}: {new}{forced}"]


def _diff_block(label: str, step: Step) -> str:
    lines = [line for c in step.changes[:_MAX_BLOCK_LINES] for line in _diff_lines(c)]
    if len(step.changes) > _MAX_BLOCK_LINES:
        lines.append(f"  … {len(step.changes) - _MAX_BLOCK_LINES} more properties")
    opening, closing = _fence(lines)
    title = f"{label} {_code(display_type(step.type))} {_code(step.name)}"
    if step.replace_reasons:
        title += " because of " + ", ".join(_esc(r, _MAX_NAME) for r in step.replace_reasons)
    body = "\n".join(lines)
    return f"{title}\n\n{opening}\n{body}\n{closing}\n\n"


def _node_line(change: NodeChange) -> str:
    shown = ", ".join(_esc(n, _MAX_NAME) for n in change.nodes[:_MAX_NODES])
    if len(change.nodes) > _MAX_NODES:
        shown += f", … {len(change.nodes) - _MAX_NODES} more"
    where = f" ({shown})" if shown else ""
    return f"- {_esc(change.summary)}{where}\n"


def _table_head(title: str, first: str) -> str:
    return f"\n#### {title}\n\n| {first} | Type | Name | What changes |\n|---|---|---|---|\n"


def _sections(plan: Plan) -> list[_Section]:
    """The cuttable body, in display order; `rank` says what is kept first when space runs out."""
    steps = plan.changes
    diffs = [_Item("diff", _diff_block(f"**{_drift_label(s)}**", s)) for s in plan.drift
             if s.changes]
    diffs += [_Item("diff", _diff_block(f"**{s.action.value}**", s)) for s in steps if s.changes]
    return [
        _Section(
            "\n#### Warnings\n\n",
            tuple(_Item("warning", f"- {_esc(w)}\n") for w in plan.warnings),
            rank=0,
        ),
        _Section(
            _table_head("Drift (changed outside Styx, found by refresh)", "State"),
            tuple(_Item("row", _row(_drift_label(s), s, _drift_cell(s.changes)))
                  for s in plan.drift),
            rank=1,
        ),
        _Section(
            _table_head("Infrastructure", "Action"),
            tuple(_Item("row", _step_row(s)) for s in steps),
            rank=3,
        ),
        _Section(
            "\n#### Nodes\n\n",
            tuple(_Item("node", _node_line(c)) for c in plan.node_changes),
            rank=2,
        ),
        _Section(
            "\n<details><summary>Property changes</summary>\n\n",
            tuple(diffs),
            tail="</details>\n",
            rank=4,
        ),
    ]


def _head(plan: Plan) -> str:
    where = _code(f"{plan.project[:_MAX_NAME]}/{plan.stack[:_MAX_NAME]}", limit=2 * _MAX_NAME + 1)
    lines = [
        comment_marker(plan.project, plan.stack),
        f"### Styx plan for {where} on {_esc(plan.cloud, _MAX_NAME)}",
        "",
        f"**{_code(plan.summary(), limit=len(plan.summary()))}**",
        "",
    ]
    facts = [f"stack version {plan.stack_version}"]
    if plan.spec_hash:
        facts.append(f"spec {_code(plan.spec_hash[:12])}")
    if plan.git_commit:
        facts.append(f"commit {_code(plan.git_commit[:12])}")
    cost = f"{_money(plan.cost_before)} → {_money(plan.cost_after)}"
    delta = plan.cost_after - plan.cost_before
    if delta:
        cost += f" ({'+' if delta > 0 else '-'}{_money(abs(delta))})"
    facts.append(f"cost {_code(cost, limit=len(cost))}")
    lines.append("Made against " + " · ".join(facts))
    if not plan.has_changes:
        lines += ["", "No changes. The cluster matches the task."]
    return "\n".join(lines) + "\n"


def _section_text(section: _Section, items: Iterable[_Item]) -> str:
    body = "".join(item.text for item in items)
    return f"{section.head}{body}{section.tail}" if body else ""


def _notice(cut: Mapping[str, int], total: Mapping[str, int], chars: int) -> str:
    """What was left out, counted per kind of piece: "851 of 1,500 table rows", and so on."""
    parts = [
        f"{cut[kind]:,} of {total[kind]:,} {words}"
        for kind, words in _KINDS.items()
        if cut.get(kind)
    ]
    return (
        f"\n… not shown, to fit GitHub's comment limit: {', '.join(parts)} "
        f"({chars:,} characters cut); run `styx plan` for the full plan\n"
    )


def render_markdown(plan: Plan, *, limit: int = GITHUB_COMMENT_LIMIT - CI_HEADROOM) -> str:
    """The plan as a pull-request comment, never longer than `limit` characters.

    The default leaves CI_HEADROOM characters under GitHub's limit for the CI's own line.

    The marker, heading and summary always stay. When the whole plan does not fit, whole
    pieces are cut — folded diffs first, then table rows, node changes, drift, warnings last —
    and a closing line counts what was cut of each kind (table rows, node changes, property
    diffs, warnings) against how many there were, and how many characters went.
    """
    if limit < _MIN_LIMIT:
        raise ValueError(f"limit must be at least {_MIN_LIMIT} characters, not {limit}")
    plan = plan.sorted()
    head = _head(plan)
    sections = _sections(plan)
    full = head + "".join(_section_text(s, s.items) for s in sections)
    if _size(full) <= limit:
        return full
    total = Counter(item.kind for s in sections for item in s.items)
    # The longest the notice can be: everything cut, the whole plan's size.
    budget = limit - _size(head) - _size(_notice(total, total, _size(full)))
    kept: dict[int, list[_Item]] = {id(s): [] for s in sections}
    for section in sorted(sections, key=lambda s: s.rank):
        frame = _size(section.head) + _size(section.tail)
        for item in section.items:
            cost = _size(item.text) + (0 if kept[id(section)] else frame)
            # Skip, don't stop: one huge diff must not hide the small ones after it.
            if cost <= budget:
                kept[id(section)].append(item)
                budget -= cost
    shown = {id(item) for items in kept.values() for item in items}
    cut = Counter(item.kind for s in sections for item in s.items if id(item) not in shown)
    body = head + "".join(_section_text(s, kept[id(s)]) for s in sections)
    return body + _notice(cut, total, _size(full) - _size(body))
