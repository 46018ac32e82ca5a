"""The cluster's SSH key pair: ed25519 from ssh-keygen; the private half only in a 0600 file."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from styx.errors import CloudError

__all__ = ["KeyPair", "create_key_pair", "delete_key_pair", "read_key_pair"]

_KEY_NAME = "id_ed25519"


@dataclass(frozen=True)
class KeyPair:
    """Where the private key lives and the public key's text (one authorized_keys line)."""

    private_key_path: Path
    public_key: str


def _ssh_keygen() -> str:
    found = shutil.which("ssh-keygen")
    if found is None:
        raise CloudError(
            "ssh-keygen is not installed (Debian: apt-get install openssh-client)"
        )
    return found


def create_key_pair(key_dir: Path, comment: str) -> KeyPair:
    """Make a fresh key pair in key_dir, replacing any left there by an earlier run."""
    key_dir.mkdir(parents=True, exist_ok=True)
    key_dir.chmod(0o700)
    private = key_dir / _KEY_NAME
    for stale in (private, private.with_name(_KEY_NAME + ".pub")):
        stale.unlink(missing_ok=True)
    done = subprocess.run(
        [_ssh_keygen(), "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(private)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise CloudError(f"ssh-keygen failed: {done.stderr.strip()}")
    private.chmod(0o600)
    found = read_key_pair(key_dir)
    if found is None:  # pragma: no cover - ssh-keygen said it succeeded
        raise CloudError(f"ssh-keygen wrote no key in {key_dir}")
    return found


def read_key_pair(key_dir: Path) -> KeyPair | None:
    """The key pair in key_dir, or None when either half is missing."""
    private = key_dir / _KEY_NAME
    public = key_dir / (_KEY_NAME + ".pub")
    if not private.is_file() or not public.is_file():
        return None
    return KeyPair(private_key_path=private, public_key=public.read_text(encoding="ascii").strip())


def delete_key_pair(key_dir: Path) -> None:
    """Remove the key folder and everything in it."""
    shutil.rmtree(key_dir, ignore_errors=True)
