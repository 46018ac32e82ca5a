"""The optimizer over a fixed catalog: cheapest fit, any_of / ordered, and clear failures."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from styx.clouds.aws import Catalog, choose_instance, parse_catalog
from styx.errors import CloudError
from styx.spec import Accelerator, Bound, Resources, Spec

from .conftest import FIXED_CATALOG


def choose(catalog: Catalog, *candidates: Resources, ordered: bool = False,
           region: str | None = None) -> str:
    return choose_instance(candidates, ordered, catalog, region).offering.instance_type


def test_cpus_and_memory_pick_the_cheapest_fitting_type(catalog: Catalog) -> None:
    wanted = Resources(cloud="aws", region="us-east-1", cpus=Bound(4, True),
                       memory=Bound(16, True))
    choice = choose_instance((wanted,), False, catalog)
    # t3.xlarge (burstable) and m7g.xlarge (arm64) are cheaper but not chosen unnamed.
    assert choice.offering.instance_type == "m6i.xlarge"
    assert choice.hourly == pytest.approx(0.192)
    fitting = [row.offering.instance_type for row in choice.rows]
    assert fitting == ["m6i.xlarge", "r6i.xlarge", "c6i.2xlarge", "m6i.2xlarge"]
    assert [row.chosen for row in choice.rows] == [True, False, False, False]
    assert all(row.hourly >= choice.hourly for row in choice.rows)


def test_exact_cpus_mean_exactly(catalog: Catalog) -> None:
    assert choose(catalog, Resources(region="us-east-1", cpus=Bound(8, False))) == "c6i.2xlarge"


def test_v100_8_picks_a_type_with_eight_v100s(catalog: Catalog) -> None:
    choice = choose_instance((Resources(accelerator=Accelerator("V100", 8)),), False, catalog)
    assert choice.offering.instance_type == "p3.16xlarge"
    assert (choice.offering.gpu_name, choice.offering.gpu_count) == ("V100", 8)
    # The same type in two regions at the same price: the table has both, by name then region.
    assert [row.offering.region for row in choice.rows] == ["us-east-1", "us-west-2"]


def test_accelerator_names_are_case_insensitive(catalog: Catalog) -> None:
    assert choose(catalog, Resources(accelerator=Accelerator("v100", 4))) == "p3.8xlarge"


def test_naming_a_type_allows_burstable_and_arm(catalog: Catalog) -> None:
    assert choose(catalog, Resources(instance_type="t3.xlarge")) == "t3.xlarge"
    assert choose(catalog, Resources(instance_type="m7g.xlarge")) == "m7g.xlarge"


def test_no_size_at_all_gets_skypilots_default_node(catalog: Catalog) -> None:
    assert choose(catalog, Resources(cloud="aws")) == "m6i.2xlarge"


def test_spot_ranks_by_spot_price(catalog: Catalog) -> None:
    choice = choose_instance((Resources(accelerator=Accelerator("V100", 8), use_spot=True),),
                             False, catalog)
    assert (choice.offering.region, choice.use_spot, choice.hourly) == ("us-west-2", True, 7.0)


def test_region_restricts_the_choice(catalog: Catalog) -> None:
    wanted = Resources(region="eu-west-1", cpus=Bound(4, True))
    assert choose_instance((wanted,), False, catalog).offering.region == "eu-west-1"
    # A zone implies its region.
    zoned = Resources(zone="eu-west-1b", cpus=Bound(4, True))
    assert choose_instance((zoned,), False, catalog).offering.region == "eu-west-1"
    # The settings' default region applies only when the task names none.
    assert choose_instance((Resources(cpus=Bound(4, True)),), False, catalog,
                           "eu-west-1").offering.region == "eu-west-1"


def test_image_id_map_restricts_regions(catalog: Catalog) -> None:
    wanted = Resources(accelerator=Accelerator("V100", 8), image_id={"us-west-2": "ami-1"})
    assert choose_instance((wanted,), False, catalog).offering.region == "us-west-2"


def test_any_of_is_the_cheapest_across_candidates(catalog: Catalog) -> None:
    a100 = Resources(accelerator=Accelerator("A100", 8))
    v100 = Resources(accelerator=Accelerator("V100", 8))
    choice = choose_instance((a100, v100), False, catalog)
    assert choice.offering.instance_type == "p3.16xlarge"
    assert choice.resources == v100
    assert {row.candidate for row in choice.rows} == {0, 1}


def test_ordered_takes_the_first_candidate_that_fits(catalog: Catalog) -> None:
    h100 = Resources(accelerator=Accelerator("H100", 8))
    a100 = Resources(accelerator=Accelerator("A100", 8))
    v100 = Resources(accelerator=Accelerator("V100", 8))
    choice = choose_instance((h100, a100, v100), True, catalog)
    assert choice.offering.instance_type == "p4d.24xlarge"  # dearer than V100, but first
    assert choice.resources == a100
    assert choice.rows[0].chosen and choice.rows[0].candidate == 1


def test_candidates_for_another_cloud_are_skipped(catalog: Catalog) -> None:
    local = Resources(cloud="local", cpus=Bound(1, False))
    aws = Resources(cloud="aws", instance_type="m6i.large")
    assert choose(catalog, local, aws) == "m6i.large"


@pytest.mark.parametrize(
    ("wanted", "message"),
    [
        (Resources(accelerator=Accelerator("V100", 16)),
         "no AWS instance fits: no instance has V100:16; V100 comes as V100:1, V100:4, V100:8"),
        (Resources(accelerator=Accelerator("V10", 1)),
         "no instance has accelerator 'V10' (the catalog has: A100, A10G, T4, V100, "
         "V100-32GB); did you mean 'V100'?"),
        (Resources(accelerator=Accelerator("V100", 8), cpus=Bound(200, True)),
         "no instance has vCPUs 200+ (the largest has 64)"),
        (Resources(region="us-east-1", memory=Bound(2048, True)),
         "no instance has GiB of memory 2048+ (the largest has 32)"),
        (Resources(region="ap-south-1"),
         "the catalog has no offering in region 'ap-south-1' (regions: us-east-1, eu-west-1, "
         "us-west-2)"),
        (Resources(instance_type="m6i.xlarg"),
         "instance type 'm6i.xlarg' is not in the catalog; did you mean 'm6i.xlarge'?"),
        (Resources(accelerator=Accelerator("A100", 8), use_spot=True),
         "the catalog has no spot price for the instances that fit"),
        (Resources(cpus=Bound(3, False)),
         "no instance has exactly 3 vCPUs"),
        (Resources(cloud="local"), "it asks for cloud 'local'"),
    ],
)
def test_impossible_asks_name_the_constraint(catalog: Catalog, wanted: Resources,
                                             message: str) -> None:
    with pytest.raises(CloudError, match=r"^no AWS instance fits") as err:
        choose_instance((wanted,), False, catalog)
    assert message in str(err.value)
    assert err.value.cloud == "aws"


def test_every_failed_candidate_is_named(catalog: Catalog) -> None:
    with pytest.raises(CloudError) as err:
        choose_instance((Resources(accelerator=Accelerator("H100", 8)),
                         Resources(accelerator=Accelerator("T4", 8))), False, catalog)
    text = str(err.value)
    assert text.startswith("no AWS instance fits any candidate: candidate 1: ")
    assert "candidate 2: no instance has T4:8; T4 comes as T4:1" in text


def test_table_marks_the_choice_and_totals_the_cluster(catalog: Catalog) -> None:
    choice = choose_instance((Resources(region="us-east-1", cpus=Bound(4, True),
                                        memory=Bound(16, True)),), False, catalog)
    table = choice.table(num_nodes=3)
    lines = table.splitlines()
    assert lines[0] == "Considered AWS instances (cheapest; 4 fit, 4 shown):"
    assert lines[1].split() == ["INSTANCE", "REGION", "vCPUs", "Mem(GiB)", "GPUs", "SPOT", "$/h",
                                "CHOSEN"]
    assert lines[2].split() == ["m6i.xlarge", "us-east-1", "4", "16", "-", "no", "0.1920", "✔"]
    assert lines[-1] == ("Chosen: m6i.xlarge in us-east-1, $0.1920/h per node, "
                         "$0.5760/h for 3 nodes")
    short = choice.table(limit=1).splitlines()
    assert "4 fit, 1 shown" in short[0] and len(short) == 4


# Any request the catalog can satisfy gets an offering that satisfies it and costs no more
# than any other that does.
_SPEC = st.builds(
    Resources,
    cpus=st.none() | st.builds(Bound, st.sampled_from([1, 2, 4, 8, 16, 32, 64]), st.booleans()),
    memory=st.none() | st.builds(Bound, st.sampled_from([4, 8, 16, 32, 61, 128]), st.booleans()),
    accelerator=st.none() | st.builds(Accelerator, st.sampled_from(["V100", "T4", "A100"]),
                                      st.sampled_from([1, 4, 8])),
    use_spot=st.booleans(),
    region=st.none() | st.sampled_from(["us-east-1", "us-west-2"]),
)


@settings(max_examples=150, deadline=None)
@given(_SPEC)
def test_choice_fits_and_is_cheapest(wanted: Resources) -> None:
    catalog = parse_catalog(FIXED_CATALOG, "fixed")
    try:
        choice = choose_instance((wanted,), False, catalog)
    except CloudError as err:
        assert str(err).startswith("no AWS instance fits: ")
        return
    o = choice.offering
    assert wanted.cpus is None or wanted.cpus.satisfied_by(o.vcpus)
    assert wanted.memory is None or wanted.memory.satisfied_by(o.memory_gib)
    if wanted.accelerator is not None:
        assert (o.gpu_name, o.gpu_count) == (wanted.accelerator.name, wanted.accelerator.count)
    assert wanted.region in (None, o.region)
    assert choice.hourly == min(row.hourly for row in choice.rows)


def test_spec_candidates_come_from_the_task(catalog: Catalog,
                                            task: Callable[[str], Spec]) -> None:
    spec = task("resources:\n  cloud: aws\n  accelerators: {V100:8, A100:8}\n")
    assert choose_instance(spec.candidates, spec.candidates_ordered,
                           catalog).offering.instance_type == "p3.16xlarge"
    spec = task("resources:\n  cloud: aws\n  accelerators: [A100:8, V100:8]\n")
    assert spec.candidates_ordered
    assert choose_instance(spec.candidates, spec.candidates_ordered,
                           catalog).offering.instance_type == "p4d.24xlarge"
