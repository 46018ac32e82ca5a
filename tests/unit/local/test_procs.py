"""Reading /proc: stat lines with awkward names, and descendants of a process."""

from __future__ import annotations

import os

from styx.clouds.local._procs import ProcInfo, descendants, parse_stat, process_table


def test_parse_stat_survives_spaces_and_parentheses_in_the_name() -> None:
    raw = "4242 (sshd: root@notty (x)) S 17 4242 4242 34817 4242 4194560 1 2 3"
    assert parse_stat(4242, raw) == ProcInfo(pid=4242, ppid=17, state="S", tty=34817)
    assert parse_stat(1, "1 (init) S") is None


def test_descendants_follow_the_parent_chain() -> None:
    table = {
        1: ProcInfo(1, 0, "S", 0),
        10: ProcInfo(10, 1, "S", 0),
        11: ProcInfo(11, 10, "S", 0),
        12: ProcInfo(12, 11, "S", 0),
        20: ProcInfo(20, 1, "S", 0),
    }
    assert descendants(table, [10]) == {10, 11, 12}
    assert descendants(table, [99]) == set()


def test_process_table_sees_this_process() -> None:
    table = process_table()
    assert table[os.getpid()].ppid == os.getppid()
