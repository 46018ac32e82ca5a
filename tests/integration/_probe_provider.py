"""A one-resource dynamic provider for engine tests; importable by the provider process."""

from __future__ import annotations

import hashlib
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, Resource, ResourceProvider


class ProbeProvider(ResourceProvider):
    """Stores a greeting and derives a digest from it, so outputs come from the provider."""

    def create(self, props: dict[str, Any]) -> CreateResult:
        digest = hashlib.sha256(props["greeting"].encode()).hexdigest()
        return CreateResult(id_=digest[:12], outs={**props, "digest": digest})

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = olds.get("greeting") != news.get("greeting")
        return DiffResult(changes=changed, replaces=["greeting"] if changed else [])


class Probe(Resource):
    digest: pulumi.Output[str]

    def __init__(self, name: str, greeting: str) -> None:
        super().__init__(ProbeProvider(), name, {"greeting": greeting, "digest": None})
