"""The package's shape: no import cycles, pure stages that load no Pulumi or ansible, and
clouds reached only through their table."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "styx"


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import that runs: at module level or inside functions, not `if TYPE_CHECKING`."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            yield from (n for child in node.orelse for n in _imports_in(child))
            continue
        yield from _imports_in(node)


def _imports_in(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    if isinstance(node, ast.Import | ast.ImportFrom):
        yield node
    else:
        yield from _imports(node)


def import_graph(root: Path = PACKAGE) -> dict[str, set[str]]:
    """module -> the styx modules it imports (`from pkg import sub` counts as pkg.sub)."""
    files = {_module_name(p, root): p for p in root.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        edges: set[str] = set()
        for node in _imports(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = node.module or ""
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in files else base
                           for a in node.names]
            edges |= {t for t in targets if t in files and t != name}
        graph[name] = edges
    return graph


def cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles() -> None:
    graph = import_graph()
    assert graph.get("styx.compile")
    assert cycles(graph) == []


def test_the_walker_sees_a_cycle_behind_a_function_level_import(tmp_path: Path) -> None:
    pkg = tmp_path / "styx"
    (pkg / "a").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "a" / "__init__.py").write_text("from styx.a import _x\n")
    (pkg / "a" / "_x.py").write_text("def f():\n    from styx import b\n")
    (pkg / "b.py").write_text("from typing import TYPE_CHECKING\nimport styx.a\n"
                              "if TYPE_CHECKING:\n    import styx.c\n")
    (pkg / "c.py").write_text("import styx.b\n")
    assert cycles(import_graph(pkg)) == [["styx.a", "styx.a._x", "styx.b"]]


def test_only_clouds_import_a_particular_cloud() -> None:
    particular = ("styx.clouds.local", "styx.clouds.aws")
    # `styx catalog` is the AWS catalog's own command (show and refresh its price list).
    allowed = {"styx.cli.catalog"}
    offenders = {
        module: sorted(t for t in targets if t.startswith(particular))
        for module, targets in import_graph().items()
        if not module.startswith("styx.clouds") and module not in allowed
    }
    assert {m: t for m, t in offenders.items() if t} == {}


def _python(code: str, **env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if k != "GRPC_ENABLE_FORK_SUPPORT"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, env={**clean, **env})
    return done.stdout.strip()


HEAVY = ("pulumi", "pulumi_aws", "grpc", "ansible", "ansible_runner", "boto3")


@pytest.mark.parametrize("modules", ["styx.spec, styx.compile, styx.plan", "styx.graph",
                                     "styx.clouds, styx.clouds.local, styx.clouds.aws"])
def test_pure_stages_load_no_engine_and_no_ansible(modules: str) -> None:
    loaded = _python(f"import sys, {modules}\n"
                     f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})))")
    assert loaded == "[]"


def test_compiling_a_task_loads_no_engine(tmp_path: Path) -> None:
    task = tmp_path / "t.yaml"
    task.write_text("num_nodes: 2\nresources:\n  cpus: 1\n")
    code = (f"import sys\nfrom styx.spec import load_task\nfrom styx.compile import compile_spec\n"
            f"compile_spec(load_task({str(task)!r}), 't')\n"
            f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})))")
    assert _python(code) == "[]"


def test_importing_styx_turns_grpc_fork_handlers_off_unless_the_caller_chose() -> None:
    # Before anything can import gRPC (see styx/__init__.py and test_grpc_fork.py).
    code = "import os, {}\nprint(os.environ.get('GRPC_ENABLE_FORK_SUPPORT', '-'))"
    assert _python(code.format("styx")) == "0"
    assert _python(code.format("styx.engine")) == "0"
    assert _python(code.format("styx.nodes"), GRPC_ENABLE_FORK_SUPPORT="1") == "1"


def test_the_engines_plugin_process_loads_no_task_parser() -> None:
    # The engine starts a plugin process per operation that imports the local providers
    # (and so their packages): it must not pay for YAML, JSON Schema or AWS.
    code = ("import sys, styx.clouds.local.provider, styx.clouds._keypair\n"
            "print(sorted({'styx.spec', 'ruamel', 'jsonschema', 'styx.clouds.aws'} & "
            "{m if m.startswith('styx') else m.split('.')[0] for m in sys.modules}))")
    assert _python(code) == "[]"
