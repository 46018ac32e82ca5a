"""A plain (non-editable) wheel carries templates/, playbooks/ and schemas/ and finds them."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = ("templates", "playbooks", "schemas")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q", "-w", str(out)],
        check=True,
    )
    (built,) = out.glob("styx_clusters-*.whl")
    return built


def test_the_distribution_is_styx_clusters_and_the_command_is_styx(wheel: Path) -> None:
    archive = zipfile.ZipFile(wheel)
    (metadata,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
    assert "\nName: styx-clusters\n" in archive.read(metadata).decode()
    (entry_points,) = [n for n in archive.namelist() if n.endswith("entry_points.txt")]
    assert "styx = styx.cli:main" in archive.read(entry_points).decode()


def test_wheel_contains_data_folders(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder in FOLDERS:
        for path in (ROOT / folder).rglob("*"):
            if path.is_file() and path.name != ".keep":
                assert f"styx/{path.relative_to(ROOT).as_posix()}" in names


def test_installed_wheel_reads_data_from_the_package(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target),
         str(wheel)],
        check=True,
    )
    probe = "from styx._resources import data_path; print(data_path('schemas'))"
    out = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert out == str(target / "styx" / "schemas")
