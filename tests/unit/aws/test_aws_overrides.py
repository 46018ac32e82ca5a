"""Command-line resource overrides: they win over the task, on every candidate."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from styx.clouds.overrides import ResourceOverrides, apply_overrides
from styx.errors import SpecError
from styx.spec import Accelerator, Bound, Spec


def test_no_flags_leave_the_spec_alone(task: Callable[[str], Spec]) -> None:
    spec = task("resources:\n  cpus: 2\n")
    assert apply_overrides(spec, ResourceOverrides()) is spec


def test_infra_sets_cloud_region_and_zone(task: Callable[[str], Spec]) -> None:
    spec = task("resources:\n  cloud: local\n  cpus: 2\n")
    out = apply_overrides(spec, ResourceOverrides(infra="aws/us-east-1"))
    assert (out.resources.cloud, out.resources.region, out.resources.zone) == (
        "aws", "us-east-1", None)
    assert out.candidates[0].cloud == "aws"
    assert out.resources.cpus == Bound(2, False)
    zoned = apply_overrides(spec, ResourceOverrides(infra="aws/us-west-2/us-west-2a"))
    assert zoned.resources.zone == "us-west-2a"


def test_cloud_drops_another_clouds_region(task: Callable[[str], Spec]) -> None:
    spec = task("resources:\n  infra: aws/us-east-1\n")
    assert apply_overrides(spec, ResourceOverrides(cloud="local")).resources.region is None
    same = apply_overrides(spec, ResourceOverrides(cloud="aws"))
    assert same.resources.region == "us-east-1"


def test_gpus_cpus_memory_spot_nodes(task: Callable[[str], Spec]) -> None:
    spec = task("num_nodes: 1\nresources:\n  cloud: aws\n  accelerators: T4:1\n")
    out = apply_overrides(spec, ResourceOverrides(gpus="V100:8", cpus="32+", memory="128+",
                                                  use_spot=True, num_nodes=4,
                                                  instance_type="p3.16xlarge"))
    assert out.num_nodes == 4
    for resources in (out.resources, *out.candidates):
        assert resources.accelerator == Accelerator("V100", 8)
        assert (resources.cpus, resources.memory) == (Bound(32, True), Bound(128, True))
        assert resources.use_spot and resources.instance_type == "p3.16xlarge"
    assert out.fingerprint() != spec.fingerprint()


def test_flags_apply_to_every_candidate(task: Callable[[str], Spec]) -> None:
    spec = task("resources:\n  cloud: aws\n  any_of:\n    - accelerators: T4:1\n"
                "    - accelerators: A10G:1\n")
    out = apply_overrides(spec, ResourceOverrides(use_spot=True))
    assert len(out.candidates) == 2 and all(c.use_spot for c in out.candidates)
    # One --gpus for both candidates leaves one candidate.
    assert len(apply_overrides(spec, ResourceOverrides(gpus="V100:1")).candidates) == 1
    several = apply_overrides(spec, ResourceOverrides(gpus="[A100:8, V100:8]"))
    assert several.candidates_ordered
    assert [c.accelerator for c in several.candidates] == [Accelerator("A100", 8),
                                                          Accelerator("V100", 8)]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (ResourceOverrides(gpus="V100:x"), "--gpus: expected an accelerator"),
        (ResourceOverrides(cpus="four"), "--cpus: expected a number of vCPUs"),
        (ResourceOverrides(cloud="gcp"), "--cloud: cloud 'gcp' is not supported by Styx yet"),
        (ResourceOverrides(infra="aws/a/b/c"), "--infra: expected 'cloud'"),
        (ResourceOverrides(cloud="aws", infra="aws"), "--infra: give either --cloud or --infra"),
        (ResourceOverrides(num_nodes=0), "--num-nodes: must be at least 1"),
    ],
)
def test_bad_flags_are_spec_errors(overrides: ResourceOverrides, message: str,
                                   task: Callable[[str], Spec]) -> None:
    with pytest.raises(SpecError) as err:
        apply_overrides(task("resources:\n  cpus: 2\n"), overrides)
    assert message in str(err.value)
