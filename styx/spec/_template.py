"""Jinja2 variables for parameterised task files, SkyPilot's ${VAR} substitution, dotenv files."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Final

from styx.errors import SpecError, SpecIssue
from styx.spec._limits import Budget
from styx.spec._yaml import read_text

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


def render_template(text: str, variables: Mapping[str, str], display: str,
                    budget: Budget | None = None) -> tuple[str, bool]:
    """Render the file as a Jinja2 template when it is one; returns (text, rendered).

    A file with no variables and no `{{`/`{%` is not a template, and Jinja is not even
    imported for it (start-up of `styx validate`, issue 17); see _jinja for the rest.
    """
    if not variables and "{{" not in text and "{%" not in text:
        return text, False
    from styx.spec._jinja import render_jinja  # Jinja is imported only for templates

    return render_jinja(text, variables, display, budget)


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
