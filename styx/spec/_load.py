"""load_task: file -> template -> YAML -> schema -> Spec, with every problem located."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from styx.errors import SpecError
from styx.spec._build import Overrides
from styx.spec._check import check_pipeline, check_task
from styx.spec._limits import Budget
from styx.spec._model import FrozenMap, Spec
from styx.spec._places import places_of
from styx.spec._stack import StackFile, apply_stack
from styx.spec._template import parse_env_file, render_template
from styx.spec._yaml import internal_issue, parse_yaml_documents, read_text

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
    paths_base: Path | None = None,
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
                     stack, paths_base)
    except SpecError:
        raise
    except Exception as err:  # the promise: bad input never ends in a traceback
        raise SpecError([internal_issue(display, err)]) from err
    return spec


def _load(display: str, path: Path, env_overrides: Mapping[str, str], env_file: Path | None,
          variables: Mapping[str, str], secret_overrides: Mapping[str, str],
          stack: StackFile | None, paths_base: Path | None) -> Spec:
    source = Path(os.path.abspath(path.expanduser()))
    original = read_text(source, display)
    envs: dict[str, str] = dict(stack.envs) if stack is not None else {}
    if env_file is not None:
        envs.update(parse_env_file(env_file))
    envs.update(env_overrides)
    merged_vars = {**(stack.variables if stack is not None else {}), **variables}
    # One CPU budget for the two stages that untrusted input can make slow.
    budget = Budget()
    text, rendered = render_template(original, merged_vars, display, budget)
    shifted = rendered and text.count("\n") != original.count("\n")
    documents = parse_yaml_documents(text, display, note=_RENDERED_NOTE if shifted else "",
                                     budget=budget)
    overrides = Overrides(envs=envs, secrets=dict(secret_overrides))
    base = paths_base or (stack.paths_base if stack is not None else None)
    if len(documents) > 1:
        raise SpecError(check_pipeline(documents, source, overrides, base))
    spec, issues = check_task(documents[0], source, overrides, base)
    if spec is None:
        raise SpecError(issues)
    spec = replace(spec, places=FrozenMap(places_of(documents[0])))
    return spec if stack is None else apply_stack(spec, stack)
