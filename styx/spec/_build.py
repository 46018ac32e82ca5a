"""Build the Spec from a schema-valid document, reporting every semantic problem in place."""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final, TypeVar

from styx.errors import SpecIssue
from styx.spec._config import read_config
from styx.spec._model import Accelerator, FrozenMap, Resources, Secret, Spec
from styx.spec._parse import (
    parse_accelerators,
    parse_autostop,
    parse_cloud,
    parse_cpus,
    parse_disk_size,
    parse_infra,
    parse_memory,
    parse_ports,
)
from styx.spec._storage import StorageMount, read_bucket_url, read_storage
from styx.spec._template import ENV_NAME, ENV_REFERENCE, substitute_envs
from styx.spec._yaml import Document, NodePath, describe_path

__all__ = [
    "HANDLED_AUTOSTOP_FIELDS",
    "HANDLED_RESOURCE_FIELDS",
    "HANDLED_TASK_FIELDS",
    "Overrides",
    "build_spec",
    "normalize",
]

T = TypeVar("T")

# The schema fields this module turns into the model; tests hold them equal to the schema's
# supported (not x-styx-unsupported) properties, so neither side can drift.
HANDLED_TASK_FIELDS: Final = frozenset(
    {"name", "workdir", "num_nodes", "resources", "envs", "secrets", "file_mounts", "setup", "run",
     "config", "service", "pool"}
)
HANDLED_RESOURCE_FIELDS: Final = frozenset(
    {"infra", "cloud", "region", "zone", "instance_type", "cpus", "memory", "accelerators",
     "gpus", "use_spot", "disk_size", "disk_tier", "ports", "image_id", "labels", "autostop",
     "any_of", "ordered", "network_tier", "job_recovery", "spot_recovery"}
)
HANDLED_AUTOSTOP_FIELDS: Final = frozenset({"idle_minutes", "down", "wait_for"})

_LOCATION_FIELDS: Final = ("cloud", "region", "zone")
# Marks a block whose location came from `infra` (which sets all of it, unset parts too).
_WHOLE_LOCATION: Final = "<infra>"
_URL: Final = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
_CASE_INSENSITIVE: Final = ("cloud", "disk_tier", "network_tier")
# Read and reported as ignored: they drive managed jobs, which `sky launch` ignores too.
_MANAGED_JOB_FIELDS: Final = ("job_recovery", "spot_recovery")
# Sections `sky launch` reads and leaves out (sky/client/cli/command.py, `launch`: "Service
# section will be ignored when using `sky launch`"), with the command that does use each.
_LAUNCH_IGNORES: Final = (("service", "sky serve up"), ("pool", "sky jobs pool apply"))
# Where SkyPilot puts a relative remote path, and the workdir.
_REMOTE_WORKDIR: Final = "~/sky_workdir"


@dataclass(frozen=True)
class Overrides:
    """Values from outside the task file: --env, --env-file, --secret (later ones win)."""

    envs: Mapping[str, str] = field(default_factory=dict)
    secrets: Mapping[str, str] = field(default_factory=dict)
    origin: str = "--env"


def normalize(data: dict[str, Any]) -> dict[str, Any]:
    """What SkyPilot does before validating: env values to strings, some names lower-cased."""
    result = dict(data)
    for section in ("envs", "secrets"):
        block = result.get(section)
        if isinstance(block, dict):
            result[section] = {k: _env_text(v) for k, v in block.items()}
    resources = result.get("resources")
    if isinstance(resources, dict):
        result["resources"] = _normalize_resources(resources)
    return result


def _env_text(value: Any) -> Any:
    # SkyPilot applies str(): `EPOCHS: 3` is "3", `DEBUG: true` is "True".
    if isinstance(value, bool | int | float):
        return str(value)
    return value


