"""SkyPilot's AWS meanings: network_tier best, config warnings, accelerator names, new families."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from styx.clouds.aws import AwsSettings, compile_aws, shipped_catalog_path
from styx.compile import compile_spec
from styx.errors import CloudError
from styx.spec import Spec

SHIPPED = AwsSettings(catalog_path=shipped_catalog_path())
PLACEMENT = "aws:ec2/placementGroup:PlacementGroup"
INSTANCE = "aws:ec2/instance:Instance"


def _types(graph_resources: tuple[object, ...]) -> list[str]:
    return [r.args["instance_type"] for r in graph_resources  # type: ignore[attr-defined]
            if r.kind == INSTANCE]  # type: ignore[attr-defined]


def test_network_tier_best_picks_efa_types_in_a_placement_group(
        task: Callable[[str], Spec]) -> None:
    plain = compile_aws(task("resources:\n  infra: aws/us-east-1\n  accelerators: A100:8\n"
                             "num_nodes: 2\n"), "c", SHIPPED)
    assert set(_types(plain.resources)) == {"p4d.24xlarge"}
    # Without best the cheapest 8-GPU H100 machine may be any; with best it must have EFA.
    spec = task("resources:\n  infra: aws/us-east-1\n  accelerators: h100:8\n"
                "  network_tier: best\nnum_nodes: 2\n")
    graph = compile_aws(spec, "c", SHIPPED)
    assert set(_types(graph.resources)) == {"p5.48xlarge"}
    assert any(r.kind == PLACEMENT for r in graph.resources)
    assert all(r.args.get("placement_group") for r in graph.resources if r.kind == INSTANCE)
    assert any("network_tier best" in w and "EFA" in w for w in graph.warnings)


def test_network_tier_best_refuses_what_has_no_efa(task: Callable[[str], Spec]) -> None:
    spec = task("resources:\n  infra: aws/us-east-1\n  accelerators: T4:1\n"
                "  network_tier: best\n")
    with pytest.raises(CloudError, match="network_tier best needs high-speed networking"):
        compile_aws(spec, "c", SHIPPED)
    standard = task("resources:\n  infra: aws/us-east-1\n  accelerators: T4:1\n"
                    "  network_tier: standard\n")
    assert _types(compile_aws(standard, "c", SHIPPED).resources) == ["g4dn.xlarge"]


@pytest.mark.parametrize(("accelerators", "instance_type"), [
    ("H100:1", "p5.4xlarge"), ("h200:8", "p5e.48xlarge"), ("l40s:1", "g6e.xlarge"),
    ("Inferentia2:1", "inf2.xlarge"), ("trainium:16", "trn1.32xlarge"), ("v100:1", "p3.2xlarge"),
])
def test_current_families_are_chosen(accelerators: str, instance_type: str,
                                     task: Callable[[str], Spec]) -> None:
    spec = task(f"resources:\n  infra: aws/us-east-1\n  accelerators: {accelerators}\n")
    assert _types(compile_aws(spec, "c", SHIPPED).resources) == [instance_type]


def test_us_east_2_is_offered(task: Callable[[str], Spec]) -> None:
    spec = task("resources:\n  infra: aws/us-east-2\n  accelerators: L40S:4\n")
    graph = compile_aws(spec, "c", SHIPPED)
    assert _types(graph.resources) == ["g6e.12xlarge"]
    assert graph.resources[0].args["region"] == "us-east-2"


def test_accelerator_names_come_out_in_skypilots_spelling(task: Callable[[str], Spec]) -> None:
    spec = task("resources:\n  accelerators: {v100: 1, l40s: 2, a100-80gb: 8}\n")
    assert [str(c.accelerator) for c in spec.candidates] == ["A100-80GB:8", "L40S:2", "V100:1"]


def test_spec_warnings_reach_the_graph_on_both_clouds(task: Callable[[str], Spec]) -> None:
    text = ("resources:\n  cpus: 1\n  network_tier: best\n  job_recovery: FAILOVER\n"
            "config:\n  kubernetes:\n    pod_config: {}\n")
    local = compile_spec(task(text), "c")
    assert any(w.startswith("config.kubernetes.pod_config is ignored") for w in local.warnings)
    assert any(w.startswith("resources.job_recovery is ignored") for w in local.warnings)
    assert any("resources.network_tier: the local cloud ignores it" in w for w in local.warnings)
    aws_text = text.replace("network_tier: best", "cloud: aws").replace("cpus: 1", "cpus: 2")
    aws = compile_spec(task(aws_text), "c")  # the spec's warnings join in compile_spec
    assert any(w.startswith("config.kubernetes.pod_config is ignored") for w in aws.warnings)
