"""Benchmark: load thousands of mutated tasks; each is accepted, or rejected on one located line.

Seeds are the task files in examples/ and SkyPilot's own tasks in ../shared/skypilot-corpus/
tasks (read where they are, never copied). Each case applies one to four mutations of a seed:
text edits (tokens that have broken YAML and Jinja loaders, deleted, repeated or swapped
lines, broken indentation, invalid UTF-8), structural edits (a value replaced by a wrong
type, a huge number, a template bomb; keys added, dropped or moved), growth towards and past
every limit (long lists, deep nesting, files near 256 KiB), and crossovers of two seeds.

Every case is loaded in a worker process, timed (wall and CPU) and its peak memory taken
(how far the resident set rose during the load). The run fails (exit 1) on any internal
error, traceback (an exception other than SpecError), hang (10 s), unlocated error, printed
warning, or a rejection over 1 s of CPU or 150 MB. Times are printed as ratios against loading the
unmutated seeds.

    python bench/fuzz_tasks.py [--count 10000] [--seed 1] [--workers N] [--corpus PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shlex
import signal
import statistics
import sys
import tempfile
import time
import tracemalloc
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from types import FrameType
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from ruamel.yaml import YAML  # noqa: E402 - after the repository is on sys.path

from styx.errors import SpecError, SpecLimitError  # noqa: E402
from styx.spec import load_task  # noqa: E402

DEFAULT_CORPUS = REPO.parent / "shared" / "skypilot-corpus"
MAX_SECONDS = 1.0
MAX_PEAK = 150 * 1024 * 1024
HANG_SECONDS = 10.0

# Pieces that have broken YAML and Jinja loaders, spliced in anywhere.
TOKENS = [
    "{{", "}}", "{%", "%}", "{#", "&a ", "*a", "<<: *a\n", "!!bool ", "!!binary ", "!!int ",
    "!!float ", "!!timestamp ", "!!python/object ", "!!set ", '"\\U00110000"', '"\\uD800"',
    '"\\x00"', ": ", "- ", "[", "]", "{", "}", '"', "'", "|", ">", "#", "\t", "\n", "---\n",
    "...\n", "? ", "%YAML 1.2\n", "\x00", "\ufeff", "\u2028", "😀", "1e309", "-1", ".nan",
    "0x" + "f" * 40, "1" + "0" * 400, "0b" + "1" * 3000, "~", "null", "yes", "off", "${A}",
    "$HOME", "../", "/", "*", "8000-7000", "V100:0", "4+", "0.0.0.0/0",
]
# Values put in place of a seed's values.
NASTY: list[Any] = [
    None, True, False, 0, -1, 2**63, 10**400, 1e309, float("nan"), "", " ", "x" * 5000,
    [], {}, [[[]]], {"a": {"b": {"c": None}}}, ["x"] * 50, "4+", "V100:8", "aws/us-east-1",
    "{{ 'x' | indent(3*10**9) }}", "{{ 'x' | center(3*10**9) }}", "{{ 'x' | truncate(-1) }}",
    "{{ '%999999999s' | format(1) }}", "{{ 'x' * 10**9 }}", "{{ range(10**6) | list }}",
    "{{ lipsum(10**6) }}", "{{ 2 ** 100000 }}", "{{ ''.__class__.__mro__ }}",
    "{{ 'x'.ljust(10**9) }}", "{{ '{:>999999999}'.format(1) }}", "{{ x | int }}",
    "{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}{% endfor %}",
    "\\U00110000", "\U0010ffff", "\ud800", "maybe", "1" + "0" * 400, "-" * 300,
]
TEMPLATE_VARIABLES = {"a": "1", "b": "abc", "n": "3", "x": "{{ a }}", "gpu": "V100:1"}


@dataclass(frozen=True)
class Seed:
    name: str
    text: str
    envs: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    variables: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Case:
    seed: str
    data: bytes
    mutations: tuple[str, ...]
    envs: dict[str, str]
    secrets: dict[str, str]
    variables: dict[str, str]


@dataclass(frozen=True)
class Result:
    index: int
    seed: str
    mutations: tuple[str, ...]
    size: int
    outcome: str  # accepted, rejected, internal, traceback, hang, unlocated
    limit: str | None
    wall: float
    cpu: float
    peak: int
    message: str


def load_seeds(corpus: Path | None) -> list[Seed]:
    seeds = [Seed(p.name, p.read_text(encoding="utf-8"))
             for p in sorted((REPO / "examples").glob("*.yaml"))]
    if corpus is None or not (corpus / "tasks").is_dir():
        return seeds
    arguments: dict[str, list[str]] = {}
    manifest = corpus / "manifest.tsv"
    if manifest.is_file():
        for line in manifest.read_text(encoding="utf-8").splitlines():
            if line and not line.startswith("#"):
                name, args, *_ = [*line.split("\t"), ""]
                arguments[name] = shlex.split(args)
    for path in sorted((corpus / "tasks").glob("*.yaml")):
        given: dict[str, dict[str, str]] = {"--env": {}, "--secret": {}, "--var": {}}
        args = arguments.get(path.name, [])
        for flag, value in zip(args[::2], args[1::2], strict=False):
            key, _, val = value.partition("=")
            given.setdefault(flag, {})[key] = val
        seeds.append(Seed(path.name, path.read_text(encoding="utf-8", errors="replace"),
                          given["--env"], given["--secret"], given["--var"]))
    return seeds


class Mutator:
    """Deterministic: case i of a run with seed s is always the same input."""

    def __init__(self, seeds: list[Seed]) -> None:
        self.seeds = seeds
        self.operators: list[Callable[[random.Random, str], str]] = [
            self.splice_token, self.replace_value, self.delete_lines, self.repeat_line,
            self.swap_lines, self.reindent, self.crossover, self.structural, self.grow,
            self.template, self.to_flow,
        ]

    def case(self, run_seed: int, index: int) -> Case:
        rng = random.Random(f"{run_seed}:{index}")
        seed = rng.choice(self.seeds)
        text = seed.text
        names: list[str] = []
        for _ in range(rng.randint(1, 4)):
            operator = rng.choice(self.operators)
            names.append(operator.__name__)
            text = operator(rng, text)
        data = text.encode("utf-8", errors="surrogatepass")
        if rng.random() < 0.05:
            data, name = self.corrupt_bytes(rng, data)
            names.append(name)
        variables = dict(seed.variables)
        if rng.random() < 0.3:
            variables.update(TEMPLATE_VARIABLES)
        return Case(seed.name, data, tuple(names), dict(seed.envs), dict(seed.secrets),
                    variables)

    # -- text ------------------------------------------------------------------------------

    @staticmethod
    def splice_token(rng: random.Random, text: str) -> str:
        at = rng.randint(0, len(text))
        return text[:at] + rng.choice(TOKENS) + text[at:]

    @staticmethod
    def replace_value(rng: random.Random, text: str) -> str:
        spots = list(re.finditer(r"(?m)^(\s*(?:- )?[A-Za-z_][\w.-]*: )(\S.*)$", text))
        if not spots:
            return text
        spot = rng.choice(spots)
        value = rng.choice(NASTY)
        rendered = json.dumps(value) if not isinstance(value, str) or rng.random() < 0.5 \
            else value
        return text[:spot.start(2)] + rendered + text[spot.end(2):]

    @staticmethod
    def delete_lines(rng: random.Random, text: str) -> str:
        lines = text.splitlines(keepends=True)
        if not lines:
            return text
        at = rng.randrange(len(lines))
        del lines[at:at + rng.randint(1, 3)]
        return "".join(lines)

    @staticmethod
    def repeat_line(rng: random.Random, text: str) -> str:
        lines = text.splitlines(keepends=True) or ["x\n"]
        at = rng.randrange(len(lines))
        lines[at:at + 1] = [lines[at]] * rng.choice([2, 3, 10, 100])
        return "".join(lines)

    @staticmethod
    def swap_lines(rng: random.Random, text: str) -> str:
        lines = text.splitlines(keepends=True)
        if len(lines) < 2:
            return text
        a, b = rng.randrange(len(lines)), rng.randrange(len(lines))
        lines[a], lines[b] = lines[b], lines[a]
        return "".join(lines)

    @staticmethod
    def reindent(rng: random.Random, text: str) -> str:
        lines = text.splitlines(keepends=True)
        if not lines:
            return text
        at = rng.randrange(len(lines))
        lines[at] = " " * rng.choice([0, 1, 3, 7, 40]) + lines[at].lstrip(" ")
        return "".join(lines)

    def crossover(self, rng: random.Random, text: str) -> str:
        other = rng.choice(self.seeds).text.splitlines(keepends=True)
        lines = text.splitlines(keepends=True)
        if not other or not lines:
            return text
        start = rng.randrange(len(other))
        at = rng.randrange(len(lines) + 1)
        return "".join(lines[:at] + other[start:start + rng.randint(1, 8)] + lines[at:])

    @staticmethod
    def corrupt_bytes(rng: random.Random, data: bytes) -> tuple[bytes, str]:
        at = rng.randint(0, len(data))
        junk = rng.choice([b"\xff\xfe", b"\xc3", b"\x00", b"\xef\xbb\xbf",
                           bytes([rng.randrange(256)])])
        return data[:at] + junk + data[at:], "corrupt_bytes"

    # -- structure ---------------------------------------------------------------------------

    @staticmethod
    def structural(rng: random.Random, text: str) -> str:
        data = _parse_quietly(text)
        if not isinstance(data, dict) or not data:
            return text
        paths = list(_paths(data, ()))
        path = rng.choice(paths)
        parent: Any = data
        for key in path[:-1]:
            parent = parent[key]
        action = rng.random()
        if action < 0.5:
            parent[path[-1]] = rng.choice(NASTY)
        elif action < 0.7 and isinstance(parent, dict):
            del parent[path[-1]]
        elif action < 0.85:
            moved = parent[path[-1]]
            data[rng.choice(["resources", "any_of", "cpus", str(path[-1]), "x"])] = moved
        else:
            parent[path[-1]] = [parent[path[-1]]] * rng.choice([2, 50, 1_100])
        return json.dumps(data, default=str) if rng.random() < 0.3 else _dump(data)

    @staticmethod
    def grow(rng: random.Random, text: str) -> str:
        """Towards and past the limits: lists, nesting, node counts, file size, integers."""
        kind = rng.choice(["list", "nest", "envs", "big", "int", "aliases"])
        if kind == "list":
            count = rng.choice([999, 1_000, 1_001, 30_000])
            return text + "\nextra_list: [" + ",".join(["1"] * count) + "]\n"
        if kind == "nest":
            depth = rng.choice([60, 64, 65, 70, 5_000])
            return text + "\nnested: " + "[" * depth + "]" * depth + "\n"
        if kind == "envs":
            count = rng.choice([900, 1_001, 3_000])
            return text + "\nenvs:\n" + "".join(f"  V{i}: {i}\n" for i in range(count))
        if kind == "big":
            size = rng.choice([200_000, 262_000, 262_200, 400_000])
            return text + "\n# " + "x" * max(size - len(text), 0) + "\n"
        if kind == "int":
            return text + "\nnum_nodes: 1" + "0" * rng.choice([999, 1_000, 1_001, 5_000]) + "\n"
        fanout = ", ".join(["*a"] * 10)
        return ("a: &a [x, x, x, x, x, x, x, x, x, x]\n"
                + "".join(f"{c}: &{c} [{fanout.replace('*a', '*' + p)}]\n"
                          for p, c in zip("abcde", "bcdef", strict=True)) + text)

    @staticmethod
    def template(rng: random.Random, text: str) -> str:
        bombs = [v for v in NASTY if isinstance(v, str) and "{" in v]
        lines = text.splitlines(keepends=True) or [""]
        at = rng.randrange(len(lines))
        if rng.random() < 0.5:
            lines.insert(at, f"name: \"{rng.choice(bombs)}\"\n")
        else:
            lines.insert(at, rng.choice(["{% if a %}\n", "{% endif %}\n", "{{ a }}\n",
                                         "{% for i in range(n|int) %}\n", "{% endfor %}\n",
                                         "{% macro m(k) %}{{ m(k) }}{% endmacro %}{{ m(1) }}\n",
                                         "{% set s = 'x' * 200000 %}{{ s ~ s }}\n"]))
        return "".join(lines)

    @staticmethod
    def to_flow(rng: random.Random, text: str) -> str:
        data = _parse_quietly(text)
        return text if data is None else json.dumps(data, default=str)


def _parse_quietly(text: str) -> Any:
    """The seed as data, or None; the mutator's own parse prints nothing."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return YAML(typ="safe", pure=True).load(text)
        except Exception:
            return None