def _normalize_resources(block: dict[str, Any]) -> dict[str, Any]:
    result = dict(block)
    for key in _CASE_INSENSITIVE:
        if isinstance(result.get(key), str):
            result[key] = result[key].lower()
    autostop = result.get("autostop")
    if isinstance(autostop, dict) and isinstance(autostop.get("wait_for"), str):
        result["autostop"] = {**autostop, "wait_for": autostop["wait_for"].lower()}
    for key in ("any_of", "ordered"):
        if isinstance(result.get(key), list):
            result[key] = [_normalize_resources(b) if isinstance(b, dict) else b
                           for b in result[key]]
    return result


def build_spec(document: Document, source: Path, overrides: Overrides,
               base: Path | None = None) -> tuple[Spec | None, list[SpecIssue]]:
    """The Spec, or None with the issues found (all of them, not just the first).

    Relative local paths resolve against `base`, by default the directory Styx runs in, as
    SkyPilot resolves them against the directory `sky` runs in.
    """
    builder = _Builder(document, base if base is not None else Path(os.getcwd()))
    spec = builder.build(source, overrides)
    issues = sorted(builder.issues, key=lambda i: (i.path, i.line or 0, i.column or 0))
    return (spec if not issues else None), issues


# A resource field's value and where it was written (the base block or an any_of entry).
_Field = tuple[Any, NodePath]


