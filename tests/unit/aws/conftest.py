"""Fixtures for the AWS tests: a small fixed catalog, and tasks written to temporary files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from styx.clouds.aws import Catalog, parse_catalog
from styx.spec import Spec, load_task

# A fixed catalog: prices chosen so that each test's answer is unambiguous.
FIXED_CATALOG = """\
# prices_taken: 2025-01-15
instance_type,region,vcpus,memory_gib,gpu_name,gpu_count,gpu_memory_gib,arch,burstable,cluster_placement,price,spot_price,zones
t3.xlarge,us-east-1,4,16,,0,0,x86_64,yes,no,0.1664,0.05,use1-az1
m6i.large,us-east-1,2,8,,0,0,x86_64,no,yes,0.096,0.036,use1-az1 use1-az2
m6i.xlarge,us-east-1,4,16,,0,0,x86_64,no,yes,0.192,0.073,use1-az1 use1-az2
c6i.2xlarge,us-east-1,8,16,,0,0,x86_64,no,yes,0.34,0.14,use1-az2
r6i.xlarge,us-east-1,4,32,,0,0,x86_64,no,yes,0.252,0.08,use1-az1
m6i.2xlarge,us-east-1,8,32,,0,0,x86_64,no,yes,0.384,0.146,use1-az1
m7g.xlarge,us-east-1,4,16,,0,0,arm64,no,yes,0.1632,0.06,use1-az1
m6i.xlarge,eu-west-1,4,16,,0,0,x86_64,no,yes,0.214,0.07,euw1-az1
g4dn.xlarge,us-east-1,4,16,T4,1,16,x86_64,no,yes,0.526,0.17,use1-az1
g5.xlarge,us-east-1,4,16,A10G,1,24,x86_64,no,yes,1.006,0.36,use1-az1
p3.2xlarge,us-east-1,8,61,V100,1,16,x86_64,no,yes,3.06,0.95,
p3.8xlarge,us-east-1,32,244,V100,4,64,x86_64,no,yes,12.24,3.8,
p3.16xlarge,us-east-1,64,488,V100,8,128,x86_64,no,yes,24.48,7.6,
p3dn.24xlarge,us-east-1,96,768,V100-32GB,8,256,x86_64,no,yes,31.212,10.3,use1-az1
p4d.24xlarge,us-east-1,96,1152,A100,8,320,x86_64,no,yes,32.7726,,use1-az1
p3.16xlarge,us-west-2,64,488,V100,8,128,x86_64,no,yes,24.48,7.0,
"""


@pytest.fixture
def catalog() -> Catalog:
    return parse_catalog(FIXED_CATALOG, "fixed")


@pytest.fixture
def catalog_file(tmp_path: Path) -> Path:
    path = tmp_path / "catalog.csv"
    path.write_text(FIXED_CATALOG, encoding="utf-8")
    return path


@pytest.fixture
def task(tmp_path: Path) -> Callable[[str], Spec]:
    """Load a task from YAML text (written to a temporary file)."""
    counter = iter(range(1000))

    def load(text: str) -> Spec:
        path = tmp_path / f"task{next(counter)}.yaml"
        path.write_text(text, encoding="utf-8")
        return load_task(path)

    return load
