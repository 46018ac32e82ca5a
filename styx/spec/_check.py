"""Check whole task files: every problem in one run, in one task or in each task of a pipeline."""

from __future__ import annotations

import copy
from dataclasses import replace
from pathlib import Path
from typing import Any, Final

from styx.errors import SpecIssue
from styx.spec._build import Overrides, build_spec, normalize
from styx.spec._model import Spec
from styx.spec._schema import describe_value, failing_paths, schema_issues
from styx.spec._yaml import Document, NodePath

__all__ = ["PIPELINE_HEADER_FIELDS", "check_pipeline", "check_task"]

# A pipeline's or job group's first document may only name it and say how its tasks run.
PIPELINE_HEADER_FIELDS: Final = frozenset(
    {"name", "execution", "primary_tasks", "termination_delay", "placement"})


def _order(issue: SpecIssue) -> tuple[int, int, str]:
    return (issue.line or 0, issue.column or 0, issue.message)


def check_task(document: Document, source: Path, overrides: Overrides,
               base: Path | None) -> tuple[Spec | None, list[SpecIssue]]:
    """The Spec of one task document, or None and every issue: schema and model together.

    The schema's rejections are dropped from the data and the rest is built, so a typo in
    `resources` and a missing workdir (or a wrong cloud beside a wrong field in the same
    block) are reported together, instead of one run of `styx validate` per problem.
    """
    if not isinstance(document.data, dict):
        return None, [document.issue((), "expected a mapping of task fields (name, resources, "
                                         "setup, run, ...) at the top level, got "
                                         + describe_value(document.data))]
    document = replace(document, data=normalize(document.data))
    issues = schema_issues(document, "task")
    if not issues:
        return build_spec(document, source, overrides, base)
    broken = failing_paths(document, "task")
    if () in broken:
        return None, issues
    pruned = _without(document.data, broken)
    _, later = build_spec(replace(document, data=pruned), source, overrides, base)
    return None, sorted({*issues, *later}, key=_order)


def _without(data: dict[str, Any], paths: set[NodePath]) -> dict[str, Any]:
    """A copy of `data` without the keys at `paths` (a bad list item drops its whole list)."""
    result = copy.deepcopy(data)
    for path in sorted(paths, key=len):
        # Walk up to the nearest mapping key: removing a list item would renumber its
        # siblings, and their marks in the file are recorded by index.
        cut = len(path)
        while cut > 0 and isinstance(path[cut - 1], int):
            cut -= 1
        if cut == 0:
            continue
        parent: Any = result
        for part in path[:cut - 1]:
            try:
                parent = parent[part]
            except (KeyError, IndexError, TypeError):
                parent = None
                break
        if isinstance(parent, dict):
            parent.pop(path[cut - 1], None)
    return result


def check_pipeline(documents: list[Document], source: Path, overrides: Overrides,
                   base: Path | None) -> list[SpecIssue]:
    """Every issue of every task in a multi-document file, and, once, that Styx cannot run it.

    SkyPilot reads such a file as a pipeline or a job group (an optional header naming it,
    then one task per document) and runs it as managed jobs, which Styx does not do yet.
    """
    tasks = documents
    first = documents[0].data
    if isinstance(first, dict) and set(first) <= PIPELINE_HEADER_FIELDS:
        tasks = documents[1:]
    issues: list[SpecIssue] = []
    for document in tasks:
        issues += check_task(document, source, overrides, base)[1]
    kind = "job group" if isinstance(first, dict) and "execution" in first else "pipeline"
    issues.append(tasks[0].issue((), f"a {kind} of {len(tasks)} tasks (several YAML documents) "
                                     f"is not supported by Styx yet: SkyPilot runs it as managed "
                                     "jobs; every task in it was checked, each problem is listed"))
    return sorted(set(issues), key=_order)
