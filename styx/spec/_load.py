"""load_task: file -> template -> YAML -> schema -> Spec, with every problem located."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from styx.errors import SpecError, SpecIssue
from styx.spec._build import Overrides, build_spec, normalize
from styx.spec._model import FrozenMap, Spec
from styx.spec._places import places_of
from styx.spec._schema import describe_value, schema_issues
from styx.spec._stack import StackFile, apply_stack
from styx.spec._template import parse_env_file, render_template
from styx.spec._yaml import Document, internal_issue, parse_yaml, read_text

__all__ = ["load_task"]

_RENDERED_NOTE = " (line numbers refer to the rendered template)"


def load_task(
    path: str | Path,
    *,
    # The {} defaults are read-only (typed Mapping, never mutated), so sharing them is safe.
    env_overrides: Mapping[str, str] = {},
    env_file: Path | None = None,
    variables: Mapping[str, str] = {},
    secret_overrides: Mapping[str, str] = {},
    stack: StackFile | None = None,
) -> Spec:
    """Load, template, validate and parse a task file.

    Envs come from the file, then `stack.envs`, then `env_file`, then `env_overrides` (later
    wins, as SkyPilot's --env-file and --env do); template variables from `stack.variables`,
    then `variables`. With a stack, its cloud and region are put on every candidate.

    Raises SpecError listing every problem found, each with file, line, column and field;
    nothing else escapes, whatever the input.
    """
    display = str(path)
    try:
        spec = _load(display, Path(path), env_overrides, env_file, variables, secret_overrides,
                     stack)
    except SpecError:
        raise
    except Exception as err:  # the promise: bad input never ends in a traceback
        raise SpecError([internal_issue(display, err)]) from err
    return spec


def _load(display: str, path: Path, env_overrides: Mapping[str, str], env_file: Path | None,
          variables: Mapping[str, str], secret_overrides: Mapping[str, str],
          stack: StackFile | None) -> Spec:
    source = Path(os.path.abspath(path.expanduser()))
    original = read_text(source, display)
    envs: dict[str, str] = dict(stack.envs) if stack is not None else {}
    if env_file is not None:
        envs.update(parse_env_file(env_file))
    envs.update(env_overrides)
    merged_vars = {**(stack.variables if stack is not None else {}), **variables}
    text, rendered = render_template(original, merged_vars, display)
    shifted = rendered and text.count("\n") != original.count("\n")
    document = parse_yaml(text, display, note=_RENDERED_NOTE if shifted else "")
    if not isinstance(document.data, dict):
        raise SpecError([document.issue((), "expected a mapping of task fields (name, "
                                            "resources, setup, run, ...) at the top level, got "
                                            + describe_value(document.data))])
    document = replace(document, data=normalize(document.data))
    overrides = Overrides(envs=envs, secrets=dict(secret_overrides))
    issues = schema_issues(document, "task")
    if issues:
        raise SpecError(_with_later_issues(document, source, overrides, issues))
    spec, issues = build_spec(document, source, overrides)
    if spec is None:
        raise SpecError(issues)
    spec = replace(spec, places=FrozenMap(places_of(document)))
    return spec if stack is None else apply_stack(spec, stack)


def _with_later_issues(document: Document, source: Path, overrides: Overrides,
                       issues: list[SpecIssue]) -> list[SpecIssue]:
    """Schema issues plus what the next stage finds in the fields the schema accepted.

    A typo in `resources` and a missing workdir are then reported together, instead of
    one run of `styx validate` per stage.
    """
    broken = {_top_field(issue) for issue in issues}
    if None in broken:
        return issues
    sound = {k: v for k, v in document.data.items() if k not in broken}
    _, later = build_spec(replace(document, data=sound), source, overrides)
    return sorted({*issues, *later}, key=lambda i: (i.line or 0, i.column or 0, i.message))


def _top_field(issue: SpecIssue) -> str | None:
    match = re.match(r"[^.\[]+", issue.field or "")
    return match.group(0) if match else None