class _Builder:
    def __init__(self, document: Document, base_dir: Path) -> None:
        self._doc = document
        self._base = base_dir
        # Keyed by place and field: infra's place also yields its cloud, region and zone.
        self._memo: dict[tuple[NodePath, str], Any] = {}
        self._failed: set[NodePath] = set()
        self.issues: list[SpecIssue] = []

    def _issue(self, path: NodePath, message: str, *, key: bool = False) -> None:
        self.issues.append(self._doc.issue(path, message, key=key))

    def _parse(self, path: NodePath, value: Any, parser: Callable[[Any], T],
               label: str = "") -> T | None:
        """parser(value), once per place in the file; a ValueError becomes a located issue."""
        key = (path, label)
        if key in self._memo:
            result: T = self._memo[key]
            return result
        if path in self._failed:
            return None
        try:
            parsed = parser(value)
        except ValueError as err:
            self._failed.add(path)
            self._issue(path, str(err))
            return None
        except OverflowError:  # `cpus: 1` and 400 zeros: no float holds it
            self._failed.add(path)
            self._issue(path, f"number too large: {str(value)[:20]}...")
            return None
        self._memo[key] = parsed
        return parsed

    def build(self, source: Path, overrides: Overrides) -> Spec:
        data: dict[str, Any] = self._doc.data
        envs = self._variables("envs", data.get("envs") or {}, overrides.envs, overrides.origin)
        raw_secrets = self._variables("secrets", data.get("secrets") or {}, overrides.secrets,
                                      "--secret")
        for name in sorted(envs.keys() & raw_secrets.keys()):
            # Both would be exported; which one wins would be an accident of ordering.
            self._issue(("secrets", name), f"{name} is both an env and a secret; keep one",
                        key=True)
        resources, candidates, ordered = self._resources(data.get("resources") or {})
        config = read_config(data.get("config"))
        for where, message in config.problems:
            self._issue(where, message)
        if config.labels:
            # The task's own labels win over config's, as in SkyPilot.
            resources = _with_labels(resources, config.labels)
            candidates = tuple(_with_labels(c, config.labels) for c in candidates)
        mounts, storage = self._file_mounts(data.get("file_mounts") or {}, envs)
        warnings = [*config.warnings, *self._managed_job_warnings(data.get("resources") or {}),
                    *self._launch_ignores(data)]
        return Spec(
            name=data.get("name"),
            source=source,
            num_nodes=data.get("num_nodes", 1),
            resources=resources,
            candidates=candidates,
            candidates_ordered=ordered,
            envs=FrozenMap(envs),
            secrets=FrozenMap({k: Secret(v) for k, v in raw_secrets.items()}),
            file_mounts=FrozenMap(mounts),
            storage=FrozenMap(storage),
            workdir=self._workdir(data.get("workdir"), envs),
            setup=data.get("setup"),
            run=data.get("run"),
            warnings=tuple(warnings),
        )

    def _managed_job_warnings(self, block: Mapping[str, Any]) -> list[str]:
        found: list[str] = []
        places: list[tuple[NodePath, Mapping[str, Any]]] = [(("resources",), block)]
        for key in ("any_of", "ordered"):
            for index, entry in enumerate(block.get(key) or []):
                if isinstance(entry, Mapping):
                    places.append((("resources", key, index), entry))
        for path, fields in places:
            for name in _MANAGED_JOB_FIELDS:
                if name in fields:
                    found.append(f"{describe_path((*path, name))} is ignored: it applies to "
                                 "managed jobs (`sky jobs launch`), which Styx does not run, "
                                 "and `sky launch` ignores it too")
        return found

    def _launch_ignores(self, data: Mapping[str, Any]) -> list[str]:
        """`service:` and `pool:`: `sky launch` launches the task without them, as Styx does."""
        present = [(name, command) for name, command in _LAUNCH_IGNORES if name in data]
        if len(present) == 2:
            # SkyPilot's Task.from_yaml_config refuses this too.
            self._issue(("pool",), "give either service or pool, not both", key=True)
            return []
        found: list[str] = []
        for name, command in present:
            mark = self._doc.mark((name,), key=True)
            found.append(f"{self._doc.display}:{mark.line}:{mark.column}: {name}: is used by "
                         f"`{command}`; styx launches the task without it, as `sky launch` "
                         "does")
        return found

    # -- envs and secrets ---------------------------------------------------------------

    def _variables(self, section: str, declared: Mapping[str, str | None],
                   given: Mapping[str, str], origin: str) -> dict[str, str]:
        values: dict[str, str | None] = dict(declared)
        for key, value in given.items():
            if not ENV_NAME.fullmatch(key):
                self.issues.append(SpecIssue(origin, None, None, key,
                                             f"invalid variable name {key!r}"))
                continue
            values[key] = value
        result: dict[str, str] = {}
        for key, maybe in values.items():
            if maybe is None:
                flag = "--secret" if section == "secrets" else "--env"
                self._issue((section, key), f"{key} has no value: pass {flag} {key}=VALUE "
                            f"(or write {key}: \"\" for an empty value)", key=True)
                continue
            result[key] = maybe
        return result

    # -- workdir and file_mounts ---------------------------------------------------------

    def _local_path(self, raw: str, path: NodePath, envs: Mapping[str, str], *,
                    folder: bool) -> str | None:
        text = substitute_envs(raw, envs)
        if _URL.match(text):
            self._issue(path, f"not supported by Styx yet: bucket or URL sources ({text!r}); "
                        "use a local path")
            return None
        local = Path(os.path.expanduser(text))
        resolved = os.path.normpath(local if local.is_absolute() else self._base / local)
        if not os.path.exists(resolved):
            unset = sorted({m.group(1) or m.group(2) for m in ENV_REFERENCE.finditer(text)})
            hint = f"; {', '.join(unset)} not set in envs" if unset else ""
            if not local.is_absolute():
                hint += (f"; relative paths are relative to {self._base} (the directory Styx "
                         "runs in, as with `sky`, unless a stack file's paths_base pins it)")
            self._issue(path, f"local path {text!r} does not exist (looked at {resolved}){hint}")
            return None
        if folder and not os.path.isdir(resolved):
            self._issue(path, f"workdir {text!r} is not a folder")
            return None
        return resolved

    def _workdir(self, raw: str | None, envs: Mapping[str, str]) -> Path | None:
        if raw is None:
            return None
        resolved = self._local_path(raw, ("workdir",), envs, folder=True)
        return None if resolved is None else Path(resolved)

    def _file_mounts(self, mounts: Mapping[str, Any], envs: Mapping[str, str]
                     ) -> tuple[dict[str, str], dict[str, StorageMount]]:
        """Local files and folders (destination -> local path), and buckets, apart."""
        result: dict[str, str] = {}
        storage: dict[str, StorageMount] = {}
        for raw_dst, raw_src in mounts.items():
            path: NodePath = ("file_mounts", raw_dst)
            dst = _remote_path(substitute_envs(raw_dst, envs))
            if dst is None:
                self._issue(path, f"remote path {raw_dst!r} leaves ~/sky_workdir (where "
                            "relative remote paths go); write it absolute or from ~/", key=True)
                continue
            if dst in result or dst in storage:
                self._issue(path, f"remote path {dst!r} is mounted twice", key=True)
                continue
            if isinstance(raw_src, Mapping):
                mount, problems = read_storage(raw_src, envs)
                for key, message in problems:
                    self._issue((*path, key) if key else path, message, key=not key)
                if mount is not None:
                    storage[dst] = mount
                continue
            text = substitute_envs(raw_src, envs)
            if _URL.match(text):
                bucket, why = read_bucket_url(text)
                if bucket is None:
                    self._issue(path, why or f"not a bucket URL: {text!r}")
                else:
                    storage[dst] = bucket
                continue
            src = self._local_path(raw_src, path, envs, folder=False)
            if src is not None:
                result[dst] = src
        return result, storage

    # -- resources -----------------------------------------------------------------------

    def _resources(self, block: Mapping[str, Any]) -> tuple[Resources, tuple[Resources, ...],
                                                           bool]:
        base_path: NodePath = ("resources",)
        base = self._fields(block, base_path)
        any_of, ordered = block.get("any_of"), block.get("ordered")
        if any_of is not None and ordered is not None:
            self._issue((*base_path, "ordered"), "give either any_of or ordered, not both",
                        key=True)
        alternatives_key = "any_of" if any_of is not None else "ordered"
        alternatives: list[Any] = any_of if any_of is not None else (ordered or [])
        choices, accel_ordered = self._accelerators(base)
        if ordered is not None and len(choices) > 1:
            self._issue((*base_path, "accelerators"),
                        "several accelerators cannot be combined with `ordered`; "
                        "put each accelerator in its own `ordered` entry")
        if any_of is not None and accel_ordered:
            self._issue((*base_path, "accelerators"),
                        "an ordered list of accelerators cannot be combined with `any_of`; "
                        "use a set ('{V100:1, A100:1}') or separate `any_of` entries")
        first = self._one(base, choices[0] if choices else None)
        candidates: list[Resources] = []
        for index, entry in enumerate(alternatives):
            path: NodePath = (*base_path, alternatives_key, index)
            for nested in ("any_of", "ordered"):
                if nested in entry:
                    self._issue((*path, nested), f"`{nested}` cannot be nested inside "
                                f"`{alternatives_key}`", key=True)
            merged = self._override(base, self._fields(entry, path))
            merged_choices, _ = self._accelerators(merged)
            candidates.extend(self._one(merged, c) for c in merged_choices or [None])
        if not alternatives:
            candidates = [self._one(base, c) for c in choices] or [first]
        unique = tuple(dict.fromkeys(candidates))
        is_ordered = ordered is not None or (any_of is None and accel_ordered)
        return first, unique, is_ordered and len(unique) > 1

    def _fields(self, block: Mapping[str, Any], path: NodePath) -> dict[str, _Field]:
        fields = {k: (v, (*path, k)) for k, v in block.items() if k not in ("any_of", "ordered")}
        if "gpus" in fields:
            if "accelerators" in fields:
                self._issue((*path, "gpus"), "give either gpus or accelerators, not both",
                            key=True)
            fields["accelerators"] = fields.pop("gpus")
        if "infra" in fields:
            clash = [k for k in _LOCATION_FIELDS if k in fields]
            if clash:
                self._issue((*path, clash[0]), f"give either infra or {'/'.join(clash)}, "
                            "not both", key=True)
            # From here on infra is its parts, so that entries can override them one by one;
            # they keep infra's place in the file for error messages.
            value, where = fields.pop("infra")
            location = self._parse(where, value, parse_infra, "infra")
            if location is not None:
                cloud, region, zone = location
                fields["cloud"] = ("*" if cloud is None else cloud, where)
                for key, part in (("region", region), ("zone", zone)):
                    if part is not None:
                        fields[key] = (part, where)
            fields[_WHOLE_LOCATION] = (True, where)
        return fields

    @staticmethod
    def _override(base: dict[str, _Field], entry: dict[str, _Field]) -> dict[str, _Field]:
        """An any_of/ordered entry replaces base fields, with three refinements.

        Labels merge. A location follows its parts: an entry's `infra` replaces the whole
        location, a different `cloud` drops the base's region and zone, a `region` its zone.
        """
        merged = dict(base)
        merged.pop(_WHOLE_LOCATION, None)
        if _WHOLE_LOCATION in entry:
            for key in _LOCATION_FIELDS:
                merged.pop(key, None)
        elif "cloud" in entry and str(entry["cloud"][0]).lower() != \
                str(base.get("cloud", (None,))[0]).lower():
            merged.pop("region", None)
            merged.pop("zone", None)
        elif "region" in entry:
            merged.pop("zone", None)
        for key, value in entry.items():
            if key == "labels" and "labels" in base:
                merged[key] = ({**base["labels"][0], **value[0]}, value[1])
            elif key != _WHOLE_LOCATION:
                merged[key] = value
        return merged

    def _accelerators(self, fields: dict[str, _Field]) -> tuple[tuple[Accelerator, ...], bool]:
        if "accelerators" not in fields:
            return (), False
        value, path = fields["accelerators"]
        parsed = self._parse(path, value, parse_accelerators, "accelerators")
        return parsed if parsed is not None else ((), False)

    def _one(self, fields: dict[str, _Field], accelerator: Accelerator | None) -> Resources:
        """One Resources from merged fields (bad fields were reported and are left unset)."""

        def get(key: str, parser: Callable[[Any], T]) -> T | None:
            if key not in fields:
                return None
            value, path = fields[key]
            return self._parse(path, value, parser, key)

        image = get("image_id", _image)
        return Resources(
            cloud=get("cloud", parse_cloud),
            region=get("region", str),
            zone=get("zone", str),
            instance_type=get("instance_type", str),
            cpus=get("cpus", parse_cpus),
            memory=get("memory", parse_memory),
            accelerator=accelerator,
            use_spot=bool(get("use_spot", bool)),
            disk_size_gb=get("disk_size", parse_disk_size),
            disk_tier=get("disk_tier", str),
            ports=get("ports", parse_ports) or (),
            image_id=image,
            labels=get("labels", _labels) or FrozenMap(),
            autostop=get("autostop", parse_autostop),
            network_tier=get("network_tier", str),
        )


def _remote_path(dst: str) -> str | None:
    """A remote path as SkyPilot places it: a relative one lands under ~/sky_workdir/.

    None when a relative path climbs out of ~/sky_workdir ('../x'): SkyPilot would put it
    beside the workdir, which no other node path spells the same way.
    """
    if dst.startswith("/") or dst.startswith("~"):
        return dst
    relative = posixpath.normpath(dst)
    if relative == ".." or relative.startswith("../"):
        return None
    return _REMOTE_WORKDIR if relative == "." else f"{_REMOTE_WORKDIR}/{relative}"


def _with_labels(resources: Resources, labels: Mapping[str, str]) -> Resources:
    return replace(resources, labels=FrozenMap(sorted({**labels, **resources.labels}.items())))


def _image(value: Any) -> str | FrozenMap[str] | None:
    if value is None:
        return None
    if isinstance(value, Mapping):
        return FrozenMap({str(k).strip(): str(v).strip() for k, v in sorted(value.items())})
    return str(value).strip()


def _labels(value: Any) -> FrozenMap[str]:
    return FrozenMap({str(k): str(v) for k, v in sorted(dict(value).items())})
