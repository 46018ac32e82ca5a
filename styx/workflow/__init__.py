"""What the commands do, as library calls: plan, apply, exec, down, status on a task's stack."""

from __future__ import annotations

from typing import TYPE_CHECKING

from styx._lazy import lazy_exports

if TYPE_CHECKING:
    from styx.workflow._apply import ApplyResult, apply_planned, apply_target
    from styx.workflow._build import compile_target
    from styx.workflow._costs import CAVEATS, ClusterCost, CostSpan, cluster_cost, cost_report
    from styx.workflow._down import DownResult, down_stack
    from styx.workflow._exec import (
        CommandJob,
        applied_workdir,
        require_setup_complete,
        submit_command,
        sync_target_workdir,
    )
    from styx.workflow._history import (
        HistoryEntry,
        VersionShow,
        applied_target,
        diff_records,
        diff_versions,
        dump_yaml,
        rollback,
        rollback_target,
        show_version,
        stack_history,
        task_yaml,
    )
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
    from styx.workflow._records import VersionRecord, list_records, read_record, spec_from_task
    from styx.workflow._saved import (
        SavedPlan,
        apply_saved_plan,
        is_saved_plan,
        read_plan_file,
        read_saved_plan,
        write_saved_plan,
    )
    from styx.workflow._status import (
        CLUSTER_STATES,
        ClusterResources,
        ClusterState,
        ClusterStatus,
        ClusterStatusJSON,
        NodeStatus,
        cluster_status,
    )
    from styx.workflow._target import (
        PROJECT,
        AutostopOverride,
        NameChoice,
        Target,
        TargetOptions,
        choose_task_or_cluster,
        git_commit,
        known_clusters,
        require_cluster,
        resolve_target,
        stack_dir,
    )
    from styx.workflow._transfer import ExportSummary, export_file_stack, export_stack, import_stack
    from styx.workflow._unlock import UnlockResult, stack_locks, unlock_stack

__all__ = [
    "CAVEATS",
    "CLUSTER_STATES",
    "PROJECT",
    "ApplyResult",
    "AutostopOverride",
    "ClusterCost",
    "ClusterResources",
    "ClusterState",
    "ClusterStatus",
    "ClusterStatusJSON",
    "CommandJob",
    "CostSpan",
    "DownResult",
    "EngineProgress",
    "ExportSummary",
    "HistoryEntry",
    "NameChoice",
    "NodeStatus",
    "Planned",
    "Reporter",
    "SavedPlan",
    "Target",
    "TargetOptions",
    "UnlockResult",
    "VersionRecord",
    "VersionShow",
    "applied_target",
    "applied_workdir",
    "apply_planned",
    "apply_saved_plan",
    "apply_target",
    "choose_task_or_cluster",
    "cluster_client",
    "cluster_cost",
    "cluster_ref",
    "cluster_status",
    "compile_target",
    "cost_report",
    "diff_records",
    "diff_versions",
    "down_stack",
    "dump_yaml",
    "export_file_stack",
    "export_stack",
    "following_job",
    "git_commit",
    "import_stack",
    "install_cluster_agent",
    "is_saved_plan",
    "job_request",
    "known_clusters",
    "list_records",
    "plan_target",
    "raise_for_job",
    "read_plan_file",
    "read_record",
    "read_saved_plan",
    "require_cluster",
    "require_setup_complete",
    "resolve_target",
    "rollback",
    "rollback_target",
    "show_version",
    "silent",
    "spec_from_task",
    "stack_dir",
    "stack_history",
    "stack_locks",
    "submit_command",
    "submit_job",
    "sync_target_workdir",
    "task_yaml",
    "unlock_stack",
    "write_saved_plan",
]

# Each name is imported from its module when first read (styx._lazy), so a command
# loads only the stages it runs.
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "styx.workflow._apply": ("ApplyResult", "apply_planned", "apply_target"),
        "styx.workflow._build": ("compile_target",),
        "styx.workflow._costs": (
            "CAVEATS", "ClusterCost", "CostSpan", "cluster_cost", "cost_report",
        ),
        "styx.workflow._down": ("DownResult", "down_stack"),
        "styx.workflow._exec": (
            "CommandJob", "applied_workdir", "require_setup_complete", "submit_command",
            "sync_target_workdir",
        ),
        "styx.workflow._history": (
            "HistoryEntry", "VersionShow", "diff_records", "diff_versions", "dump_yaml",
            "applied_target", "rollback", "rollback_target", "show_version", "stack_history",
            "task_yaml",
        ),
        "styx.workflow._jobs": (
            "cluster_client", "cluster_ref", "following_job", "install_cluster_agent",
            "job_request", "raise_for_job", "submit_job",
        ),
        "styx.workflow._plan": ("Planned", "plan_target"),
        "styx.workflow._progress": ("EngineProgress", "Reporter", "silent"),
        "styx.workflow._records": (
            "VersionRecord", "list_records", "read_record", "spec_from_task",
        ),
        "styx.workflow._saved": (
            "SavedPlan", "apply_saved_plan", "is_saved_plan", "read_plan_file", "read_saved_plan",
            "write_saved_plan",
        ),
        "styx.workflow._status": (
            "CLUSTER_STATES", "ClusterResources", "ClusterState", "ClusterStatus",
            "ClusterStatusJSON", "NodeStatus", "cluster_status",
        ),
        "styx.workflow._target": (
            "PROJECT", "NameChoice", "Target", "TargetOptions", "choose_task_or_cluster",
            "git_commit", "known_clusters", "require_cluster", "resolve_target", "stack_dir",
            "AutostopOverride",
        ),
        "styx.workflow._transfer": (
            "ExportSummary", "export_file_stack", "export_stack", "import_stack",
        ),
        "styx.workflow._unlock": ("UnlockResult", "stack_locks", "unlock_stack"),
    },
)
