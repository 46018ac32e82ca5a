"""A Ctrl-C delivered where Python drops it (a finaliser, an at-fork hook) is not lost."""

from __future__ import annotations

import gc
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from styx import _interrupts
from styx.cli import main


@pytest.fixture
def handlers() -> Iterator[None]:
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    _interrupts.handled()
    try:
        yield
    finally:
        _interrupts.handled()
        for sig, handler in saved.items():
            signal.signal(sig, handler)


class _InterruptedFinaliser:
    """Ctrl-C arriving while Python runs a finaliser: the exception is printed and dropped."""

    def __del__(self) -> None:
        os.kill(os.getpid(), signal.SIGINT)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:  # the handler runs at the next bytecode boundary
            pass


def test_a_swallowed_interrupt_is_raised_again(handlers: None) -> None:
    _interrupts.install()
    _InterruptedFinaliser()  # refcount drops to 0 at once: __del__ runs, its exception is ignored
    gc.collect()
    assert _interrupts.pending()
    with pytest.raises(KeyboardInterrupt):
        _interrupts.raise_if_pending()


def test_code_that_handled_it_clears_it(handlers: None) -> None:
    _interrupts.install()
    with pytest.raises(KeyboardInterrupt):
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(5)
    _interrupts.handled()
    _interrupts.raise_if_pending()  # nothing pending: no exception


def test_a_command_that_ended_after_a_dropped_interrupt_exits_130(
    handlers: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import styx.cli.gc  # noqa: F401 - loaded, it is the attribute `gc` of styx.cli (CI once)

    monkeypatch.setattr(sys, "argv", ["styx"])
    monkeypatch.setattr(_interrupts, "_pending", True)
    monkeypatch.setattr(_interrupts, "install", lambda: None)
    with pytest.raises(SystemExit) as ended:
        main(["--version"])
    assert ended.value.code == 130
    assert "Interrupted." in capsys.readouterr().err


def test_a_half_built_objects_finaliser_after_ctrl_c_prints_no_traceback() -> None:
    # pexpect's PtyProcess cut off in its constructor fails in __del__ at exit (CI, test_kills).
    program = (
        "from styx.cli import _interrupted\n"
        "class HalfBuilt:\n"
        "    def __del__(self):\n"
        "        self.closed\n"
        "kept = HalfBuilt()\n"  # finalised at exit, after the interrupt
        "_interrupted(None)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "STYX_DEBUG"}
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                          env=env, timeout=60)  # fmt: skip
    assert done.returncode == 130, done.stderr
    assert "Interrupted." in done.stderr
    assert "Traceback" not in done.stderr, done.stderr
