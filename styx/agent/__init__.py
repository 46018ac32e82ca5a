"""The head-node agent, shipped as one self-contained file (agent.py) that Styx copies to nodes.

agent.py imports nothing from Styx and only the standard library, and keeps to Python 3.8
syntax, so a stock cloud image can run it. Styx tells an installed copy from this one by the
file's SHA-256: any change to the file is a new version to install.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

__all__ = ["AGENT_FILE", "agent_sha256", "agent_source"]

AGENT_FILE = Path(__file__).with_name("agent.py")


def agent_source() -> bytes:
    """The agent program's bytes, as they are copied to a node."""
    return AGENT_FILE.read_bytes()


def agent_sha256() -> str:
    """The version an installed agent must match: the SHA-256 of the shipped file."""
    return hashlib.sha256(agent_source()).hexdigest()
