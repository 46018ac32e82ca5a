"""Jinja2 variables for parameterised task files, SkyPilot's ${VAR} substitution, dotenv files."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Final

import jinja2
import jinja2.nodes
from jinja2.sandbox import SandboxedEnvironment

from styx.errors import SpecError, SpecIssue
from styx.spec._yaml import MAX_BYTES, read_text

__all__ = [
    "ENV_NAME",
    "ENV_REFERENCE",
    "parse_env_file",
    "render_template",
    "substitute_envs",
]

ENV_NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# SkyPilot fills ${VAR} and $VAR from the task's envs and leaves unknown names alone.
ENV_REFERENCE: Final = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")
# Keeps a template from building a huge string or number out of a few characters.
_MAX_PRODUCT: Final = MAX_BYTES
# All the loop iterations one rendering may take, nested loops included.
_MAX_LOOP_STEPS: Final = 100_000
_BOUNDED: Final = "__styx_bounded"


class _Environment(SandboxedEnvironment):
    """The sandbox (no attribute tricks, bounded range()) plus bounded `*` and `**`."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: jinja2.runtime.Context, operator: str,
                   left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, int | float) and abs(right) > 64:
            raise jinja2.exceptions.SecurityError("exponent too large")
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                if isinstance(seq, str | list | tuple) and isinstance(times, int) \
                        and len(seq) * times > _MAX_PRODUCT:
                    raise jinja2.exceptions.SecurityError("repetition too large")
        return super().call_binop(context, operator, left, right)


def render_template(text: str, variables: Mapping[str, str], display: str) -> tuple[str, bool]:
    """Render the file as a Jinja2 template when it is one; returns (text, rendered).

    Without variables a file is only a template if its Jinja syntax parses: SkyPilot task
    files often carry other braces (`docker ps --format '{{.Names}}'`, bash `${#arr[@]}`)
    that are not Jinja and must pass through untouched.
    """
    if not variables and "{{" not in text and "{%" not in text:
        return text, False
    env = _Environment(keep_trailing_newline=True, autoescape=False)
    try:
        tree = env.parse(text)
    except jinja2.TemplateSyntaxError as err:
        if not variables:
            return text, False
        raise SpecError([SpecIssue(display, err.lineno or 1, 1, None,
                                   f"template syntax error: {err.message}")]) from None
    if not variables and not _has_jinja(tree):
        return text, False
    missing: list[str] = []
    env.undefined = _recording_undefined(missing)
    _bound_loops(tree)
    env.globals[_BOUNDED] = _loop_budget(_MAX_LOOP_STEPS)
    try:
        rendered = _render(env.from_string(tree), variables)
    except jinja2.TemplateError as err:
        if missing:  # `{{ x + 1 }}` fails on x; say which variable, like the other cases
            raise SpecError([_missing_issue(n, text, display) for n in dict.fromkeys(missing)]) \
                from None
        line = getattr(err, "lineno", None) or 1
        raise SpecError([SpecIssue(display, line, 1, None, f"template error: {err}")]) from None
    except (ArithmeticError, TypeError, ValueError, LookupError, RecursionError) as err:
        raise SpecError([SpecIssue(display, 1, 1, None,
                                   f"template error: {type(err).__name__}: {err}")]) from None
    if missing:
        raise SpecError([_missing_issue(name, text, display) for name in dict.fromkeys(missing)])
    return rendered, True


def _render(template: jinja2.Template, variables: Mapping[str, str]) -> str:
    """Render, stopping as soon as the output outgrows what a task file may be."""
    parts: list[str] = []
    size = 0
    for chunk in template.generate(dict(variables)):
        size += len(chunk)
        if size > MAX_BYTES:
            raise jinja2.exceptions.SecurityError(
                f"rendered template is larger than {MAX_BYTES // (1024 * 1024)} MiB")
        parts.append(chunk)
    return "".join(parts)


def _bound_loops(tree: jinja2.nodes.Template) -> None:
    """Route every `{% for %}` through one shared step budget.

    The sandbox bounds each range(), not their nesting: two nested loops of 100,000 steps
    would run for hours with no output to stop them.
    """
    for loop in list(tree.find_all(jinja2.nodes.For)):
        loop.iter = jinja2.nodes.Call(jinja2.nodes.Name(_BOUNDED, "load"), [loop.iter], [],
                                      None, None)


def _loop_budget(steps: int) -> Any:
    used = [0]

    def bounded(iterable: Any) -> Iterator[Any]:
        for item in iterable:
            used[0] += 1
            if used[0] > steps:
                raise jinja2.exceptions.SecurityError(f"loops ran more than {steps} steps")
            yield item

    return bounded


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


def substitute_envs(value: str, envs: Mapping[str, str]) -> str:
    """Fill ${VAR} and $VAR from envs, the way SkyPilot does for workdir and file_mounts."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        return envs.get(name, match.group(0))

    return ENV_REFERENCE.sub(replace, value)


def parse_env_file(path: Path) -> dict[str, str]:
    """Read a dotenv file (KEY=VALUE lines, `export`, quotes, # comments) as --env-file does."""
    display = str(path)
    text = read_text(path, display)
    values: dict[str, str] = {}
    issues: list[SpecIssue] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export "):].lstrip()
        key, sep, rest = line.partition("=")
        key = key.strip()
        column = raw.find(key) + 1 if key else 1
        if not sep:
            issues.append(SpecIssue(display, number, column, None, "expected KEY=VALUE"))
            continue
        if not ENV_NAME.fullmatch(key):
            issues.append(SpecIssue(display, number, column, None,
                                    f"invalid variable name {key!r}"))
            continue
        value, problem = _dotenv_value(rest.strip())
        if problem is not None:
            issues.append(SpecIssue(display, number, raw.find("=") + 2, key, problem))
            continue
        values[key] = value
    if issues:
        raise SpecError(issues)
    return values


def _dotenv_value(text: str) -> tuple[str, str | None]:
    if text[:1] in ("'", '"'):
        quote = text[0]
        end = text.find(quote, 1)
        while quote == '"' and end > 0 and text[end - 1] == "\\":
            end = text.find(quote, end + 1)
        if end < 0:
            return "", f"unterminated {quote} quote"
        body = text[1:end]
        if quote == '"':
            body = (body.replace("\\n", "\n").replace("\\t", "\t")
                    .replace('\\"', '"').replace("\\\\", "\\"))
        return body, None
    # An unquoted value ends at a comment that follows whitespace.
    return re.split(r"\s+#", text, maxsplit=1)[0].strip(), None
