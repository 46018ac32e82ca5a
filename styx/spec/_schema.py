"""Validate loaded YAML against the shipped JSON Schemas and explain each failure in place."""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import cache
from typing import TYPE_CHECKING, Any, Final, Literal

from styx._resources import data_path
from styx.errors import SpecIssue
from styx.spec._fastcheck import UnknownKeyword, accepts
from styx.spec._yaml import Document, NodePath

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError

__all__ = [
    "SchemaName",
    "describe_value",
    "failing_paths",
    "load_schema",
    "schema_issues",
    "suggest",
]

SchemaName = Literal["task", "stack"]

# A file with hundreds of errors is the wrong file; the first ones say enough.
_MAX_ISSUES: Final = 50
_SECRET_ROOTS: Final = frozenset({"secrets"})
_TYPE_WORDS: Final = {
    "string": "a string",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "object": "a mapping",
    "array": "a list",
    "null": "nothing",
}


@cache
def load_schema(name: SchemaName) -> Mapping[str, Any]:
    """The parsed schemas/<name>.schema.json shipped with the package."""
    with data_path("schemas", f"{name}.schema.json").open(encoding="utf-8") as stream:
        schema: dict[str, Any] = json.load(stream)
    return schema


@cache
def _validator(name: SchemaName) -> Draft202012Validator:
    # Imported here: jsonschema is only needed to explain a document that is not valid.
    from jsonschema import Draft202012Validator

    return Draft202012Validator(load_schema(name))


def _plainly_valid(document: Document, name: SchemaName) -> bool:
    """The fast yes (see _fastcheck); False means "ask jsonschema", not "invalid"."""
    try:
        return accepts(load_schema(name), document.data)
    except UnknownKeyword:
        return False


def suggest(word: str, choices: Iterable[str]) -> str | None:
    """The nearest valid word for a typo, if one is near enough."""
    matches = difflib.get_close_matches(word, sorted(set(choices)), n=1, cutoff=0.6)
    if not matches and word.lower() in {c.lower() for c in choices}:
        return next(c for c in choices if c.lower() == word.lower())
    return matches[0] if matches else None


