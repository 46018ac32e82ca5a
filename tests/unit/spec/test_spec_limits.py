"""Limits for untrusted tasks: each has its own located error, enforced before the work."""

from __future__ import annotations

import re
import signal
import tracemalloc
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

import pytest

from styx.errors import SpecError, SpecLimitError
from styx.spec import load_task
from styx.spec._limits import LIMITS

REPO = Path(__file__).parents[3]
MIB = 1024 * 1024
# The issue's bound for rejecting any input up to the size limit.
MAX_PEAK = 150 * MIB


def _task(tmp_path: Path, text: str | bytes, name: str = "task.yaml") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


@contextmanager
def peak_memory() -> Iterator[list[int]]:
    peak = [0]
    tracemalloc.start()
    try:
        yield peak
    finally:
        peak[0] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()


@contextmanager
def hang_guard(seconds: float) -> Iterator[None]:
    def expire(_signum: int, _frame: FrameType | None) -> None:
        raise AssertionError(f"no answer in {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# -- the four causes of "internal error" found by fuzzing -----------------------------------

FUZZ_CAUSES = {
    "chr": ('name: "\\U00110000"\n', 1, 8, "escape is not a Unicode character"),
    "truncate": ("name: \"{{ 'x' | truncate(-1) }}\"\n", 1, 1,
                 "truncate length must be at least 3"),
    "bool": ("name: !!bool maybe\n", 1, 7, "'maybe' is not a YAML boolean"),
    "overflow": ("resources:\n  cpus: 1" + "0" * 400 + "\n", 2, 9, "number too large"),
}


@pytest.mark.parametrize("case", list(FUZZ_CAUSES))
def test_fuzz_causes_are_located_errors(tmp_path: Path, case: str) -> None:
    text, line, column, message = FUZZ_CAUSES[case]
    with pytest.raises(SpecError) as caught:
        load_task(_task(tmp_path, text))
    (issue,) = caught.value.issues
    assert (issue.line, issue.column) == (line, column), issue
    assert message in issue.message
    assert "internal error" not in issue.message


# -- one input per limit: its own error, one located line -----------------------------------


def _envs(count: int) -> str:
    return "envs:\n" + "".join(f"  E{i}: v\n" for i in range(count))


LIMIT_CASES: dict[str, tuple[str | bytes, dict[str, str], int]] = {
    "file_size": (b"name: a\nrun: |\n" + b"  " + b"x" * (300 * 1024) + b"\n", {}, 1),
    "yaml_nodes": (_envs(1_100), {}, 1_000),
    "yaml_values": ("a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a,"
                    " *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
                    "d: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n", {}, 1),
    "yaml_depth": ("name: a\nrun: " + "[" * 70 + "]" * 70 + "\n", {}, 2),
    "list_items": ("name: a\nresources:\n  ports: [" + ", ".join(["80"] * 1_001) + "]\n",
                   {}, 3),
    "int_digits": ("name: a\nnum_nodes: 1" + "0" * 1_001 + "\n", {}, 2),
    "template_output": ("name: a\nrun: |\n{% for i in range(9999) %}  {{ 'x' * 100 }}\n"
                        "{% endfor %}", {}, 1),  # the whole output: no one line
    "template_value": ("name: a\nrun: \"{{ 'x' | indent(3*10**9) }}\"\n", {}, 2),
    "template_loop_steps": ("name: a\n{% for i in range(1000) %}{% for j in range(1000) %}"
                            "{% endfor %}{% endfor %}\n", {}, 2),
    "template_int_bits": ("name: a\nnum_nodes: {{ 2 ** 5000 }}\n", {}, 2),
    "load_time": ("{% macro m(n) %}{% if n %}{{ m(n - 1) }}{{ m(n - 1) }}{% endif %}"
                  "{% endmacro %}\nname: a\nrun: \"{{ m(40) }}\"\n", {}, 1),  # in the macro
}


def test_every_limit_is_exercised() -> None:
    assert set(LIMIT_CASES) == {limit.name for limit in LIMITS}


@pytest.mark.parametrize("name", list(LIMIT_CASES))
def test_each_limit_has_its_own_error(tmp_path: Path, name: str) -> None:
    text, variables, line = LIMIT_CASES[name]
    task = _task(tmp_path, text)
    with pytest.raises(SpecLimitError) as caught:
        load_task(task, variables=variables)
    err = caught.value
    assert err.limit == name
    (issue,) = err.issues
    assert issue.line == line, issue
    assert issue.column is not None and issue.column >= 1
    message = str(err)
    assert "\n" not in message
    assert message.startswith(f"{task}:{line}:")
    assert f"(limit {name}: " in message and "see Limits in the README" in message
    # Again under tracemalloc, which slows Python down: the time limit may come first then.
    with peak_memory() as peak, pytest.raises(SpecLimitError):
        load_task(task, variables=variables)
    assert peak[0] < MAX_PEAK, f"{name}: peak {peak[0] / MIB:.0f} MiB"


def test_under_the_limits_still_loads(tmp_path: Path) -> None:
    # 1,000 list items, 1,000-digit integers and ~250 KiB of file are all fine.
    ports = ", ".join(str(8000 + i) for i in range(1_000))
    comment = "# " + "x" * (240 * 1024) + "\n"
    task = _task(tmp_path, f"{comment}name: a\nresources:\n  ports: [{ports}]\n"
                           f"envs:\n  BIG: 1{'0' * 999}\nrun: echo\n")
    spec = load_task(task)
    assert [(p.start, p.end) for p in spec.resources.ports] == [(8000, 8999)]
    assert spec.envs["BIG"] == "1" + "0" * 999


# -- the issue's reproductions --------------------------------------------------------------


@pytest.mark.parametrize("template", ["{{ 'x' | indent(3*10**9) }}",
                                      "{{ 'x' | center(3*10**9) }}",
                                      "{{ '%3000000000s' | format('x') }}",
                                      "{{ '{:>3000000000}'.format('x') }}",
                                      "{{ 'x'.ljust(3*10**9) }}",
                                      "{{ (['x' * 200000] * 10000) | join }}",
                                      "{{ ['x' * 200000, 'y'] | map('center', 200000) | join }}",
                                      "{{ ('x' * 200000) | replace('x', 'yy') }}"])
def test_template_cannot_allocate_gigabytes(tmp_path: Path, template: str) -> None:
    task = _task(tmp_path, f'name: "{template}"\n')
    with peak_memory() as peak, pytest.raises(SpecLimitError, match="limit template_value"):
        load_task(task)
    assert peak[0] < MAX_PEAK


def test_a_huge_list_is_refused_early_and_for_what_it_is(tmp_path: Path) -> None:
    # The issue's 1 MiB file of 349,000 items, then the same shape just under the size limit.
    big = _task(tmp_path, "name: a\nrun: x\nenvs:\n  A: [" + "1," * 349_000 + "1]\n", "big.yaml")
    with pytest.raises(SpecLimitError, match="limit file_size") as caught:
        load_task(big)
    assert "aliases" not in str(caught.value)
    dense = _task(tmp_path, "name: a\nresources:\n  any_of: [" + "{}," * 80_000 + "{}]\n")
    with pytest.raises(SpecLimitError) as caught:
        load_task(dense)
    assert caught.value.limit == "list_items"
    assert re.search(r"task\.yaml:3:\d+: list has more than 1,000 items", str(caught.value))
    with peak_memory() as peak, pytest.raises(SpecLimitError):
        load_task(dense)
    assert peak[0] < MAX_PEAK


def test_deep_flow_nesting_is_refused_by_the_scanner(tmp_path: Path) -> None:
    # Open brackets made ruamel's scanner quadratic before any node existed: 5,000 took
    # seconds, these 100,000 would take hours (the alarm is only a hang guard).
    task = _task(tmp_path, "name: a\nrun: " + "[" * 100_000 + "]" * 100_000 + "\n")
    with hang_guard(60), pytest.raises(SpecLimitError,
                                       match=r"task\.yaml:2:70: nested more than 64 levels"):
        load_task(task)


def test_a_redefined_anchor_prints_nothing(tmp_path: Path) -> None:
    # Found by bench/fuzz_tasks.py: ruamel warned in a dozen lines on stderr.
    task = _task(tmp_path, "a: &x 1\nb: &x 2\nname: *x\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(SpecError, match="unknown field"):
            load_task(task)
    assert [str(w.message) for w in caught] == []


def test_thirty_thousand_candidates_are_refused(tmp_path: Path) -> None:
    task = _task(tmp_path, "resources:\n  any_of:\n" + "    - {cpus: 2}\n" * 30_000)
    with pytest.raises(SpecLimitError):  # file_size or list_items, whichever comes first
        load_task(task)
    task = _task(tmp_path, "resources:\n  any_of:\n" + "    - {}\n" * 1_001)
    with pytest.raises(SpecLimitError, match=r"task\.yaml:1003:7: .*limit list_items"):
        load_task(task)


# -- the bounded sandbox still renders what templates normally do ---------------------------


def test_bounded_filters_keep_their_meaning(tmp_path: Path) -> None:
    template = ("{{ 'a\\nb' | indent(2) }}|{{ 'x' | center(5) }}|{{ 'hello world' | "
                "truncate(5, leeway=0) }}|{{ '%05d' | format(42) }}|{{ '{:>4}'.format('r') }}|"
                "{{ range(3) | map('string') | join('-') }}|{{ 'abc' | replace('b', 'xx') }}|"
                "{{ [1, 2, 3] | batch(2, 0) | list }}|{{ [[1], [2]] | sum(start=[]) }}|"
                "{{ 'x' ~ 1 }}|{{ 2 ** 10 }}|{{ '%s-%d' % ('a', 3) }}|{{ [1] + [2] }}|"
                "{{ 'a b c' | wordwrap(2) | replace('\\n', '/') }}")
    task = _task(tmp_path, f"name: a\nrun: |\n  {template}\n")
    assert load_task(task, variables={"v": "1"}).run == (
        "a\nb|  x  |he...|00042|   r|0-1-2|axxc|[[1, 2], [3, 0]]|[1, 2]|x1|1024|a-3|"
        "[1, 2]|a/b/c\n")


# -- the README documents each limit, with the same value -----------------------------------


def test_readme_limits_table_matches_the_code() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n### Limits", 1)[1].split("\n#", 1)[0]
    rows = {m.group(1): m.group(2) for m in
            re.finditer(r"^\| `([a-z_]+)` \| ([^|]+?) \|", section, re.MULTILINE)}
    assert rows == {limit.name: str(limit) for limit in LIMITS}
