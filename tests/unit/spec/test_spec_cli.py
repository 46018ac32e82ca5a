"""`styx validate`: the summary, the errors, --json, and the options that feed the loader."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from styx.cli import cli, main

REPO = Path(__file__).parents[3]
HELLO = REPO / "examples" / "hello.yaml"
BROKEN = Path(__file__).parent / "malformed" / "num_nodes_negative.yaml"


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["validate", *args])
    assert "Traceback" not in result.output
    return result.exit_code, result.stdout, result.stderr


def test_valid_task_prints_a_summary() -> None:
    code, out, _ = _run(str(HELLO))
    assert code == 0
    assert "is valid" in out
    assert "hello" in out and "cpus 1" in out and "GREETING" in out


def test_json_for_a_valid_task() -> None:
    code, out, _ = _run(str(HELLO), "--json")
    data = json.loads(out)
    assert code == 0 and data["valid"] is True and data["errors"] == []
    assert data["spec"]["name"] == "hello" and data["spec"]["num_nodes"] == 2
    assert len(data["fingerprint"]) == 64


def test_errors_are_listed_and_exit_1() -> None:
    code, _, err = _run(str(BROKEN))
    assert code == 1
    assert f"error: {BROKEN}:2:12: num_nodes: must be at least 1" in err
    assert err.strip().endswith("1 error")


def test_json_for_errors() -> None:
    code, out, _ = _run(str(BROKEN), "--json")
    data = json.loads(out)
    assert code == 1 and data["valid"] is False and data["spec"] is None
    assert data["errors"] == [{"path": str(BROKEN), "line": 2, "column": 12,
                               "field": "num_nodes",
                               "message": "must be at least 1, got -3"}]


def test_env_secret_and_var_options(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    task = tmp_path / "t.yaml"
    task.write_text("name: n-{{ stage }}\nenvs:\n  A: null\n  B: null\nsecrets:\n  S: null\n")
    monkeypatch.setenv("B", "from-shell")
    code, out, err = _run(str(task), "--env", "A=1", "--env", "B", "--secret", "S=hunter2",
                          "--var", "stage=prod", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["spec"]["name"] == "n-prod"
    assert data["spec"]["envs"] == {"A": "1", "B": "from-shell"}
    assert "hunter2" not in out
    code, out, _ = _run(str(task), "--env", "A=1", "--env", "B", "--secret", "S=hunter2",
                        "--var", "stage=prod")
    assert code == 0 and "hunter2" not in out and "S" in out


def test_env_file_option(tmp_path: Path) -> None:
    task = tmp_path / "t.yaml"
    task.write_text("envs:\n  A: null\n")
    env_file = tmp_path / "x.env"
    env_file.write_text("A=42\n")
    code, out, _ = _run(str(task), "--env-file", str(env_file), "--json")
    assert code == 0 and json.loads(out)["spec"]["envs"] == {"A": "42"}


def test_stack_alone_names_the_task() -> None:
    code, out, _ = _run("--stack", str(REPO / "stacks" / "prod.yaml"))
    assert code == 0
    assert "aws/us-east-1" in out and "prod" in out


def test_usage_errors_exit_1_through_main(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["validate"], ["validate", str(HELLO), "--var", "novalue"]):
        with pytest.raises(SystemExit) as exited:
            main(argv)
        assert exited.value.code == 1
    assert "Traceback" not in capsys.readouterr().err


def test_unset_bare_env_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STYX_SURELY_UNSET", raising=False)
    code, _, err = _run(str(HELLO), "--env", "STYX_SURELY_UNSET")
    assert code == 2 and "not set in the environment" in err


def test_main_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["validate", str(HELLO)])
    assert exited.value.code == 0
    with pytest.raises(SystemExit) as exited:
        main(["validate", str(BROKEN)])
    assert exited.value.code == 1
    assert "Traceback" not in capsys.readouterr().err
