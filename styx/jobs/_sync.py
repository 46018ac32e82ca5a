"""Copy a job's logs from the head node to the stack's folder, incrementally, secrets masked."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from styx.jobs._client import AgentClient

__all__ = ["sync_logs"]


def _mask(data: bytes, secrets: Iterable[str]) -> bytes:
    for value in secrets:
        if value:
            data = data.replace(value.encode("utf-8"), b"[secret]")
    return data


def sync_logs(
    client: AgentClient, job_id: int, *, secrets: Iterable[str] = (), folder: Path | None = None
) -> Path:
    """Bring job `job_id`'s per-node logs to state_dir/logs/job-<id>/<node>.log (mode 0600).

    Only what the local copies lack is fetched. The agent masks the job's secrets as it
    writes; `secrets` known here are masked again, in case a log predates them.
    """
    target = folder or client.access.state_dir / "logs" / f"job-{job_id}"
    target.mkdir(parents=True, exist_ok=True, mode=0o700)
    # Each log's .offset says how far into the head's copy it has read (masking changes sizes).
    offsets = {p.stem: int(p.read_text() or 0) for p in target.glob("*.offset")}
    secrets = list(secrets)
    while True:
        texts, offsets, _ended = client.log_chunks(job_id, offsets)
        if not any(texts.values()):
            break
        for node, data in texts.items():
            path = target / f"{node}.log"
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            with os.fdopen(fd, "ab") as handle:
                handle.write(_mask(data, secrets))
            path.with_suffix(".offset").write_text(str(offsets[node]))
    return target
