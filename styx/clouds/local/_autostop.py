"""The local cloud's autostop action: the head's agent runs it to stop (or tear down) its cluster.

Local nodes are sshd processes on this host, so the head's agent stops the whole cluster by
running this module with the host's Python (the command line the local cloud gave the agent
when it was installed). It first leaves the head node's cgroup and session (stopping the
head kills them, and it must outlive that), writes the record `styx status` and `styx plan`
read afterwards (the head being down), then stops every node, the head last: processes
killed, folders kept, so `styx start` (or `styx apply`) brings the same nodes back. With
`--down` the nodes' folders go too, as EC2 terminates instances: what remains of the stack
(network, key pair) is then gone from the plan's refresh only when `styx down` runs.

    python -m styx.clouds.local._autostop --cluster-dir DIR --record FILE --nodes head,worker1
        --at T --idle-minutes N --idle-for M [--down]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from styx.clouds.local import _procs, _sshd

__all__ = ["action", "main", "read_record"]

_MODULE = "styx.clouds.local._autostop"


def action(cluster_dir: Path, record: Path, nodes: Sequence[str]) -> dict[str, Any]:
    """What the agent runs when autostop is due (config["autostop_action"])."""
    package_root = Path(__file__).resolve().parents[3]  # the folder holding `styx/`
    return {
        "argv": [sys.executable, "-m", _MODULE, "--cluster-dir", str(cluster_dir),
                 "--record", str(record), "--nodes", ",".join(nodes)],
        "env": {"PYTHONPATH": str(package_root)},
        # The head's marker would make this process one of the node's, killed with it.
        "unset": [_procs.MARKER],
        "details": True,
    }


def read_record(record: Path) -> Mapping[str, Any] | None:
    """What the last autostop recorded (at, idle_minutes, idle_for, action), or None."""
    try:
        data = json.loads(record.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _detach() -> None:
    """Outlive the head: out of its cgroup (to the root's), its session, and its parent."""
    mount = _procs.cgroup_base()
    if mount is not None:
        with contextlib.suppress(OSError):
            (mount.parent / "cgroup.procs").write_text(str(os.getpid()), encoding="ascii")
    if os.fork():
        os._exit(0)
    os.setsid()
    if os.fork():
        os._exit(0)
    for signum in (signal.SIGHUP, signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, signal.SIG_IGN)


def _write_record(record: Path, data: Mapping[str, Any]) -> None:
    record.parent.mkdir(parents=True, exist_ok=True)
    tmp = record.with_name(record.name + ".tmp")
    tmp.write_text(json.dumps(dict(data), sort_keys=True) + "\n", encoding="utf-8")
    tmp.chmod(0o600)
    tmp.replace(record)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=_MODULE)
    parser.add_argument("--cluster-dir", type=Path, required=True)
    parser.add_argument("--record", type=Path, required=True)
    parser.add_argument("--nodes", required=True)
    parser.add_argument("--at", type=float, required=True)
    parser.add_argument("--idle-minutes", type=float, required=True)
    parser.add_argument("--idle-for", type=float, required=True)
    parser.add_argument("--down", action="store_true")
    parser.add_argument("--foreground", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not args.foreground:
        _detach()
    names = [n for n in args.nodes.split(",") if n]
    _write_record(args.record, {
        "at": args.at,
        "idle_minutes": args.idle_minutes,
        "idle_for": args.idle_for,
        "action": "down" if args.down else "stop",
        "nodes": names,
    })  # fmt: skip
    # Workers first, the head (where the agent lives) last.
    for name in sorted(names, key=lambda n: n == "head"):
        root = args.cluster_dir / name
        try:  # one node's failure must not spare the others
            if args.down:
                _sshd.delete_node(root)
            else:
                _sshd.stop_node(root)
        except Exception as exc:
            sys.stderr.write(f"styx autostop: {name}: {exc}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
