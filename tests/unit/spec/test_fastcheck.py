"""The import-free validity check agrees with jsonschema, everywhere we can look.

_fastcheck answers "valid?" without jsonschema so that start-up skips its import; a
disagreement would let an invalid task through (or send a valid one to the slow path). It
is compared with jsonschema on every document we have: the examples, the malformed and
golden test files, SkyPilot's corpus, thousands of fuzzed tasks, and values picked at the
edges of JSON's types.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from styx.errors import SpecError
from styx.spec._fastcheck import UnknownKeyword, accepts
from styx.spec._schema import load_schema, schema_issues
from styx.spec._yaml import parse_yaml_documents

REPO = Path(__file__).parents[3]
CORPUS = REPO.parent / "shared" / "skypilot-corpus"
FUZZ_CASES = 800
FUZZ_MAX_BYTES = 64 * 1024  # the grown giants test the loader's limits, not the schema


def _documents(text: str) -> Iterator[Any]:
    try:
        yield from (d.data for d in parse_yaml_documents(text, "t.yaml"))
    except SpecError:
        return


def _files() -> Iterator[Path]:
    for folder in (REPO / "examples", REPO / "tests", CORPUS):
        if folder.is_dir():
            yield from sorted(folder.rglob("*.yaml"))
            yield from sorted(folder.rglob("*.yml"))


@cache
def _jsonschema(name: str) -> Draft202012Validator:
    return Draft202012Validator(load_schema(name))  # type: ignore[arg-type]


def _agree(name: str, data: Any) -> None:
    expected = _jsonschema(name).is_valid(data)
    assert accepts(load_schema(name), data) == expected, (name, data)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["task", "stack"])
def test_agrees_on_every_yaml_file_in_reach(name: str) -> None:
    seen = 0
    for path in _files():
        for data in _documents(path.read_text(encoding="utf-8", errors="replace")):
            _agree(name, data)
            seen += 1
    # Hundreds with SkyPilot's corpus beside the project; the project's own files without it
    # (a clone elsewhere, where the corpus tests skip).
    assert seen > (300 if CORPUS.is_dir() else 50), seen


def test_agrees_on_fuzzed_tasks() -> None:
    sys.path.insert(0, str(REPO / "bench"))
    try:
        import fuzz_tasks
    finally:
        sys.path.pop(0)
    mutator = fuzz_tasks.Mutator(fuzz_tasks.load_seeds(CORPUS if CORPUS.is_dir() else None))
    valid = invalid = 0
    for index in range(FUZZ_CASES):
        raw = mutator.case(11, index).data
        if len(raw) > FUZZ_MAX_BYTES:
            continue
        text = raw.decode("utf-8", errors="replace")
        for data in _documents(text):
            _agree("task", data)
            if accepts(load_schema("task"), data):
                valid += 1
            else:
                invalid += 1
    assert valid > 50 and invalid > 50  # both answers were exercised


@pytest.mark.parametrize("value", [
    True, False, 0, 1, 1.0, 1.5, -1, 10**30, "", "x", None, [], {}, [1, 1], [1, True],
    {"a": 1}, "10m", "2h", "1.5", 0.0, -0.0,
])  # fmt: skip
@pytest.mark.parametrize("field", [
    "num_nodes", "name", "workdir", "run", "envs", "resources", "file_mounts", "secrets",
    "config", "event_callback", "service",
])  # fmt: skip
def test_agrees_at_the_edges_of_json_types(field: str, value: Any) -> None:
    _agree("task", {field: value})
    _agree("task", {"resources": {field: value}})
    _agree("task", {"resources": {"autostop": {field: value}}})
    _agree("task", {"resources": {"any_of": [{field: value}]}})
    _agree("task", {"envs": {field: value}})


def test_an_unknown_keyword_is_not_guessed_at() -> None:
    with pytest.raises(UnknownKeyword):
        accepts({"prefixItems": [{"type": "string"}]}, [1])


def test_a_valid_task_needs_no_jsonschema() -> None:
    (document,) = parse_yaml_documents("name: t\nrun: echo hi\n", "t.yaml")
    sys.modules.pop("jsonschema", None)
    import styx.spec._schema as schema

    schema._validator.cache_clear()
    try:
        assert schema_issues(document, "task") == []
        assert schema._validator.cache_info().currsize == 0
    finally:
        schema._validator.cache_clear()


@pytest.mark.parametrize("schema", [
    {"enum": [1, "a"]}, {"const": True}, {"const": [1, {"a": False}]}, {"uniqueItems": True},
    {"type": "integer"}, {"type": ["number", "null"]}, {"exclusiveMaximum": 1},
    {"maxItems": 1, "items": {"type": "boolean"}}, {"oneOf": [{"type": "integer"}, {"minimum": 0}]},
    {"allOf": [{"type": "string"}, {"maxLength": 1}]}, {"required": ["a"], "maxProperties": 1},
    {"patternProperties": {"^x": {"type": "integer"}}, "additionalProperties": False},
])  # fmt: skip
@pytest.mark.parametrize("value", [
    True, False, 1, 1.0, 0, -1, 2.5, "a", "ab", None, [1, True], [1, 1.0], [True], [],
    {"a": 1}, {"x1": 1}, {"x1": "s"}, {"y": 1}, [1, {"a": False}], [1, {"a": 0}],
])  # fmt: skip
def test_agrees_on_each_keyword_jsonschema_knows(schema: dict[str, Any], value: Any) -> None:
    assert accepts(schema, value) == Draft202012Validator(schema).is_valid(value)
