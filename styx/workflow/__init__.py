"""What the commands do, as library calls: plan, apply, exec, down, status on a task's stack."""

from __future__ import annotations

from styx.workflow._apply import ApplyResult, apply_planned, apply_target
from styx.workflow._build import compile_target
from styx.workflow._down import DownResult, down_stack
from styx.workflow._exec import exec_job
from styx.workflow._jobs import (
    cluster_client,
    cluster_ref,
    following_job,
    install_cluster_agent,
    job_request,
    raise_for_job,
    submit_job,
)
from styx.workflow._plan import Planned, plan_target
from styx.workflow._progress import EngineProgress, Reporter, silent
from styx.workflow._saved import (
    SavedPlan,
    apply_saved_plan,
    is_saved_plan,
    read_plan_file,
    read_saved_plan,
    write_saved_plan,
)
from styx.workflow._status import ClusterStatus, NodeStatus, cluster_status
from styx.workflow._target import (
    PROJECT,
    AutostopOverride,
    Target,
    TargetOptions,
    git_commit,
    resolve_target,
    stack_dir,
)
from styx.workflow._unlock import UnlockResult, stack_locks, unlock_stack

__all__ = [
    "PROJECT",
    "ApplyResult",
    "AutostopOverride",
    "ClusterStatus",
    "DownResult",
    "EngineProgress",
    "NodeStatus",
    "Planned",
    "Reporter",
    "SavedPlan",
    "Target",
    "TargetOptions",
    "UnlockResult",
    "apply_planned",
    "apply_saved_plan",
    "apply_target",
    "cluster_client",
    "cluster_ref",
    "cluster_status",
    "compile_target",
    "down_stack",
    "exec_job",
    "following_job",
    "git_commit",
    "install_cluster_agent",
    "is_saved_plan",
    "job_request",
    "plan_target",
    "raise_for_job",
    "read_plan_file",
    "read_saved_plan",
    "resolve_target",
    "silent",
    "stack_dir",
    "stack_locks",
    "submit_job",
    "unlock_stack",
    "write_saved_plan",
]
