"""Forking to exec from a process that serves gRPC (as Styx does while the engine runs).

With gRPC's fork handlers on, a pexpect child restarted gRPC's poller, found its epoll fd
closed and crashed before exec about once in 200 forks: setup then failed on every node.
Styx turns the handlers off; gRPC logs from fork_posix.cc on each fork when they are on.
"""

from __future__ import annotations

import os
import subprocess
import sys

PROGRAM = """
import styx  # must come first: it configures gRPC before gRPC is imported
from concurrent import futures
import grpc, pexpect
server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
port = server.add_insecure_port("127.0.0.1:0")
server.start()
channel = grpc.insecure_channel(f"127.0.0.1:{port}")
grpc.channel_ready_future(channel).result(timeout=10)
for _ in range(20):
    child = pexpect.spawn("/bin/echo", ["exec'd"], encoding="utf-8")
    out = child.read()
    child.close()
    assert child.exitstatus == 0 and "exec'd" in out, (child.exitstatus, child.signalstatus, out)
print("forked 20 times")
"""


def test_forking_from_a_grpc_process_runs_no_grpc_fork_handlers() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRPC_")}
    env["GRPC_VERBOSITY"] = "INFO"  # fork_posix.cc's notice is an INFO line
    done = subprocess.run([sys.executable, "-c", PROGRAM], capture_output=True, text=True,
                          env=env, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "forked 20 times" in done.stdout
    assert "fork_posix" not in done.stderr, done.stderr[-2000:]
