"""Is a document valid against one of our schemas? Answered without importing jsonschema.

`styx validate`, `plan` and every command that reads a task pay for jsonschema's import
(about 130 ms of a 250 ms start-up) even though nearly every file they read is valid and
jsonschema's rich errors are only needed to explain an invalid one. This module answers the
yes/no question for the keywords our schemas use, with jsonschema's semantics (Draft 2020-12,
`format` as an annotation); a "no" hands over to jsonschema, which then explains.

It fails closed: a keyword it does not know raises UnknownKeyword, and the caller asks
jsonschema instead, so a schema edit can make validation slower but never laxer. A test
checks that both agree on SkyPilot's corpus, the examples and fuzzed documents.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

__all__ = ["UnknownKeyword", "accepts"]

# Keywords that never reject a value.
_ANNOTATIONS: Final = frozenset({
    "$schema", "$id", "$comment", "title", "description", "examples", "default",
    "deprecated", "readOnly", "writeOnly", "format", "$defs",
})  # fmt: skip


class UnknownKeyword(Exception):
    """The schema uses a keyword this checker does not implement: ask jsonschema."""


def accepts(root: Mapping[str, Any], instance: Any) -> bool:
    """True when `instance` is valid against the schema `root` (refs resolved inside it)."""
    return _Checker(root).valid(root, instance)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _has_type(value: Any, name: str) -> bool:
    # jsonschema's Draft 2020-12 type checker: a bool is no number; 1.0 is an integer.
    if name == "string":
        return isinstance(value, str)
    if name == "object":
        return isinstance(value, dict)
    if name == "array":
        return isinstance(value, list)
    if name == "boolean":
        return isinstance(value, bool)
    if name == "null":
        return value is None
    if name == "number":
        return _is_number(value)
    if name == "integer":
        return _is_number(value) and (isinstance(value, int) or float(value).is_integer())
    raise UnknownKeyword(f"type {name!r}")


def _equal(one: Any, two: Any) -> bool:
    """JSON equality: true and 1 differ, 1 and 1.0 do not (jsonschema's `equal`)."""
    if isinstance(one, bool) or isinstance(two, bool):
        return isinstance(one, bool) and isinstance(two, bool) and one == two
    if isinstance(one, list) and isinstance(two, list):
        return len(one) == len(two) and all(_equal(a, b) for a, b in zip(one, two, strict=True))
    if isinstance(one, dict) and isinstance(two, dict):
        return one.keys() == two.keys() and all(_equal(one[k], two[k]) for k in one)
    return bool(one == two)


class _Checker:
    def __init__(self, root: Mapping[str, Any]) -> None:
        self._root = root

    def _resolve(self, ref: str) -> Any:
        if not ref.startswith("#/"):
            raise UnknownKeyword(f"$ref {ref!r}")
        node: Any = self._root
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def valid(self, schema: Any, value: Any) -> bool:
        if schema is True:
            return True
        if schema is False:
            return False
        for keyword, arg in schema.items():
            if keyword in _ANNOTATIONS or keyword.startswith("x-"):
                continue
            if keyword in ("additionalProperties", "patternProperties", "properties"):
                continue  # checked together below
            if keyword == "type":
                names = arg if isinstance(arg, list) else [arg]
                if not any(_has_type(value, name) for name in names):
                    return False
            elif keyword == "$ref":
                if not self.valid(self._resolve(arg), value):
                    return False
            elif keyword == "enum":
                if not any(_equal(value, choice) for choice in arg):
                    return False
            elif keyword == "const":
                if not _equal(value, arg):
                    return False
            elif keyword == "anyOf":
                if not any(self.valid(branch, value) for branch in arg):
                    return False
            elif keyword == "oneOf":
                if sum(1 for branch in arg if self.valid(branch, value)) != 1:
                    return False
            elif keyword == "allOf":
                if not all(self.valid(branch, value) for branch in arg):
                    return False
            elif keyword == "not":
                if self.valid(arg, value):
                    return False
            elif keyword in ("pattern", "minLength", "maxLength"):
                if isinstance(value, str) and not _string_ok(keyword, arg, value):
                    return False
            elif keyword in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
                if _is_number(value) and not _number_ok(keyword, arg, value):
                    return False
            elif keyword in ("items", "minItems", "maxItems", "uniqueItems"):
                if isinstance(value, list) and not self._array_ok(keyword, arg, value):
                    return False
            elif keyword in ("required", "minProperties", "maxProperties"):
                if isinstance(value, dict) and not _object_size_ok(keyword, arg, value):
                    return False
            else:
                raise UnknownKeyword(keyword)
        return not isinstance(value, dict) or self._properties_ok(schema, value)

    def _properties_ok(self, schema: Mapping[str, Any], value: dict[Any, Any]) -> bool:
        properties: Mapping[str, Any] = schema.get("properties", {})
        patterns: Mapping[str, Any] = schema.get("patternProperties", {})
        additional = schema.get("additionalProperties", True)
        for key, item in value.items():
            matched = key in properties
            if matched and not self.valid(properties[key], item):
                return False
            for pattern, sub in patterns.items():
                if re.search(pattern, key):
                    matched = True
                    if not self.valid(sub, item):
                        return False
            if not matched and not self.valid(additional, item):
                return False
        return True

    def _array_ok(self, keyword: str, arg: Any, value: list[Any]) -> bool:
        if keyword == "items":
            return all(self.valid(arg, item) for item in value)
        if keyword == "minItems":
            return bool(len(value) >= arg)
        if keyword == "maxItems":
            return bool(len(value) <= arg)
        if not arg:  # uniqueItems: false
            return True
        return not any(_equal(value[i], value[j])
                       for i in range(len(value)) for j in range(i + 1, len(value)))  # fmt: skip


def _string_ok(keyword: str, arg: Any, value: str) -> bool:
    if keyword == "pattern":
        return re.search(arg, value) is not None
    if keyword == "minLength":
        return bool(len(value) >= arg)
    return bool(len(value) <= arg)


def _number_ok(keyword: str, arg: Any, value: float) -> bool:
    if keyword == "minimum":
        return bool(value >= arg)
    if keyword == "maximum":
        return bool(value <= arg)
    if keyword == "exclusiveMinimum":
        return bool(value > arg)
    return bool(value < arg)


def _object_size_ok(keyword: str, arg: Any, value: dict[Any, Any]) -> bool:
    if keyword == "required":
        return all(name in value for name in arg)
    if keyword == "minProperties":
        return bool(len(value) >= arg)
    return bool(len(value) <= arg)
