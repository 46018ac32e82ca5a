"""What an AWS cluster takes from outside its task: SSH networks, an existing VPC, the catalog."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

from styx.errors import CloudError
from styx.home import styx_home
from styx.spec import StackFile

__all__ = ["OPEN_TO_WORLD", "AwsSettings", "key_dir"]

OPEN_TO_WORLD: Final = ("0.0.0.0/0", "::/0")


@dataclass(frozen=True)
class AwsSettings:
    """Per-stack AWS settings; the defaults give a fresh VPC and SSH open to the world.

    `region` is used only when the task names none (a stack's region is already on the
    spec, see `styx.spec.apply_stack`); None lets the optimizer pick the cheapest region.
    `vpc_id` and `subnet_id` name an existing network to use instead of a new one: both
    or neither. `catalog_path` None reads `catalog_path()` (refreshed, else shipped).
    """

    region: str | None = None
    allowed_ssh_cidrs: tuple[str, ...] = ("0.0.0.0/0",)
    vpc_id: str | None = None
    subnet_id: str | None = None
    catalog_path: Path | None = None
    ssh_user: str = "ubuntu"

    def __post_init__(self) -> None:
        if (self.vpc_id is None) != (self.subnet_id is None):
            raise CloudError("an existing network needs both vpc_id and subnet_id", cloud="aws")
        if not self.allowed_ssh_cidrs:
            raise CloudError("allowed_ssh_cidrs is empty: nothing could reach the nodes",
                             cloud="aws")

    @classmethod
    def from_stack(cls, stack: StackFile | None) -> AwsSettings:
        """Settings from a stack file (its allowed_ssh_cidrs); defaults without one."""
        if stack is None or not stack.allowed_ssh_cidrs:
            return cls()
        return cls(allowed_ssh_cidrs=tuple(stack.allowed_ssh_cidrs))

    @property
    def ssh_open_to_world(self) -> bool:
        return any(cidr in OPEN_TO_WORLD for cidr in self.allowed_ssh_cidrs)


def key_dir(cluster: str, home: Path | None = None) -> Path:
    """Where the cluster's SSH key pair lives on the machine that applies (0700, private)."""
    return (home or styx_home()).expanduser().resolve() / "aws" / cluster / "keys"
