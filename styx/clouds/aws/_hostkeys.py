"""Read a node's SSH host keys from its serial console (EC2 GetConsoleOutput), not from SSH."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Final

from styx.errors import CloudError

__all__ = ["fetch_host_keys", "host_keys_from_console", "wait_for_host_keys"]

# Our first-boot script's block, then cloud-init's own (Ubuntu prints it by default).
_BLOCKS: Final = (
    re.compile(r"-----BEGIN STYX HOST KEYS-----(.*?)-----END STYX HOST KEYS-----", re.S),
    re.compile(r"-----BEGIN SSH HOST KEY KEYS-----(.*?)-----END SSH HOST KEY KEYS-----", re.S),
)
_KEY_LINE: Final = re.compile(r"(ssh-ed25519|ecdsa-sha2-nistp\d+|ssh-rsa) ([A-Za-z0-9+/=]+)")


def host_keys_from_console(text: str) -> tuple[str, ...]:
    """The host public keys ("type base64", comment dropped) printed on a console, or ()."""
    for block in _BLOCKS:
        found = block.findall(text)
        if found:
            # The last block wins: a node that booted twice printed its keys twice.
            keys = (f"{m.group(1)} {m.group(2)}" for m in _KEY_LINE.finditer(found[-1]))
            return tuple(dict.fromkeys(keys))
    return ()


def fetch_host_keys(instance_id: str, region: str, *,
                    endpoint_url: str | None = None) -> tuple[str, ...]:
    """The node's host keys from its console output; () while the node has not printed them.

    Callers poll: the console shows the keys a little after the instance is running.
    """
    import boto3
    import botocore.exceptions

    client = boto3.client("ec2", region_name=region, endpoint_url=endpoint_url)
    try:
        reply = client.get_console_output(InstanceId=instance_id, Latest=True)
    except botocore.exceptions.NoCredentialsError as err:
        raise CloudError("no AWS credentials: configure them (aws configure, or "
                         "AWS_PROFILE / AWS_ACCESS_KEY_ID)", cloud="aws") from err
    except botocore.exceptions.BotoCoreError as err:
        raise CloudError(f"reading the console of {instance_id}: {err}", cloud="aws") from err
    except botocore.exceptions.ClientError as err:
        raise CloudError(f"reading the console of {instance_id}: {err}", cloud="aws") from err
    return host_keys_from_console(str(reply.get("Output") or ""))


def wait_for_host_keys(
    instance_id: str,
    region: str,
    *,
    timeout: float = 600.0,
    interval: float = 10.0,
    endpoint_url: str | None = None,
    fetch: Callable[[str, str, str | None], tuple[str, ...]] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> tuple[str, ...]:
    """Poll the console until the node prints its host keys; CloudError after `timeout` s.

    A fresh instance prints them at the end of its first boot, a minute or two after EC2
    reports it running. `fetch`, `sleep` and `clock` are seams for tests.
    """

    def console(instance: str, where: str, url: str | None) -> tuple[str, ...]:
        return fetch_host_keys(instance, where, endpoint_url=url)

    read = fetch or console
    deadline = clock() + timeout
    while True:
        keys = read(instance_id, region, endpoint_url)
        if keys:
            return keys
        if clock() >= deadline:
            raise CloudError(f"{instance_id} printed no SSH host keys on its console in "
                             f"{timeout:g}s; is it booting? (see its system log in the "
                             "EC2 console)", cloud="aws")
        sleep(interval)
