"""The malformed-task corpus: every file fails with file:line:column and a useful message."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from styx.errors import SpecError
from styx.spec import load_task

CORPUS = Path(__file__).parent / "malformed"
CASES = sorted(CORPUS.glob("*.yaml"))
_EXPECT = re.compile(rb"# expect: (?:(\d+):(\d+) )?(.*)")


def _expectation(path: Path) -> tuple[int, int, str]:
    match = _EXPECT.match(path.read_bytes().splitlines()[0])
    assert match is not None, f"{path.name} needs a '# expect: L:C text' first line"
    line, column, text = match.groups()
    assert line is not None and column is not None, f"{path.name}: give the line and column"
    return int(line), int(column), text.decode()


def test_corpus_is_big_enough() -> None:
    assert len(CASES) >= 40


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_malformed_task_is_located(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Relative local paths resolve against the working directory, as with `sky`.
    monkeypatch.chdir(CORPUS)
    line, column, text = _expectation(path)
    with pytest.raises(SpecError) as caught:
        load_task(path)
    message = str(caught.value)
    assert f"{path}:{line}:{column}:" in message, message
    assert text in message, message
    for issue in caught.value.issues:
        assert issue.path == str(path)
        assert issue.line is not None and issue.column is not None


def test_every_issue_is_reported_together(tmp_path: Path) -> None:
    task = tmp_path / "many.yaml"
    task.write_text("num_nodes: -1\nresources:\n  cpus: lots\n  use_spot: maybe\nrunn: x\n")
    with pytest.raises(SpecError) as caught:
        load_task(task)
    located = [(i.line, i.field) for i in caught.value.issues]
    assert located == [(1, "num_nodes"), (3, "resources.cpus"), (4, "resources.use_spot"),
                       (5, "runn")]


def test_schema_and_later_issues_are_reported_together(tmp_path: Path) -> None:
    task = tmp_path / "both.yaml"
    task.write_text("resources:\n  cpus: lots\nenvs:\n  TOKEN: null\nworkdir: ./missing\n"
                    "setpu: x\n")
    with pytest.raises(SpecError) as caught:
        load_task(task)
    assert [(i.line, i.field) for i in caught.value.issues] == [
        (2, "resources.cpus"), (4, "envs.TOKEN"), (5, "workdir"), (6, "setpu")]


def test_empty_file(tmp_path: Path) -> None:
    task = tmp_path / "empty.yaml"
    task.write_bytes(b"")
    with pytest.raises(SpecError, match=r"empty\.yaml:1:1: file is empty"):
        load_task(task)


def test_ten_megabyte_file(tmp_path: Path) -> None:
    task = tmp_path / "huge.yaml"
    # Valid YAML all the way: a 10 MiB block scalar, so only the size can be the problem.
    line = b"  " + b"x" * 1021 + b"\n"
    task.write_bytes(b"name: huge\nrun: |\n" + line * (10 * 1024))
    assert task.stat().st_size >= 10 * 1024 * 1024
    with pytest.raises(SpecError, match=r"huge\.yaml:1:1: file is 10\.0 MiB"):
        load_task(task)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="cannot read"):
        load_task(tmp_path / "nope.yaml")
    with pytest.raises(SpecError, match="is a directory"):
        load_task(tmp_path)


def test_cli_exits_1_without_traceback_on_the_whole_corpus() -> None:
    """One real process per file would be slow; one process runs the CLI over all of them."""
    script = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from styx.cli import cli\n"
        "runner = CliRunner()\n"
        "for path in sys.argv[1:]:\n"
        "    result = runner.invoke(cli, ['validate', path])\n"
        "    assert result.exit_code == 1, (path, result.exit_code, result.output)\n"
        "    assert isinstance(result.exception, SystemExit), (path, result.exception)\n"
        "    assert 'Traceback' not in result.output, path\n"
        "    assert f'{path}:' in result.output, (path, result.output)\n"
        "print('checked', len(sys.argv) - 1)\n"
    )
    done = subprocess.run([sys.executable, "-c", script, *map(str, CASES)],
                          capture_output=True, text=True, timeout=120, check=False,
                          cwd=CORPUS)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"checked {len(CASES)}"


def test_python_dash_m_styx_validate() -> None:
    path = CORPUS / "non_utf8.yaml"
    done = subprocess.run([sys.executable, "-m", "styx", "validate", str(path)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    line, column, _ = _expectation(path)
    assert f"{path}:{line}:{column}:" in done.stderr
