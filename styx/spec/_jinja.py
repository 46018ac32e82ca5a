"""Jinja2 rendering of a task file, bounded: imported only for files that use templates."""

from __future__ import annotations

import re
import traceback
from collections.abc import Mapping
from typing import Any

import jinja2
import jinja2.nodes

from styx.errors import SpecError, SpecIssue
from styx.spec._limits import TEMPLATE_OUTPUT, Budget, OverLimit, limit_error
from styx.spec._sandbox import BoundedEnvironment, bound_template

__all__ = ["render_jinja"]


def render_jinja(text: str, variables: Mapping[str, str], display: str,
                 budget: Budget | None = None) -> tuple[str, bool]:
    """Render the file as a Jinja2 template when it is one; returns (text, rendered).

    Without variables a file is only a template if its Jinja syntax parses: SkyPilot task
    files often contain literal `{{` in shell commands (docker --format '{{.Names}}').
    Rendering is bounded (see _sandbox and _limits): a limit reached is a SpecLimitError
    on the template line that reached it.
    """
    env = BoundedEnvironment(budget or Budget())
    try:
        tree = env.parse(text)
    except jinja2.TemplateSyntaxError as err:
        if not variables:
            return text, False
        raise SpecError([SpecIssue(display, err.lineno or 1, 1, None,
                                   f"template syntax error: {err.message}")]) from None
    except (RecursionError, ValueError, MemoryError) as err:
        # A 5,000-digit literal or 10,000 nested brackets: Jinja's parser gives up.
        if not variables:
            return text, False
        raise SpecError([SpecIssue(display, 1, 1, None,
                                   f"template syntax error: {_reason(err)}")]) from None
    if not variables and not _has_jinja(tree):
        return text, False
    missing: list[str] = []
    env.undefined = _recording_undefined(missing)
    try:
        rendered = _render(env.from_string(bound_template(tree)), variables)
    except OverLimit as err:
        raise limit_error(err.limit, display, _template_line(err), 1, None, err.message) \
            from None
    except jinja2.TemplateError as err:
        if missing:  # `{{ x + 1 }}` fails on x; say which variable, like the other cases
            raise SpecError([_missing_issue(n, text, display) for n in dict.fromkeys(missing)]) \
                from None
        line = getattr(err, "lineno", None) or _template_line(err)
        raise SpecError([SpecIssue(display, line, 1, None, f"template error: {err}")]) from None
    except Exception as err:  # any other failure of the template's own code is its error
        raise SpecError([SpecIssue(display, _template_line(err), 1, None,
                                   f"template error: {_reason(err)}")]) from None
    if missing:
        raise SpecError([_missing_issue(name, text, display) for name in dict.fromkeys(missing)])
    return rendered, True


def _reason(err: BaseException) -> str:
    text = str(err).splitlines()[0] if str(err) else ""
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


def _template_line(err: BaseException) -> int:
    """The template line that raised: Jinja rewrites tracebacks to show template lines."""
    line = 1
    for frame in traceback.extract_tb(err.__traceback__):
        if frame.filename == "<template>" and frame.lineno:
            line = frame.lineno
    return line


def _render(template: jinja2.Template, variables: Mapping[str, str]) -> str:
    """Render, stopping as soon as the output outgrows what a task file may be."""
    parts: list[str] = []
    size = 0
    for chunk in template.generate(dict(variables)):
        size += len(chunk)
        if size > TEMPLATE_OUTPUT.value:
            raise OverLimit(TEMPLATE_OUTPUT,
                            f"rendered template is larger than {TEMPLATE_OUTPUT}")
        parts.append(chunk)
    return "".join(parts)


def _has_jinja(tree: jinja2.nodes.Template) -> bool:
    """Whether the parsed template does anything beyond emitting its own text."""
    for node in tree.body:
        if not isinstance(node, jinja2.nodes.Output):
            return True
        if any(not isinstance(child, jinja2.nodes.TemplateData) for child in node.nodes):
            return True
    return False


def _recording_undefined(missing: list[str]) -> type[jinja2.Undefined]:
    """An Undefined that notes every unset variable a template uses, so all are reported."""

    class Recording(jinja2.Undefined):
        __slots__ = ()

        def _note(self) -> None:
            if self._undefined_name is not None:
                missing.append(self._undefined_name)

        def __str__(self) -> str:
            self._note()
            return ""

        def __bool__(self) -> bool:
            self._note()
            return False

        def __iter__(self) -> Any:
            self._note()
            return iter(())

        def _fail_with_undefined_error(self, *args: Any, **kwargs: Any) -> Any:
            self._note()
            return super()._fail_with_undefined_error(*args, **kwargs)

    return Recording


def _missing_issue(name: str, text: str, display: str) -> SpecIssue:
    line, column = 1, 1
    found = re.search(r"\{[{%][^}]*?\b(" + re.escape(name) + r")\b", text)
    if found is not None:
        before = text[: found.start(1)]
        line = before.count("\n") + 1
        column = found.start(1) - (before.rfind("\n") + 1) + 1
    return SpecIssue(display, line, column, None,
                     f"template variable {name!r} has no value; pass --var {name}=VALUE "
                     "or set it under `vars:` in the stack file")
