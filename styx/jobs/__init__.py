"""Jobs: the client of a cluster's head-node agent (submit, queue, logs, cancel, wait, install).

client = AgentClient(access)                 one shared SSH connection to the head
job_id = client.submit(JobRequest(run="python train.py", num_nodes=2))
for line in client.logs(job_id):             follows until the job ends
    print(line.node, line.text)
client.wait(job_id).state                    SUCCEEDED, FAILED, CANCELLED, ...
install_agent(client, nodes, cluster_info)   idempotent; upgrades when the file changed
sync_workdir(client, workdir, applied)       the workdir to the nodes whose copy differs
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from styx._lazy import lazy_exports

if TYPE_CHECKING:
    from styx.jobs._client import AgentClient
    from styx.jobs._install import (
        SECONDS_PER_MINUTE_VAR,
        AgentInstall,
        AutostopConfig,
        install_agent,
        seconds_per_minute,
    )
    from styx.jobs._model import (
        ACTIVE_STATES,
        TERMINAL_STATES,
        AgentNode,
        Demand,
        Job,
        JobNodeExit,
        JobRequest,
        JobState,
        LogLine,
    )
    from styx.jobs._sync import WorkdirSync, sync_logs, sync_workdir


__all__ = [
    "ACTIVE_STATES",
    "SECONDS_PER_MINUTE_VAR",
    "TERMINAL_STATES",
    "AgentClient",
    "AgentInstall",
    "AgentNode",
    "AutostopConfig",
    "Demand",
    "Job",
    "JobNodeExit",
    "JobRequest",
    "JobState",
    "LogLine",
    "WorkdirSync",
    "install_agent",
    "seconds_per_minute",
    "sync_logs",
    "sync_workdir",
]

# Each name is imported from its module when first read (styx._lazy), so a command
# loads only the modules it uses.
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "styx.jobs._client": ("AgentClient",),
        "styx.jobs._install": (
            "SECONDS_PER_MINUTE_VAR",
            "AgentInstall",
            "AutostopConfig",
            "install_agent",
            "seconds_per_minute",
        ),
        "styx.jobs._model": (
            "ACTIVE_STATES",
            "TERMINAL_STATES",
            "AgentNode",
            "Demand",
            "Job",
            "JobNodeExit",
            "JobRequest",
            "JobState",
            "LogLine",
        ),
        "styx.jobs._sync": (
            "WorkdirSync",
            "sync_logs",
            "sync_workdir",
        ),
    },
)
