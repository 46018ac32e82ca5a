"""`styx compile` and `styx catalog show` through the real CLI (no engine, no credentials)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from styx.cli import cli, main

REPO = Path(__file__).resolve().parents[3]
CPU = str(REPO / "examples" / "aws_cpu.yaml")
GPU = str(REPO / "examples" / "aws_gpu_multinode.yaml")


@pytest.fixture(autouse=True)
def _no_credentials(monkeypatch: pytest.MonkeyPatch, styx_home: Path) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE",
                 "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")


def invoke(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_compile_json_lists_every_resource_with_arguments() -> None:
    data = json.loads(invoke("compile", CPU, "--format", "json"))
    kinds = {r["kind"]: r["args"] for r in data["resources"]}
    assert kinds["aws:ec2/instance:Instance"]["instance_type"] == "m6i.xlarge"
    assert kinds["aws:ec2/securityGroup:SecurityGroup"]["ingress"][0]["from_port"] == 22
    assert kinds["aws:ec2/keyPair:KeyPair"]["public_key"] == {"$ref": "aws-cpu-keys.public_key"}
    for network in ("Vpc", "Subnet", "InternetGateway", "RouteTable"):
        assert f"aws:ec2/{network[0].lower() + network[1:]}:{network}" in kinds
    assert data["hourly_cost"] == pytest.approx(0.192)
    assert data["optimizer"]["instance_type"] == "m6i.xlarge"
    assert data["optimizer"]["candidates"][0]["chosen"] is True


def test_compile_text_shows_resources_and_the_candidate_table() -> None:
    out = invoke("compile", GPU)
    assert out.startswith("aws-gpu-multinode on aws: 2 nodes (head, worker1), $48.9600/h\n")
    assert "aws-gpu-multinode-head  [aws:ec2/instance:Instance]" in out
    assert "  vpc_security_group_ids:\n    - -> aws-gpu-multinode-firewall.id" in out
    assert "Considered AWS instances" in out
    assert "Chosen: p3.16xlarge in us-west-2, $24.4800/h per node, $48.9600/h for 2 nodes" in out


def test_command_line_overrides_win() -> None:
    data = json.loads(invoke("compile", GPU, "--format", "json", "--gpus", "A100:8",
                             "--num-nodes", "3", "--use-spot", "--infra", "aws/us-east-1"))
    assert data["nodes"] == ["head", "worker1", "worker2"]
    assert data["optimizer"]["instance_type"] == "p4d.24xlarge"
    instance = next(r for r in data["resources"] if r["kind"] == "aws:ec2/instance:Instance")
    assert instance["args"]["instance_market_options"]["market_type"] == "spot"
    local = json.loads(invoke("compile", CPU, "--format", "json", "--cloud", "local",
                              "--cpus", "1", "--memory", "0.5+"))
    assert (local["cloud"], local["optimizer"]) == ("local", None)


def test_no_fit_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["compile", GPU, "--gpus", "V100:16"])
    assert exit_.value.code == 1
    err = capsys.readouterr().err
    assert err == ("error: no AWS instance fits: no instance has V100:16; V100 comes as V100:1, "
                   "V100:4, V100:8\n")


def test_catalog_show_filters_like_a_task() -> None:
    out = invoke("catalog", "show", "--gpus", "V100:8", "--region", "us-east-1")
    assert "prices taken 2025-09-01" in out.splitlines()[0]
    assert "p3.16xlarge" in out and "Chosen: p3.16xlarge in us-east-1" in out
    listing = invoke("catalog", "show", "--region", "eu-west-1")
    assert listing.splitlines()[1].split()[0] == "INSTANCE"
    assert listing.splitlines()[2].split()[0] == "t3.micro"  # the cheapest first


def test_stack_file_sets_the_ssh_networks(tmp_path: Path) -> None:
    stack = tmp_path / "prod.yaml"
    stack.write_text(f"name: prod\ntask: {CPU}\nallowed_ssh_cidrs: [203.0.113.0/24]\n")
    data = json.loads(invoke("compile", "--stack-file", str(stack), "--format", "json"))
    # No warning about SSH open to the world: the task's port 8888 still is (warned);
    # autostop is enforced by the head's agent now, so it is no warning.
    assert data["cluster"] == "prod" and not any(w.startswith("SSH") for w in data["warnings"])
    assert not any("resources.autostop" in w for w in data["warnings"])
    firewall = next(r for r in data["resources"] if r["kind"].endswith("SecurityGroup"))
    assert firewall["args"]["ingress"][0]["cidr_blocks"] == ["203.0.113.0/24"]
