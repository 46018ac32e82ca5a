"""Task ports on AWS: each one open to the world is a plan warning; port 22 is not doubled."""

from __future__ import annotations

from collections.abc import Callable

from styx.clouds.aws import AwsSettings, compile_aws, shipped_catalog_path
from styx.spec import Spec

SHIPPED = AwsSettings(catalog_path=shipped_catalog_path())


def _ingress(graph: object) -> list[dict[str, object]]:
    groups = [r.args for r in graph.resources  # type: ignore[attr-defined]
              if r.kind.endswith("SecurityGroup")]
    assert len(groups) == 1
    return list(groups[0]["ingress"])


def test_each_task_port_open_to_the_world_is_a_warning(task: Callable[[str], Spec]) -> None:
    spec = task("resources:\n  cloud: aws\n  cpus: 2\n  ports: [8080, 9000-9010]\n")
    graph = compile_aws(spec, "c", SHIPPED)
    port_warnings = [w for w in graph.warnings if w.startswith("task port")]
    assert [w.split(" is ")[0] for w in port_warnings] == ["task port 8080",
                                                          "task port 9000-9010"]
    assert all("open to the world" in w for w in port_warnings)


def test_port_22_in_ports_adds_no_duplicate_rule(task: Callable[[str], Spec]) -> None:
    spec = task("resources:\n  cloud: aws\n  cpus: 2\n  ports: [22, 8080]\n")
    graph = compile_aws(spec, "c", SHIPPED)
    rules = [(r.get("protocol"), r.get("from_port"), r.get("to_port"))
             for r in _ingress(graph)]
    assert rules.count(("tcp", 22, 22)) == 1
    assert ("tcp", 8080, 8080) in rules
    assert not any(w.startswith("task port 22 ") for w in graph.warnings)
