"""Shared pytest wiring: the golden-file flag and an isolated STYX_HOME for every test."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from _moto import MotoServer, moto_running


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-goldens",
        action="store_true",
        default=False,
        help="rewrite golden files from the current output instead of comparing (review the diff)",
    )


@pytest.fixture
def update_goldens(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-goldens"))


@pytest.fixture
def golden(update_goldens: bool):  # type: ignore[no-untyped-def]
    """Compare text with a golden file under tests/; with --update-goldens, rewrite it."""

    def check(path: Path, actual: str) -> None:
        if update_goldens or not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(actual, encoding="utf-8")
            if not update_goldens:
                pytest.fail(f"golden file {path} did not exist; wrote it, review and re-run")
            return
        assert actual == path.read_text(encoding="utf-8"), f"output differs from {path}"

    return check


@pytest.fixture
def styx_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private STYX_HOME so no test reads or writes the user's ~/.styx."""
    home = tmp_path / "styx-home"
    home.mkdir()
    monkeypatch.setenv("STYX_HOME", str(home))
    yield home


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    """moto's real S3/EC2 server on a loopback port, one for the session (tests/_moto.py);
    each test takes its own bucket (`moto_server.bucket()`)."""
    with moto_running(tmp_path_factory.mktemp("moto")) as server:
        yield server


@pytest.fixture
def aws_stand_in(moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch) -> MotoServer:
    """moto's server, with credentials it accepts and none of the user's read."""
    from _moto import FAKE_CREDENTIALS

    for name, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return moto_server


@pytest.fixture(autouse=True)
def _umask_restored() -> Iterator[None]:
    """`styx.cli.main` sets the process umask to 077 (private files); a test that calls it
    must not change the modes of files that later tests create."""
    saved = os.umask(0o022)
    os.umask(saved)
    yield
    os.umask(saved)


@pytest.fixture(scope="session", autouse=True)
def _engine_on_path() -> Iterator[None]:
    """Keep the installed engine reachable when a test points STYX_HOME at a temp folder.

    Engines live under the real STYX_HOME (built once, minutes); putting their folder on
    PATH lets `find_engine` take the "pulumi on PATH" road inside an isolated home.
    """
    from styx.engine import find_engine

    engine = find_engine()
    if engine is None:
        yield
        return
    saved = os.environ.get("PATH", "")
    os.environ["PATH"] = os.pathsep.join([str(engine.bin_dir), saved])
    yield
    os.environ["PATH"] = saved
