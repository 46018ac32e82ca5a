"""Loading: templates, ${VAR} substitution, --env/--env-file/--secret, stacks, YAML details."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from styx.errors import SpecError
from styx.spec import load_stack, load_task, parse_env_file


def _task(tmp_path: Path, text: str, name: str = "task.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# -- templates -------------------------------------------------------------------------


def test_variables_render(tmp_path: Path) -> None:
    task = _task(tmp_path, "name: t-{{ stage }}\nnum_nodes: {{ nodes }}\n"
                           "{% if gpu %}resources:\n  accelerators: {{ gpu }}\n{% endif %}")
    spec = load_task(task, variables={"stage": "prod", "nodes": "3", "gpu": "L4:1"})
    assert (spec.name, spec.num_nodes, str(spec.resources.accelerator)) == ("t-prod", 3, "L4:1")


def test_every_missing_variable_is_reported(tmp_path: Path) -> None:
    task = _task(tmp_path, "name: demo\nnum_nodes: {{ nodes }}\nrun: echo {{ msg | upper }}\n")
    with pytest.raises(SpecError) as caught:
        load_task(task)
    assert [(i.line, i.column) for i in caught.value.issues] == [(2, 15), (3, 14)]
    assert "pass --var nodes=VALUE" in str(caught.value)


def test_defaults_make_variables_optional(tmp_path: Path) -> None:
    task = _task(tmp_path, "num_nodes: {{ nodes | default(2) }}\n")
    assert load_task(task).num_nodes == 2
    assert load_task(task, variables={"nodes": "5"}).num_nodes == 5


def test_skypilot_braces_pass_through_untouched(tmp_path: Path) -> None:
    run = "docker ps --format '{{.Names}}'\necho ${#ARR[@]} {{ not jinja\n"
    task = _task(tmp_path, "run: |\n" + "".join(f"  {line}\n" for line in run.splitlines()))
    assert load_task(task).run == run


def test_template_syntax_error_with_variables(tmp_path: Path) -> None:
    task = _task(tmp_path, "name: a\nrun: {% if %}\n")
    with pytest.raises(SpecError, match=r"task\.yaml:2:1: template syntax error"):
        load_task(task, variables={"x": "1"})


def test_template_sandbox(tmp_path: Path) -> None:
    task = _task(tmp_path, "run: \"{{ ''.__class__.__mro__ }}\"\n")
    with pytest.raises(SpecError, match="template error"):
        load_task(task, variables={"x": "1"})
    bomb = _task(tmp_path, "run: \"{{ 'x' * 100000000 }}\"\n")
    with pytest.raises(SpecError, match="limit template_value"):
        load_task(bomb, variables={"x": "1"})
    nested = _task(tmp_path, "{% for i in range(100000) %}{% for j in range(100000) %}"
                             "{% endfor %}{% endfor %}\nrun: x\n")
    with pytest.raises(SpecError, match="loops ran more than 100,000 steps"):
        load_task(nested, variables={"x": "1"})
    wide = _task(tmp_path, "run: |\n{% for i in range(9999) %}  {{ 'x' * 1000 }}\n{% endfor %}")
    with pytest.raises(SpecError, match="larger than 262,144 characters"):
        load_task(wide, variables={"x": "1"})


def test_loops_still_work(tmp_path: Path) -> None:
    task = _task(tmp_path, "run: |\n{% for i in range(n|int) %}  echo {{ i }}/{{ loop.length }}"
                           "\n{% else %}  none\n{% endfor %}")
    assert load_task(task, variables={"n": "2"}).run == "echo 0/2\necho 1/2\n"
    assert load_task(task, variables={"n": "0"}).run == "none\n"


def test_rendered_line_numbers_are_flagged(tmp_path: Path) -> None:
    task = _task(tmp_path, "{% if big %}\nnum_nodes: 4\nname: a\n{% endif %}\nrun: 5\n")
    with pytest.raises(SpecError, match="refer to the rendered template"):
        load_task(task, variables={"big": ""})


# -- envs, secrets, substitution --------------------------------------------------------


def test_env_precedence_and_substitution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # relative paths are relative to where Styx runs
    (tmp_path / "data-13b").mkdir()
    (tmp_path / "code").mkdir()
    env_file = tmp_path / "my.env"
    env_file.write_text("# comment\nexport SIZE=7b\nNAME='code'\nEXTRA=\"a\\nb\"  \n"
                        "PLAIN=x # trailing comment\n")
    task = _task(tmp_path, "envs:\n  SIZE: 1b\n  NAME: nope\n  EPOCHS: 3\n  DEBUG: true\n"
                           "workdir: ./$NAME\n"
                           "file_mounts:\n  /models/llama-${SIZE}: ./data-${SIZE}\n")
    spec = load_task(task, env_file=env_file, env_overrides={"SIZE": "13b"})
    assert dict(spec.envs) == {"SIZE": "13b", "NAME": "code", "EPOCHS": "3", "DEBUG": "True",
                               "EXTRA": "a\nb", "PLAIN": "x"}
    assert spec.workdir == tmp_path / "code"
    assert dict(spec.file_mounts) == {"/models/llama-13b": str(tmp_path / "data-13b")}


def test_unknown_references_stay(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # relative paths are relative to where Styx runs
    (tmp_path / "$HOME_DIR").mkdir()
    task = _task(tmp_path, "workdir: ./$HOME_DIR\n")
    assert load_task(task).workdir == tmp_path / "$HOME_DIR"


def test_null_env_is_filled_by_override(tmp_path: Path) -> None:
    task = _task(tmp_path, "envs:\n  TOKEN: null\nsecrets:\n  KEY: null\n")
    spec = load_task(task, env_overrides={"TOKEN": "t"}, secret_overrides={"KEY": "k"})
    assert spec.envs["TOKEN"] == "t" and spec.secrets["KEY"].reveal() == "k"


def test_a_name_is_an_env_or_a_secret(tmp_path: Path) -> None:
    task = _task(tmp_path, "envs:\n  TOKEN: a\nsecrets:\n  TOKEN: b\n")
    with pytest.raises(SpecError, match=r"4:3: secrets.TOKEN: TOKEN is both an env and a secret"):
        load_task(task)


def test_bad_override_names(tmp_path: Path) -> None:
    task = _task(tmp_path, "run: echo\n")
    with pytest.raises(SpecError, match="--env: 1X: invalid variable name"):
        load_task(task, env_overrides={"1X": "a"})


def test_env_file_errors_are_located(tmp_path: Path) -> None:
    env_file = tmp_path / "bad.env"
    env_file.write_text("GOOD=1\nNO_EQUALS\n1BAD=x\nQ='open\n")
    with pytest.raises(SpecError) as caught:
        parse_env_file(env_file)
    assert [i.line for i in caught.value.issues] == [2, 3, 4]
    with pytest.raises(SpecError, match=r"bad\.env:2:1: expected KEY=VALUE"):
        load_task(_task(tmp_path, "run: echo\n"), env_file=env_file)


def test_secrets_are_not_echoed_in_errors(tmp_path: Path) -> None:
    task = _task(tmp_path, "secrets:\n  TOKEN: {value: hunter2}\n")
    with pytest.raises(SpecError) as caught:
        load_task(task)
    assert "hunter2" not in str(caught.value)


# -- YAML details ------------------------------------------------------------------------


def test_yaml_1_1_booleans_and_merge_keys(tmp_path: Path) -> None:
    task = _task(tmp_path, "resources:\n  <<: {cpus: 2, use_spot: yes}\n  cpus: 4\n")
    spec = load_task(task)
    assert spec.resources.use_spot is True
    assert str(spec.resources.cpus) == "4"


def test_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    task = tmp_path / "bom.yaml"
    task.write_bytes(b"\xef\xbb\xbfname: bom\n")
    assert load_task(task).name == "bom"


def test_minimal_tasks(tmp_path: Path) -> None:
    spec = load_task(_task(tmp_path, "{}\n"))
    assert spec.num_nodes == 1 and spec.run is None and len(spec.candidates) == 1
    spec = load_task(_task(tmp_path, "envs:\nfile_mounts:\nresources:\nsetup:\n"))
    assert dict(spec.envs) == {} and spec.setup is None


# -- stacks --------------------------------------------------------------------------------


def _stack(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "stacks" / "s.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_stack_applies_vars_envs_cloud_region(tmp_path: Path) -> None:
    _task(tmp_path, "name: x-{{ stage }}\nenvs:\n  A: task\n  B: task\n"
                    "resources:\n  cloud: local\n  zone: z1\n  any_of:\n    - cpus: 1\n"
                    "    - cpus: 2\n")
    stack = load_stack(_stack(tmp_path, "name: prod\ntask: ../task.yaml\ncloud: aws\n"
                                        "region: us-east-1\nvars: {stage: prod, n: 2}\n"
                                        "envs: {A: stack}\n"))
    assert stack.task == tmp_path / "task.yaml"
    spec = load_task(stack.task, stack=stack, env_overrides={"B": "cli"},
                     variables={"stage": "cli"})
    assert spec.name == "x-cli"
    assert dict(spec.envs) == {"A": "stack", "B": "cli"}
    assert {(c.cloud, c.region, c.zone) for c in spec.candidates} == {("aws", "us-east-1", None)}
    assert len(spec.candidates) == 2


def test_stack_defaults_and_paths(tmp_path: Path) -> None:
    stack = load_stack(_stack(tmp_path, "name: dev\ntask: ../t.yaml\npassphrase_file: pp\n"
                                        "allowed_ssh_cidrs: [10.0.0.1/8, 10.0.0.0/8]\n"))
    assert stack.secrets_provider == "passphrase" and stack.backend_url is None
    assert stack.passphrase_file == tmp_path / "stacks" / "pp"
    assert stack.allowed_ssh_cidrs == ("10.0.0.0/8",)


@pytest.mark.parametrize(("text", "expected"), [
    ("task: t.yaml\n", "1:1: missing required field 'name'"),
    ("name: a\ntask: t.yaml\nbackend: http://x\n", "3:10: backend: expected a backend URL"),
    ("name: a\ntask: t.yaml\ncloud: gcp\n", "3:8: cloud: cloud 'gcp' is not supported"),
    ("name: a\ntask: t.yaml\nallowed_ssh_cidrs: [nope]\n", "3:21: allowed_ssh_cidrs[0]"),
    ("name: a\ntask: t.yaml\nregoin: x\n", "3:1: regoin: unknown field 'regoin'; did you mean"),
    ("name: a\ntask: t.yaml\nvars: {bad-name: 1}\n", "3:8: vars.bad-name: invalid name"),
    ("name: a\ntask: t.yaml\nsecrets_provider: vault\n", "3:19: secrets_provider: expected"),
    ("- a\n", "1:1: expected a mapping of stack fields"),
])
def test_stack_errors(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(SpecError, match=re.escape("s.yaml:" + expected)):
        load_stack(_stack(tmp_path, text))