def _paths(value: Any, prefix: tuple[Any, ...]) -> Iterator[tuple[Any, ...]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield (*prefix, key)
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield (*prefix, index)
            yield from _paths(item, (*prefix, index))


def _dump(data: Any) -> str:
    import io

    stream = io.StringIO()
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    try:
        yaml.dump(data, stream)
    except Exception:
        return json.dumps(data, default=str)
    return stream.getvalue()


# -- measuring ---------------------------------------------------------------------------------


class Hang(BaseException):
    """Raised by the alarm; a BaseException so that nothing in load_task can catch it."""


@contextmanager
def alarm(seconds: float) -> Iterator[None]:
    def expire(_signum: int, _frame: FrameType | None) -> None:
        raise Hang()

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _load(case: Case, path: Path) -> tuple[str, str | None, str]:
    with warnings.catch_warnings(record=True) as printed:
        warnings.simplefilter("always")
        outcome = _load_quietly(case, path)
    # Python never shows a ResourceWarning outside development mode; and the one seen here came
    # from a stale event loop of earlier work in the process, finalised during a load.
    printed = [w for w in printed if not issubclass(w.category, ResourceWarning)]
    if printed:  # a warning prints lines on stderr where the CLI promises one
        return "warning", None, f"{printed[0].category.__name__}: {printed[0].message}"
    return outcome


def _load_quietly(case: Case, path: Path) -> tuple[str, str | None, str]:
    try:
        with alarm(HANG_SECONDS):
            load_task(path, env_overrides=case.envs, secret_overrides=case.secrets,
                      variables=case.variables)
    except Hang:
        return "hang", None, f"no answer in {HANG_SECONDS:g} s"
    except SpecError as err:
        message = str(err)
        if "internal error" in message:
            return "internal", None, message
        if any(i.line is None for i in err.issues) and not message.endswith("cannot read"):
            return "unlocated", None, message
        return "rejected", err.limit if isinstance(err, SpecLimitError) else None, message
    except Exception as err:
        return "traceback", None, f"{type(err).__name__}: {err}"
    return "accepted", None, ""


_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


def _status_kib(name: str) -> int:
    for line in _STATUS.read_text().splitlines():
        if line.startswith(name + ":"):
            return int(line.split()[1])
    raise LookupError(name)


def _resettable_peak() -> bool:
    try:
        _CLEAR_REFS.write_text("5")
        return _status_kib("VmHWM") > 0
    except (OSError, LookupError):
        return False


def measure(mutator: Mutator, run_seed: int, index: int, folder: Path) -> Result:
    """Load one case: wall and CPU time, and how far the process's resident memory rose.

    Linux resets the resident high-water mark on writing 5 to /proc/self/clear_refs, so
    the peak is real memory (C allocations included) at no cost to the timing; elsewhere
    a second load under tracemalloc measures Python's allocations instead.
    """
    case = mutator.case(run_seed, index)
    path = folder / "task.yaml"
    path.write_bytes(case.data)
    resettable = _resettable_peak()
    before = _status_kib("VmRSS") if resettable else 0
    wall, cpu = time.perf_counter(), time.thread_time()
    outcome, limit, message = _load(case, path)
    wall, cpu = time.perf_counter() - wall, time.thread_time() - cpu
    if resettable:
        peak = max(_status_kib("VmHWM") - before, 0) * 1024
    elif outcome != "hang":
        tracemalloc.start()
        try:
            _load(case, path)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    else:
        peak = 0
    return Result(index, case.seed, case.mutations, len(case.data), outcome, limit, wall, cpu,
                  peak, message.splitlines()[0][:300] if message else "")


_WORKER: dict[str, Any] = {}


def _work(chunk: tuple[int, int, int]) -> list[Result]:
    run_seed, start, stop = chunk
    mutator: Mutator = _WORKER["mutator"]
    with tempfile.TemporaryDirectory(prefix="styx-fuzz-") as tmp:
        return [measure(mutator, run_seed, i, Path(tmp)) for i in range(start, stop)]


def run(count: int, run_seed: int = 1, workers: int | None = None,
        corpus: Path | None = DEFAULT_CORPUS) -> tuple[list[Result], list[Seed]]:
    """Load `count` mutated tasks across worker processes; every result, in order."""
    seeds = load_seeds(corpus)
    _WORKER["mutator"] = Mutator(seeds)  # inherited by the forked workers
    workers = workers or os.cpu_count() or 1
    step = max(1, min(100, count // (workers * 4) or 1))
    chunks = [(run_seed, i, min(i + step, count)) for i in range(0, count, step)]
    with get_context("fork").Pool(workers) as pool:
        results = [r for part in pool.imap(_work, chunks) for r in part]
    return results, seeds


def baseline(seeds: list[Seed]) -> float:
    """Mean wall time to load an unmutated seed (accepted or not) in this process."""
    times = []
    with tempfile.TemporaryDirectory(prefix="styx-fuzz-") as tmp:
        for seed in seeds:
            path = Path(tmp) / "task.yaml"
            path.write_text(seed.text, encoding="utf-8")
            case = Case(seed.name, b"", (), seed.envs, seed.secrets, seed.variables)
            start = time.perf_counter()
            _load(case, path)
            times.append(time.perf_counter() - start)
    return statistics.mean(times)


def failures(results: list[Result], *, timing: bool = True) -> list[Result]:
    """What the issue forbids: internal errors, tracebacks, hangs, unlocated errors, printed
    warnings, and rejections over 150 MB or (with `timing`) over 1 s of CPU."""
    bad = {"internal", "traceback", "hang", "unlocated", "warning"}
    return [r for r in results if r.outcome in bad or r.peak > MAX_PEAK
            or (timing and r.outcome == "rejected" and r.cpu > MAX_SECONDS)]


def report(results: list[Result], seeds: list[Seed], base: float, elapsed: float) -> str:
    outcomes = Counter(r.outcome for r in results)
    limits = Counter(r.limit for r in results if r.limit)
    rejected = [r for r in results if r.outcome == "rejected"]
    lines = [f"{len(results)} mutated tasks from {len(seeds)} seeds in {elapsed:.1f} s",
             "outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())),
             "limits hit: " + (", ".join(f"{k} {v}" for k, v in limits.most_common()) or "-"),
             f"baseline: loading an unmutated seed takes {base * 1000:.1f} ms"]
    for label, group in (("rejections", rejected), ("all loads", results)):
        if not group:
            continue
        walls = sorted(r.wall for r in group)
        cpus = sorted(r.cpu for r in group)
        peaks = sorted(r.peak for r in group)
        p99 = max(0, int(len(group) * 0.99) - 1)
        lines.append(
            f"{label}: wall p50 {walls[len(walls) // 2] * 1000:.1f} ms, p99 "
            f"{walls[p99] * 1000:.0f} ms, max {walls[-1] * 1000:.0f} ms "
            f"({walls[-1] / base:.0f}x baseline); CPU max {cpus[-1] * 1000:.0f} ms; "
            f"memory rise p50 {peaks[len(peaks) // 2] / 2**20:.1f} MiB, max "
            f"{peaks[-1] / 2**20:.1f} MiB; over 1 s wall {sum(w > 1 for w in walls)}, "
            f"over 1 s CPU {sum(c > 1 for c in cpus)}, over 150 MB "
            f"{sum(p > MAX_PEAK for p in peaks)}")
    slowest = max(results, key=lambda r: r.cpu)
    lines.append(f"slowest: case {slowest.index} ({slowest.seed}, {'+'.join(slowest.mutations)},"
                 f" {slowest.size} bytes): {slowest.cpu * 1000:.0f} ms CPU, {slowest.outcome}"
                 f" {slowest.limit or ''}")
    for bad in failures(results)[:20]:
        lines.append(f"FAIL case {bad.index} {bad.outcome} ({bad.seed}, "
                     f"{'+'.join(bad.mutations)}): {bad.message}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    args = parser.parse_args()
    start = time.perf_counter()
    results, seeds = run(args.count, args.seed, args.workers, args.corpus)
    elapsed = time.perf_counter() - start
    print(report(results, seeds, baseline(seeds), elapsed))
    sys.exit(1 if failures(results) else 0)


if __name__ == "__main__":
    main()
