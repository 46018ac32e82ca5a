"""Every task field, on every cloud: honoured (and seen in the graph), warned, or refused.

Each row of the clouds' field rules is exercised by a task that sets that field: a refused
field must fail with the field, its file:line:col and the cloud; a warned one must warn at
its place; an honoured one must compile quietly and show in the graph. The README's field
table is these rules, written out.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from styx.clouds import CLOUD_NAMES, Support, cloud_named
from styx.compile import ResourceGraph, compile_spec
from styx.errors import CloudError, CloudFieldError
from styx.spec import load_task
from styx.spec._build import HANDLED_RESOURCE_FIELDS, HANDLED_TASK_FIELDS

REPO = Path(__file__).resolve().parents[2]


def _args(graph: ResourceGraph, kind: str) -> dict[str, Any]:
    return dict(next(d.args for d in graph.resources if d.kind.endswith(kind)))


@dataclass(frozen=True)
class Sample:
    """YAML that sets the field (resources fields are indented under `resources:`)."""

    text: str
    # What an honoured field looks like in the graph, per cloud.
    seen: dict[str, Callable[[ResourceGraph], bool]]


def _node(graph: ResourceGraph) -> dict[str, Any]:
    return _args(graph, "Node") if graph.cloud == "local" else _args(graph, "Instance")


SAMPLES: dict[str, Sample] = {
    "name": Sample("name: mine", {}),
    "num_nodes": Sample("num_nodes: 2", {"*": lambda g: len(g.nodes) == 2}),
    "workdir": Sample("workdir: data", {"*": lambda g: g.fields.workdir is not None}),
    "file_mounts (~/… or relative)": Sample(
        "file_mounts:\n  ~/data: data/x.txt", {"*": lambda g: "~/data" in g.fields.file_mounts}),
    "file_mounts (absolute or climbing out of ~)": Sample(
        "file_mounts:\n  /srv/data: data/x.txt",
        {"*": lambda g: "/srv/data" in g.fields.file_mounts}),
    "file_mounts (an s3:// bucket, COPY)": Sample(
        "file_mounts:\n  ~/data: s3://bucket-a/train",
        {"*": lambda g: g.fields.storage == {"~/data": "s3://bucket-a/train COPY"}}),
    "file_mounts (a bucket, MOUNT or MOUNT_CACHED)": Sample(
        "file_mounts:\n  ~/ckpt:\n    source: s3://bucket-a\n    mode: MOUNT_CACHED",
        {"aws": lambda g: g.fields.storage == {"~/ckpt": "s3://bucket-a MOUNT_CACHED"}}),
    "file_mounts (a bucket Styx creates (`name:` alone))": Sample(
        "file_mounts:\n  ~/out:\n    name: bucket-b\n    mode: COPY",
        {"aws": lambda g: _args(g, "Bucket")["bucket"] == "bucket-b",
         "local": lambda g: g.fields.storage == {"~/out": "s3://bucket-b COPY"}}),
    "envs": Sample("envs:\n  A: b", {"*": lambda g: g.fields.envs == {"A": "b"}}),
    "secrets": Sample("secrets:\n  S: x", {"*": lambda g: "S" in g.fields.secrets}),
    "setup": Sample("setup: echo hi", {"*": lambda g: g.fields.setup == "echo hi"}),
    "run": Sample("run: echo hi", {"*": lambda g: g.fields.run == "echo hi"}),
    "resources.cloud": Sample("cloud: {cloud}", {"*": lambda g: g.cloud in CLOUD_NAMES}),
    "resources.infra": Sample("infra: {infra}", {"*": lambda g: g.cloud in CLOUD_NAMES}),
    "resources.region": Sample("region: eu-west-1", {
        "aws": lambda g: _args(g, "aws")["region"] == "eu-west-1"}),
    "resources.zone": Sample("zone: us-east-1a", {
        "aws": lambda g: _args(g, "Subnet")["availability_zone"] == "us-east-1a"}),
    "resources.instance_type": Sample("instance_type: m6i.large", {
        "aws": lambda g: _node(g)["instance_type"] == "m6i.large"}),
    "resources.cpus": Sample("cpus: 1+", {
        "local": lambda g: _node(g)["cpus"] == 1,
        "aws": lambda g: g.choice is not None and g.choice.to_dict()["candidates"][0] is not None}),
    "resources.memory": Sample("memory: 1+", {
        "local": lambda g: _node(g)["memory_gb"] == 1,
        "aws": lambda g: g.choice is not None}),
    "resources.accelerators": Sample("accelerators: V100:1", {
        "aws": lambda g: _node(g)["instance_type"].startswith("p3.")}),
    "resources.gpus": Sample("gpus: V100:1", {
        "aws": lambda g: _node(g)["instance_type"].startswith("p3.")}),
    "resources.use_spot": Sample("use_spot: true", {
        "aws": lambda g: _node(g)["instance_market_options"]["market_type"] == "spot"}),
    "resources.disk_size": Sample("disk_size: 100", {
        "aws": lambda g: _node(g)["root_block_device"]["volume_size"] == 100}),
    "resources.disk_tier": Sample("disk_tier: high", {
        "aws": lambda g: _node(g)["root_block_device"]["iops"] == 6000}),
    "resources.ports": Sample("ports: 8888", {
        "*": lambda g: g.ports == ("8888",),
        "aws": lambda g: any(rule.get("from_port") == 8888
                             for rule in _args(g, "SecurityGroup")["ingress"])}),
    "resources.image_id (ami-…)": Sample("image_id: ami-0123456789abcdef0", {
        "aws": lambda g: _node(g)["ami"] == "ami-0123456789abcdef0"}),
    "resources.image_id (docker:… or a name)": Sample("image_id: docker:ubuntu:22.04", {}),
    "resources.labels": Sample("labels:\n    team: ml", {
        "aws": lambda g: _args(g, "aws")["default_tags"]["tags"]["team"] == "ml"}),
    "resources.autostop": Sample("autostop: 10", {}),
    "resources.any_of": Sample("any_of:\n    - cpus: 1+\n    - cpus: 2+", {
        "local": lambda g: _node(g)["cpus"] == 1, "aws": lambda g: g.choice is not None}),
    "resources.ordered": Sample("ordered:\n    - cpus: 1+\n    - cpus: 2+", {
        "local": lambda g: _node(g)["cpus"] == 1, "aws": lambda g: g.choice is not None}),
    "resources.network_tier": Sample("network_tier: best\n{efa_fit}", {
        "aws": lambda g: _node(g)["instance_type"].startswith("p5")}),
    "resources.job_recovery": Sample("job_recovery: FAILOVER", {}),
    "resources.spot_recovery": Sample("spot_recovery: FAILOVER", {}),
    "config": Sample("config:\n  aws:\n    labels:\n      team: ml\n  jobs:\n    bucket: b", {
        "aws": lambda g: _args(g, "aws")["default_tags"]["tags"]["team"] == "ml"}),
    "service": Sample("service:\n  readiness_probe: /\n  replicas: 2", {}),
    "pool": Sample("pool:\n  workers: 2", {}),
}

# Warned by the task layer whatever the cloud (managed-job settings, `config:` keys): the
# row documents it, the warning names the field.
SPEC_WARNED = ("resources.job_recovery", "resources.spot_recovery", "config", "service", "pool")

INFRA = {"local": "local", "aws": "aws/us-east-1"}
# network_tier best on AWS needs a type with EFA, which the catalog has among GPU types only.
EFA_FIT = {"local": "cpus: 1+", "aws": "accelerators: H100:8"}
ROWS = [(cloud, rule.key) for cloud in CLOUD_NAMES for rule in cloud_named(cloud).rules]


def _task(tmp_path: Path, cloud: str, key: str) -> tuple[Path, int]:
    """A task setting the sampled field; and the line the field is written on."""
    (tmp_path / "data").mkdir(exist_ok=True)
    (tmp_path / "data" / "x.txt").write_text("x")
    sample = SAMPLES[key].text.format(cloud=cloud, infra=INFRA[cloud], efa_fit=EFA_FIT[cloud])
    named = key in ("resources.cloud", "resources.infra")
    resources = ["resources:"] + ([] if named else [f"  cloud: {cloud}"])
    top: list[str] = []
    if key.startswith("resources."):
        line = len(resources) + 1
        resources += ["  " + part for part in sample.splitlines()]
    else:
        line = len(resources) + 1
        top = sample.splitlines()
    path = tmp_path / "task.yaml"
    path.write_text("\n".join(resources + top) + "\n")
    return path, line


def test_every_task_field_has_a_row_on_every_cloud() -> None:
    fields = ({f for f in HANDLED_TASK_FIELDS if f != "resources"}
              | {f"resources.{f}" for f in HANDLED_RESOURCE_FIELDS})
    for cloud in CLOUD_NAMES:
        rules = cloud_named(cloud).rules
        assert {r.field for r in rules} == fields, cloud
        assert [r.key for r in rules] == list(SAMPLES), cloud
        for rule in rules:
            # A warned or refused row says how to tell that a task asks for it.
            assert rule.support is Support.HONOURED or rule.asks is not None or \
                rule.field in ("resources.gpus", *SPEC_WARNED), (cloud, rule.key)


@pytest.mark.parametrize(("cloud", "key"), ROWS)
def test_each_field_is_honoured_warned_or_refused_as_its_row_says(
    cloud: str, key: str, tmp_path: Path, styx_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # relative local paths resolve against the cwd, as in SkyPilot
    rule = next(r for r in cloud_named(cloud).rules if r.key == key)
    path, line = _task(tmp_path, cloud, key)
    spec = load_task(path)
    where = f"{path}:{line}:"
    if rule.support is Support.REFUSED:
        with pytest.raises(CloudFieldError) as err:
            compile_spec(spec, "c")
        assert err.value.cloud == cloud
        located = [str(i) for i in err.value.issues if str(i).startswith(where)]
        assert located and f"the {cloud} cloud refuses it" in located[0], str(err.value)
        assert re.match(rf"{re.escape(str(path))}:{line}:\d+: resources\.\w+: ", located[0]) or \
            re.match(rf"{re.escape(str(path))}:{line}:\d+: file_mounts: ", located[0])
        return
    graph = compile_spec(spec, "c")
    if rule.field in ("service", "pool"):
        # Located at the section, in SkyPilot's words for what `sky launch` does with it.
        assert any(w.startswith(f"{where}1: {rule.field}: is used by `sky ")
                   and "launches the task without it" in w for w in graph.warnings), graph.warnings
        return
    if rule.field in SPEC_WARNED and rule.support is Support.WARNED:
        leaf = rule.field.split(".")[-1]
        assert any(leaf in w and "ignored" in w for w in graph.warnings), graph.warnings
        return
    ours = [w for w in graph.warnings if w.startswith(where)]
    if rule.support is Support.WARNED:
        assert len(ours) == 1 and f"the {cloud} cloud ignores it" in ours[0], graph.warnings
        return
    assert ours == [], graph.warnings
    for name, seen in SAMPLES[key].seen.items():
        if name in ("*", cloud):
            assert seen(graph), (cloud, key)


def test_a_flag_is_blamed_for_what_it_set(tmp_path: Path) -> None:
    from styx.clouds.overrides import ResourceOverrides, apply_overrides

    path = tmp_path / "t.yaml"
    path.write_text("resources:\n  cpus: 1\n")
    spec = apply_overrides(load_task(path), ResourceOverrides(use_spot=True))
    with pytest.raises(CloudFieldError, match=r"^--use-spot: resources\.use_spot: the local "):
        compile_spec(spec, "c")


def test_a_stack_files_region_is_blamed_on_the_stack_file(tmp_path: Path) -> None:
    from styx.spec import load_stack

    task = tmp_path / "t.yaml"
    task.write_text("run: echo\n")
    stack_path = tmp_path / "stack.yaml"
    stack_path.write_text(f"name: s\ntask: {task}\nregion: us-east-1\n")
    stack = load_stack(stack_path)
    spec = load_task(task, stack=stack)
    with pytest.raises(CloudFieldError, match=rf"^{re.escape(str(stack_path))}: resources.region"):
        compile_spec(spec, "c", stack)


def _table() -> str:
    clouds = [cloud_named(name) for name in CLOUD_NAMES]
    lines = [f"| field | {' | '.join(c.name for c in clouds)} |",
             f"|---|{'---|' * len(clouds)}"]
    for index, rule in enumerate(clouds[0].rules):
        cells = [f"{c.rules[index].support.value}: {c.rules[index].note}" for c in clouds]
        lines.append(f"| `{rule.field}`{f' ({rule.when})' if rule.when else ''} | "
                     f"{' | '.join(cells)} |")
    return "\n".join(lines)


def test_the_readme_table_is_the_rules(update_goldens: bool) -> None:
    readme = REPO / "README.md"
    text = readme.read_text(encoding="utf-8")
    start, end = "<!-- field-table -->\n", "\n<!-- /field-table -->"
    assert start in text and end in text
    before, rest = text.split(start, 1)
    table, after = rest.split(end, 1)
    if update_goldens:
        readme.write_text(before + start + _table() + end + after, encoding="utf-8")
        return
    assert table == _table(), "README field table differs: run pytest --update-goldens"


def test_what_the_local_cloud_cannot_do_is_said() -> None:
    support = {r.key: r.support for r in cloud_named("local").rules}
    for key in ("resources.use_spot", "resources.instance_type", "resources.region",
                "resources.zone", "resources.accelerators", "resources.image_id (ami-…)",
                "resources.image_id (docker:… or a name)"):
        assert support[key] is Support.REFUSED, key
    for key in ("resources.disk_size", "resources.disk_tier", "resources.labels"):
        assert support[key] is Support.WARNED, key
    assert support["resources.ports"] is Support.HONOURED
    assert support["resources.autostop"] is Support.HONOURED  # the head's agent enforces it


def test_the_spec_layer_knows_the_same_clouds_as_the_table() -> None:
    from styx.spec import STYX_CLOUDS

    assert tuple(STYX_CLOUDS) == CLOUD_NAMES


def test_candidates_choose_the_cloud_when_resources_name_none(
    tmp_path: Path, styx_home: Path
) -> None:
    path = tmp_path / "t.yaml"
    path.write_text("resources:\n  any_of:\n    - infra: aws/us-east-1\n      cpus: 2+\n"
                    "    - infra: aws/eu-west-1\n      cpus: 2+\n")
    assert compile_spec(load_task(path), "c").cloud == "aws"
    path.write_text("resources:\n  any_of:\n    - cloud: aws\n    - cloud: local\n")
    with pytest.raises(CloudError, match=r"t\.yaml:3:7: resources.cloud: the candidates name "
                                         r"clouds aws, local; a cluster runs on one cloud"):
        compile_spec(load_task(path), "c")