def describe_value(value: Any, *, secret: bool = False) -> str:
    """A short, safe description of a value for an error message."""
    if secret:
        return "a secret value" if isinstance(value, str) else _type_word(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "nothing (null)"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return repr(shown)
    return _type_word(value)


def _type_word(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int | float):
        return "a number"
    if value is None:
        return "nothing (null)"
    return "a string"


def schema_issues(document: Document, name: SchemaName) -> list[SpecIssue]:
    """Every schema violation in the document, located and worded for a person."""
    if _plainly_valid(document, name):
        return []
    explainer = _Explainer(load_schema(name), document)
    issues: list[SpecIssue] = []
    for error in _validator(name).iter_errors(document.data):
        issues.extend(explainer.explain(error))
    unique = sorted(set(issues),
                    key=lambda i: (i.line or 0, i.column or 0, i.field or "", i.message))
    if len(unique) > _MAX_ISSUES:
        extra = len(unique) - _MAX_ISSUES
        last = unique[_MAX_ISSUES - 1]
        unique = [*unique[:_MAX_ISSUES],
                  SpecIssue(last.path, last.line, last.column, None, f"... and {extra} more")]
    return unique


def failing_paths(document: Document, name: SchemaName) -> set[NodePath]:
    """Where the schema rejects the document: each wrong value, each unknown key.

    The loader drops exactly these places and builds the rest, so that an error in one
    field does not hide an error in its neighbour.
    """
    if _plainly_valid(document, name):
        return set()
    explainer = _Explainer(load_schema(name), document)
    paths: set[NodePath] = set()
    for error in _validator(name).iter_errors(document.data):
        paths |= explainer.paths(error)
    return paths


class _Explainer:
    """Turns jsonschema's errors into SpecIssues that point at the offending key or value."""

    def __init__(self, root: Mapping[str, Any], document: Document) -> None:
        self._root = root
        self._doc = document

    def explain(self, error: ValidationError) -> Iterator[SpecIssue]:
        path: NodePath = tuple(error.absolute_path)
        chain = self._chain(error.absolute_schema_path)
        unsupported = self._unsupported(error, chain)
        if unsupported is not None:
            # A whole field is unsupported: point at its key; a value form (a bucket URL): at it.
            on_key = not (isinstance(error.validator_value, Mapping)
                          and "x-styx-unsupported" in error.validator_value)
            yield self._doc.issue(path, f"not supported by Styx yet: {unsupported}", key=on_key)
            return
        validator = error.validator
        if validator in ("additionalProperties", "unevaluatedProperties") and \
                isinstance(error.instance, dict) and error.validator_value is False:
            yield from self._unknown_keys(error, path)
            return
        if validator in ("anyOf", "oneOf"):
            yield from self._alternatives(error, path, chain)
            return
        yield self._doc.issue(path, self._message(error, path, chain))

    def paths(self, error: ValidationError) -> set[NodePath]:
        """The places `explain` points at for this error (see failing_paths)."""
        path: NodePath = tuple(error.absolute_path)
        if error.validator in ("additionalProperties", "unevaluatedProperties") and \
                isinstance(error.instance, dict) and isinstance(error.schema, Mapping):
            known = set(error.schema.get("properties", {}))
            patterns = [re.compile(p) for p in error.schema.get("patternProperties", {})]
            return {(*path, key) for key in error.instance
                    if key not in known and not any(p.search(key) for p in patterns)}
        inner = self._inner(error) if error.validator in ("anyOf", "oneOf") else []
        if inner:
            return set().union(*(self.paths(sub) for sub in inner))
        return {path}

    def _inner(self, error: ValidationError) -> list[ValidationError]:
        """anyOf: the errors of the one alternative that takes this kind of value, if one."""
        branches = error.validator_value if isinstance(error.validator_value, list) else []
        fitting = [i for i, branch in enumerate(branches)
                   if _accepts_type(self._types(branch), error.instance)]
        if len(fitting) != 1:
            return []
        return [e for e in error.context or ()
                if e.relative_schema_path and e.relative_schema_path[0] == fitting[0]]

    def _chain(self, schema_path: Iterable[Any]) -> list[Mapping[str, Any]]:
        """The subschemas walked from the root to the failing keyword, following $refs."""
        node: Any = self._root
        chain: list[Mapping[str, Any]] = [node]
        for part in schema_path:
            # jsonschema's paths skip the "$ref" hop: take it whenever the key is not here.
            while isinstance(node, Mapping) and part not in node and "$ref" in node:
                node = self._resolve(node["$ref"])
                chain.append(node)
            if isinstance(node, Mapping) and part == "$ref":
                node = self._resolve(node["$ref"])
            elif (isinstance(node, Mapping) and part in node) or (
                    isinstance(node, Sequence) and isinstance(part, int) and part < len(node)):
                node = node[part]
            else:
                break
            if isinstance(node, Mapping):
                chain.append(node)
        return chain

    def _resolve(self, ref: str) -> Mapping[str, Any]:
        node: Any = self._root
        for part in ref.removeprefix("#/").split("/"):
            node = node[part]
        result: Mapping[str, Any] = node
        return result

    @staticmethod
    def _unsupported(error: ValidationError, chain: list[Mapping[str, Any]]) -> str | None:
        if error.validator != "not":
            return None
        value = error.validator_value
        if isinstance(value, Mapping) and "x-styx-unsupported" in value:
            return str(value["x-styx-unsupported"])
        # The marker sits on the failing schema or on the property that $refs it.
        for schema in reversed(chain[-3:]):
            if "x-styx-unsupported" in schema:
                return str(schema["x-styx-unsupported"])
        return None

    def _expected(self, chain: list[Mapping[str, Any]]) -> str | None:
        for schema in reversed(chain):
            if "x-expected" in schema:
                return str(schema["x-expected"])
        return None

    def _is_secret(self, path: NodePath) -> bool:
        return bool(path) and path[0] in _SECRET_ROOTS

    def _unknown_keys(self, error: ValidationError, path: NodePath) -> Iterator[SpecIssue]:
        schema: Mapping[str, Any] = error.schema if isinstance(error.schema, Mapping) else {}
        known = list(schema.get("properties", {}))
        patterns = [re.compile(p) for p in schema.get("patternProperties", {})]
        instance: dict[str, Any] = error.instance if isinstance(error.instance, dict) else {}
        for key in instance:
            if key in known or any(p.search(key) for p in patterns):
                continue
            where = (*path, key)
            if patterns:
                expected = schema.get("x-key-expected", "a name matching " +
                                      " or ".join(p.pattern for p in patterns))
                yield self._doc.issue(where, f"invalid name {key!r}: expected {expected}",
                                      key=True)
                continue
            message = f"unknown field {key!r}"
            nearest = suggest(key, known)
            if not path and key in self._resource_fields():
                message += "; it belongs under `resources:`"
            elif nearest is not None:
                message += f"; did you mean {nearest!r}?"
            yield self._doc.issue(where, message, key=True)

    def _resource_fields(self) -> set[str]:
        defs = self._root.get("$defs", {})
        return set(defs.get("resources", {}).get("properties", {}))

    def _alternatives(self, error: ValidationError, path: NodePath,
                      chain: list[Mapping[str, Any]]) -> Iterator[SpecIssue]:
        """anyOf: when exactly one alternative takes this kind of value, its errors say most."""
        inner = self._inner(error)
        if inner:
            for sub in inner:
                yield from self.explain(sub)
            return
        yield self._doc.issue(path, self._message(error, path, chain))

    def _types(self, branch: Any) -> set[str] | None:
        if not isinstance(branch, Mapping):
            return None
        if "$ref" in branch and "type" not in branch:
            return self._types(self._resolve(branch["$ref"]))
        kind = branch.get("type")
        if kind is None:
            if "anyOf" in branch:
                union: set[str] = set()
                for sub in branch["anyOf"]:
                    sub_types = self._types(sub)
                    if sub_types is None:
                        return None
                    union |= sub_types
                return union
            return None
        return {kind} if isinstance(kind, str) else set(kind)

    def _message(self, error: ValidationError, path: NodePath,
                 chain: list[Mapping[str, Any]]) -> str:
        secret = self._is_secret(path)
        got = describe_value(error.instance, secret=secret)
        expected = self._expected(chain)
        validator = error.validator
        value = error.validator_value
        if validator == "required" and isinstance(value, list):
            present = error.instance if isinstance(error.instance, dict) else {}
            missing = [k for k in value if k not in present]
            return "missing required field " + ", ".join(repr(k) for k in missing)
        if validator == "minimum":
            return f"must be at least {value}, got {got}"
        if validator == "exclusiveMinimum":
            return f"must be greater than {value}, got {got}"
        if validator == "maximum":
            return f"must be at most {value}, got {got}"
        if validator == "minItems":
            return f"needs at least {value} item(s)"
        if validator == "minProperties":
            return f"needs at least {value} entry(ies)"
        if validator == "minLength":
            return "must not be empty"
        if validator == "enum" and isinstance(value, list):
            message = f"expected one of {', '.join(str(v) for v in value)}, got {got}"
            if isinstance(error.instance, str):
                nearest = suggest(error.instance, [str(v) for v in value])
                if nearest is not None:
                    message += f"; did you mean {nearest!r}?"
            return message
        if validator == "type" and expected is None:
            kinds = [value] if isinstance(value, str) else \
                [str(v) for v in value] if isinstance(value, list) else []
            expected = " or ".join(_TYPE_WORDS.get(k, k) for k in kinds)
        if expected is not None:
            return f"expected {expected}, got {got}"
        # No wording in the schema for this case: fall back on jsonschema's own, minus the
        # instance (it could be a secret or a screenful).
        return f"invalid value ({validator} {json.dumps(value)[:60]}), got {got}"


def _accepts_type(types: set[str] | None, instance: Any) -> bool:
    if types is None:
        return True
    if isinstance(instance, bool):
        return "boolean" in types
    if isinstance(instance, int):
        return bool(types & {"integer", "number"})
    if isinstance(instance, float):
        return "number" in types or ("integer" in types and instance.is_integer())
    if isinstance(instance, str):
        return "string" in types
    if isinstance(instance, dict):
        return "object" in types
    if isinstance(instance, list):
        return "array" in types
    return "null" in types if instance is None else False
