"""Styx: plan/apply infrastructure-as-code for compute clusters."""

from __future__ import annotations

import os

# Styx runs the Pulumi engine's gRPC server in-process and then forks ansible-runner's
# pexpect children, in which gRPC's fork handlers run before exec. Once in CI such a child
# logged "Epoll1Poller ... epoll_wait error: Bad file descriptor" (pexpect closes every
# descriptor before exec) and the playbook failed. The child never uses gRPC, so its fork
# support is switched off before gRPC reads its configuration, unless the caller set it.
os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "0")

__version__ = "0.1.0"

__all__ = ["__version__"]
