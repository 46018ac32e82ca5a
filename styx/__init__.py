"""Styx: plan/apply infrastructure-as-code for compute clusters."""

from __future__ import annotations

import os

__version__ = "0.1.0"

__all__ = ["__version__"]

# gRPC (loaded with Pulumi's SDK) restarts its poller threads in a forked child unless told
# not to. Styx forks only to exec (ansible-runner's pexpect), and a child that closes its
# inherited descriptors before exec then finds the poller's epoll fd gone: it logs
# "epoll_wait error: Bad file descriptor" or dies of SIGSEGV before it can exec, about once
# in 200 forks from a process that ran the engine, and setup fails on every node for no
# reason of the user's (grpc/grpc #13873, #43055). gRPC reads the setting when it is first
# imported, and with lazy imports that can be long before styx.nodes loads: so it is set
# here, the one module every path into gRPC passes first, unless the caller chose.
os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "0")
