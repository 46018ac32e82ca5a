"""SkyPilot's own task files (../shared/skypilot-corpus), validated the way its run.sh does.

The corpus is data beside the project, never copied into it. Each file is loaded from a
fresh folder that holds it, with the envs, secrets and variables a user would pass and
throwaway stand-ins for the local paths it names, under a throwaway HOME. Like run.sh, a
file is A (accepted), B (refused, every problem a "not supported (yet)" feature), C (refused
for another reason: a wrong rejection) or D (anything else escaped: a crash).
"""

from __future__ import annotations

import os
import shlex
import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from styx.errors import SpecError
from styx.spec import load_task

REPO = Path(__file__).parents[3]
CORPUS = Path(os.environ.get("STYX_SKYPILOT_CORPUS", REPO.parent / "shared" / "skypilot-corpus"))
# The accepted count when this test was last raised; it may only go up. 84 before issue 16,
# 93 after its second session, 138 once `service:` and `pool:` are read as `sky launch` reads them,
# 160 with S3 storage mounts.
ACCEPTED_FLOOR = 160

pytestmark = pytest.mark.skipif(
    not (CORPUS / "manifest.tsv").is_file(),
    reason=f"SkyPilot corpus not found at {CORPUS} (it lives in ../shared/skypilot-corpus "
           "beside the project; set STYX_SKYPILOT_CORPUS to point elsewhere)")


def _manifest() -> list[tuple[str, str, str]]:
    rows = []
    for line in (CORPUS / "manifest.tsv").read_text().splitlines():
        if not line or line.startswith("#"):
            continue
        file, args, standins = [*line.split("\t"), "", ""][:3]
        rows.append((file, args, standins))
    return rows


def _options(args: str) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    envs: dict[str, str] = {}
    secrets: dict[str, str] = {}
    variables: dict[str, str] = {}
    words = shlex.split(args)
    for flag, value in zip(words[::2], words[1::2], strict=True):
        key, _, text = value.partition("=")
        {"--env": envs, "--secret": secrets, "--var": variables}[flag][key] = text
    return envs, secrets, variables


def _make(kind: str, path: Path) -> None:
    if kind == "d":
        path.mkdir(parents=True, exist_ok=True)
    elif not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()


@pytest.fixture(scope="module")
def absolute_standins() -> Iterator[None]:
    """The few absolute paths tasks copy from a user's machine; only those made here go."""
    created: list[Path] = []
    for _file, _args, standins in _manifest():
        for item in filter(None, standins.split("|")):
            kind, _, raw = item.partition(":")
            path = Path(raw)
            if not path.is_absolute() or path.exists():
                continue
            top = path
            while not top.parent.exists():
                top = top.parent
            created.append(top)
            _make(kind, path)
    yield
    for top in created:
        if top.is_dir():
            shutil.rmtree(top, ignore_errors=True)
        else:
            top.unlink(missing_ok=True)


def _classify(file: str, args: str, standins: str, root: Path,
              monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    work, home = root / "w", root / "h"
    work.mkdir(parents=True)
    home.mkdir()
    # Relative paths resolve against the working directory, as with `sky`; `~` is HOME.
    monkeypatch.chdir(work)
    monkeypatch.setenv("HOME", str(home))
    shutil.copyfile(CORPUS / "tasks" / file, work / file)
    for item in filter(None, standins.split("|")):
        kind, _, raw = item.partition(":")
        if raw.startswith("/"):
            continue
        target = home if raw == "~" else home / raw[2:] if raw.startswith("~/") else work / raw
        _make(kind, target)
    envs, secrets, variables = _options(args)
    try:
        load_task(Path(file), env_overrides=envs, secret_overrides=secrets,
                  variables=variables)
    except SpecError as err:
        messages = [str(issue) for issue in err.issues]
        if all("not supported" in m for m in messages):
            return "B", " | ".join(messages)
        return "C", " | ".join(m for m in messages if "not supported" not in m)
    except Exception as err:  # a crash is what this test looks for
        return "D", f"{type(err).__name__}: {err}"
    return "A", "accepted"


def test_skypilot_corpus_has_no_wrong_rejections_or_crashes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, absolute_standins: None) -> None:
    results: dict[str, tuple[str, str]] = {}
    for index, (file, args, standins) in enumerate(_manifest()):
        results[file] = _classify(file, args, standins, tmp_path / str(index), monkeypatch)
    counts = Counter(bucket for bucket, _ in results.values())
    wrong = {f: why for f, (b, why) in results.items() if b in "CD"}
    assert not wrong, f"wrong rejections or crashes: {wrong}"
    assert len(results) == 237
    assert counts["A"] >= ACCEPTED_FLOOR, dict(counts)
