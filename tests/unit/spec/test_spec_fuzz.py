"""Property tests: whatever arrives, load_task returns a Spec or a located SpecError.

Each fuzzer runs STYX_FUZZ_EXAMPLES examples (default 2,000, what CI runs; set it lower for
a quick local run, higher to hunt). `test_fuzzers` runs them side by side, one process per
core, so CI pays for the examples once per core instead of once in a row; STYX_FUZZERS=a,b
picks some of them (names in FUZZERS).
"""

from __future__ import annotations

import json
import os
import signal
import tempfile
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from multiprocessing import get_context
from pathlib import Path
from types import FrameType
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from styx.errors import SpecError
from styx.spec import Spec, load_task

REPO = Path(__file__).parents[3]
SEEDS = [(REPO / "examples" / name).read_text() for name in
         ("hello.yaml", "train_multinode.yaml", "templated.yaml")]
# Per call; a healthy load of these small inputs takes milliseconds.
TIME_LIMIT_SECONDS = 10.0
EXAMPLES = int(os.environ.get("STYX_FUZZ_EXAMPLES", "2000"))

FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])


class Hang(BaseException):
    """Raised by the alarm; a BaseException so that load_task's own net cannot catch it."""


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    def expire(_signum: int, _frame: FrameType | None) -> None:
        raise Hang(f"load_task took more than {seconds}s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def check_loads(path: Path, variables: dict[str, str] | None = None) -> None:
    with time_limit(TIME_LIMIT_SECONDS):
        try:
            spec = load_task(path, variables=variables or {})
        except SpecError as err:
            assert err.issues
            for issue in err.issues:
                assert "internal error" not in issue.message, issue
                assert issue.line is not None and issue.line >= 1, issue
                assert issue.column is not None and issue.column >= 1, issue
            str(err)
            return
    assert isinstance(spec, Spec)
    json.dumps(spec.to_dict())
    spec.fingerprint()


@FUZZ
@given(text=st.text(max_size=3000))
def fuzz_any_text(tmp_path: Path, text: str) -> None:
    path = tmp_path / "task.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    check_loads(path)


@FUZZ
@given(data=st.binary(max_size=3000))
def fuzz_any_bytes(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "task.yaml"
    path.write_bytes(data)
    check_loads(path)


FIELDS = ["name", "num_nodes", "resources", "envs", "secrets", "file_mounts", "workdir",
          "setup", "run", "service", "cpus", "memory", "accelerators", "gpus", "infra", "cloud",
          "region", "zone", "use_spot", "disk_size", "disk_tier", "ports", "image_id",
          "labels", "autostop", "any_of", "ordered", "idle_minutes", "down", "wait_for",
          "instance_type", "job_recovery", "A", "_x", "1BAD"]
WORDS = ["4+", "0", "-1", "V100:2", "V100:0", "{V100:1, A100:1}", "[A100:1]", "80GB+", "2h",
         "aws", "local", "gcp", "aws/us-east-1", "k8s/x", "*", "8000-8010", "9-1", "100Gi",
         "1.5Gi", "s3://b", "./", ".", "/", "~", "${A}", "$A", "{{ x }}", "{% if %}", "jobs",
         "best", "", " ", "null", "yes", "\t", "x" * 50, "ami-1", "1e309", "nan"]
SCALARS = (st.none() | st.booleans() | st.integers(-10**20, 10**20) | st.floats()
           | st.sampled_from(WORDS) | st.text(max_size=12))
VALUES: st.SearchStrategy[Any] = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=6), inner, max_size=5),
    max_leaves=15,
)
TASKS = st.dictionaries(st.sampled_from(FIELDS), VALUES, max_size=8)


@FUZZ
@given(task=TASKS)
def fuzz_structured_junk(tmp_path: Path, task: dict[str, Any]) -> None:
    # JSON is YAML: a quick way to write any nesting of fields and values.
    path = tmp_path / "task.yaml"
    path.write_text(json.dumps(task, allow_nan=True), encoding="utf-8")
    check_loads(path)


@FUZZ
@given(seed=st.sampled_from(SEEDS), edits=st.lists(
    st.tuples(st.floats(0, 1), st.integers(0, 8), st.text(max_size=6)), min_size=1, max_size=6))
def fuzz_mutated_examples(tmp_path: Path, seed: str, edits: list[tuple[float, int, str]]) -> None:
    text = seed
    for where, cut, insert in edits:
        at = int(where * len(text))
        text = text[:at] + insert + text[at + cut:]
    path = tmp_path / "task.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    (tmp_path / "hello.yaml").write_text(SEEDS[0])
    check_loads(path)


@FUZZ
@given(body=st.lists(st.sampled_from(
    ["name: {{ a }}\n", "num_nodes: {{ b | int }}\n", "{% if a %}\n", "{% endif %}\n",
     "{% for i in range(n|int) %}\n", "{% endfor %}\n", "run: {{ a * 3 }}\n", "{{ x }}\n",
     "setup: |\n  echo {{ a }}\n", "{# c #}\n", "{{ ''.__class__ }}\n", "}}\n", "{%\n"]),
    max_size=8),
    variables=st.dictionaries(st.sampled_from(["a", "b", "n", "x"]),
                              st.sampled_from(["1", "2", "abc", "", "-1", "99999", "{{ a }}"]),
                              max_size=4))
def fuzz_templates(tmp_path: Path, body: list[str], variables: dict[str, str]) -> None:
    path = tmp_path / "task.yaml"
    path.write_text("".join(body), encoding="utf-8")
    check_loads(path, variables)


FUZZERS: dict[str, Callable[[Path], None]] = {
    "any_text": fuzz_any_text,
    "any_bytes": fuzz_any_bytes,
    "structured_junk": fuzz_structured_junk,
    "mutated_examples": fuzz_mutated_examples,
    "templates": fuzz_templates,
}


def _run_fuzzer(name: str) -> str:
    """Run one fuzzer in this (worker) process; its failure as text, "" when it passed."""
    try:
        with tempfile.TemporaryDirectory(prefix=f"styx-fuzz-{name}-") as folder:
            FUZZERS[name](Path(folder))
    except BaseException as err:
        return f"fuzzer {name} failed:\n" + "".join(traceback.format_exception(err))
    return ""


def test_fuzzers() -> None:
    chosen = [n for n in os.environ.get("STYX_FUZZERS", "").split(",") if n] or list(FUZZERS)
    unknown = set(chosen) - FUZZERS.keys()
    assert not unknown, f"STYX_FUZZERS names no fuzzer {sorted(unknown)}; known: {list(FUZZERS)}"
    # fork: the workers inherit the imported modules and run the same functions.
    workers = min(len(chosen), os.cpu_count() or 1)
    with ProcessPoolExecutor(workers, mp_context=get_context("fork")) as pool:
        failures = [text for text in pool.map(_run_fuzzer, chosen) if text]
    assert not failures, "\n\n".join(failures)
