"""Read YAML into plain data while remembering the line and column of every key and value."""

from __future__ import annotations

import datetime
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final

from ruamel.yaml import YAML
from ruamel.yaml.composer import Composer
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import AliasEvent
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.scanner import Scanner, ScannerError

from styx.errors import SpecError, SpecIssue, SpecLimitError
from styx.spec._limits import (
    FILE_BYTES,
    INT_DIGITS,
    LIST_ITEMS,
    YAML_DEPTH,
    YAML_NODES,
    YAML_VALUES,
    Budget,
    Limit,
    OverLimit,
    limit_error,
)

__all__ = [
    "MAX_BYTES",
    "Document",
    "Mark",
    "NodePath",
    "describe_path",
    "internal_issue",
    "parse_yaml",
    "parse_yaml_documents",
    "read_text",
]

# A task file is a page of YAML; anything near this size is a mistake (a data file, a
# binary) and would only make the pure-Python parser slow.
MAX_BYTES: Final = int(FILE_BYTES.value)
# Aliases can expand a small file exponentially ("billion laughs"): cap the expanded tree.
MAX_NODES: Final = int(YAML_VALUES.value)
MAX_DEPTH: Final = int(YAML_DEPTH.value)
# Time is checked every this many nodes: reading the clock is a system call.
_CLOCK_EVERY: Final = 64

_STR_TAG: Final = "tag:yaml.org,2002:str"
_INT_TAG: Final = "tag:yaml.org,2002:int"
_MERGE_TAG: Final = "tag:yaml.org,2002:merge"
_COLLECTION_TAGS: Final = frozenset(
    {
        "tag:yaml.org,2002:map",
        "tag:yaml.org,2002:seq",
        "tag:yaml.org,2002:set",
        "tag:yaml.org,2002:omap",
        "tag:yaml.org,2002:pairs",
    }
)
_SCALAR_TAGS: Final = frozenset(
    f"tag:yaml.org,2002:{name}"
    for name in ("str", "int", "float", "bool", "null", "timestamp", "binary", "value")
)
_BOM: Final = b"\xef\xbb\xbf"

NodePath = tuple[str | int, ...]


@dataclass(frozen=True)
class Mark:
    """A 1-based line and column in the source text."""

    line: int
    column: int


_START: Final = Mark(1, 1)


def describe_path(path: NodePath) -> str | None:
    """('resources', 'any_of', 1, 'cpus') -> 'resources.any_of[1].cpus'."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or None


@dataclass(frozen=True)
class Document:
    """Parsed YAML as plain Python data (dict, list, str, int, float, bool, None)."""

    display: str
    data: Any
    values: Mapping[NodePath, Mark] = field(default_factory=dict)
    keys: Mapping[NodePath, Mark] = field(default_factory=dict)
    note: str = ""  # appended to every issue, e.g. when lines refer to a rendered template

    def mark(self, path: NodePath, *, key: bool = False) -> Mark:
        """Where the value (or with key=True, the key) at `path` starts, else its nearest parent."""
        table = self.keys if key else self.values
        if path in table:
            return table[path]
        for end in range(len(path) - 1, -1, -1):
            if path[:end] in self.values:
                return self.values[path[:end]]
        return _START

    def issue(self, path: NodePath, message: str, *, key: bool = False) -> SpecIssue:
        where = self.mark(path, key=key)
        return SpecIssue(self.display, where.line, where.column, describe_path(path),
                         message + self.note)


def internal_issue(display: str, err: BaseException) -> SpecIssue:
    """A failure that is Styx's fault, still reported as a located issue, never a traceback."""
    return SpecIssue(display, 1, 1, None,
                     f"internal error while loading ({type(err).__name__}: {err}); please "
                     "report it with this file (STYX_DEBUG=1 shows the traceback)")


def read_text(path: Path, display: str, *, limit: int = MAX_BYTES) -> str:
    """The file's text, refusing what no task file can be: huge, binary, or not UTF-8."""
    try:
        with path.open("rb") as stream:
            raw = stream.read(limit + 1)
    except IsADirectoryError:
        raise SpecError([SpecIssue(display, None, None, None, "is a directory, not a file")]) \
            from None
    except OSError as err:
        reason = err.strerror or type(err).__name__
        raise SpecError([SpecIssue(display, None, None, None, f"cannot read: {reason}")]) \
            from None
    if len(raw) > limit:
        try:
            size = path.stat().st_size
        except OSError:
            size = len(raw)
        raise limit_error(FILE_BYTES, display, 1, 1, None,
                          f"file is {_size(size)}; task and stack files are limited to "
                          f"{_size(limit)}")
    if raw.startswith(_BOM):
        raw = raw[len(_BOM):]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        before = raw[: err.start]
        line = before.count(b"\n") + 1
        column = err.start - (before.rfind(b"\n") + 1) + 1
        raise SpecError([SpecIssue(display, line, column, None,
                                   f"not valid UTF-8 (byte 0x{raw[err.start]:02x}); "
                                   "save the file as UTF-8")]) from None


def _size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MiB"
    return f"{size / 1024:.0f} KiB"


def parse_yaml(text: str, display: str, *, note: str = "",
               budget: Budget | None = None) -> Document:
    """Parse one YAML document; every syntax problem becomes a located SpecIssue.

    `note` is added to every message, e.g. to say that lines refer to a rendered template.
    `budget` is the CPU time left for this load (a fresh one when not given).
    """
    return parse_yaml_documents(text, display, note=note, budget=budget, many=False)[0]


def parse_yaml_documents(text: str, display: str, *, note: str = "",
                         budget: Budget | None = None, many: bool = True) -> list[Document]:
    """Every YAML document of a file (`---` separated), each with its own marks."""
    try:
        documents = _parse(text, display, budget or Budget(), many)
    except SpecError as err:
        if not note:
            raise
        issues = [replace(i, message=i.message + note) for i in err.issues]
        if isinstance(err, SpecLimitError):
            raise SpecLimitError(issues[0], err.limit) from None
        raise SpecError(issues) from None
    return [replace(document, note=note) for document in documents]


class _Scanner(Scanner):
    """ruamel's scanner: an escape above U+10FFFF is a syntax error, flow nesting is bounded."""

    def scan_flow_scalar_non_spaces(self, double: Any, start_mark: Any) -> Any:
        try:
            return super().scan_flow_scalar_non_spaces(double, start_mark)
        except ValueError:  # chr() of an escape above U+10FFFF
            mark = self.reader.get_mark()
            # The reader stands on the hex digits; the escape starts two columns before.
            mark.column = max(mark.column - 2, 0)
            raise ScannerError("while scanning a double-quoted scalar", start_mark,
                               "escape is not a Unicode character (the largest is "
                               "\\U0010FFFF)", mark) from None

    def fetch_flow_collection_start(self, token_class: Any, to_push: Any) -> None:
        # Each open `[` or `{` keeps a possible key that every later token re-checks: 5,000
        # of them make the scanner quadratic before the composer sees a single node.
        if self.flow_level >= YAML_DEPTH.value:
            mark = self.reader.get_mark()
            raise OverLimit(YAML_DEPTH, f"nested more than {YAML_DEPTH} deep",
                            mark.line + 1, mark.column + 1)
        super().fetch_flow_collection_start(token_class, to_push)


class _Composer(Composer):
    """ruamel's composer, counting nodes as they are read so a limit stops the parse early."""

    def __init__(self, loader: Any = None) -> None:
        super().__init__(loader=loader)
        self.nodes = 0
        self.budget = Budget()
        # Redefining an anchor is valid YAML (the later one wins); ruamel's warning about it
        # would print a dozen lines where the CLI promises one.
        self.warn_double_anchors = False

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.parser.peek_event()
        if not isinstance(event, AliasEvent):
            self.nodes += 1
            if self.nodes > YAML_NODES.value:
                raise _limit_at(event, YAML_NODES, f"more than {YAML_NODES} in one file")
            if self.depth > YAML_DEPTH.value:
                raise _limit_at(event, YAML_DEPTH, f"nested more than {YAML_DEPTH} deep")
            if self.nodes % _CLOCK_EVERY == 0:
                self.budget.check()
        # A sequence composes its items with their index: stop a long list at its first
        # extra item, not after reading it all.
        if isinstance(parent, SequenceNode) and isinstance(index, int) \
                and index >= LIST_ITEMS.value:
            raise _limit_at(event, LIST_ITEMS, f"list has more than {LIST_ITEMS}")
        return super().compose_node(parent, index)


def _limit_at(event: Any, limit: Limit, message: str) -> OverLimit:
    mark = event.start_mark
    return OverLimit(limit, message, mark.line + 1, mark.column + 1)


def _parse(text: str, display: str, budget: Budget, many: bool) -> list[Document]:
    yaml = YAML(typ="safe", pure=True)
    # SkyPilot reads task files with PyYAML, i.e. YAML 1.1 (`use_spot: yes` is true there).
    yaml.version = (1, 1)
    yaml.Scanner = _Scanner
    yaml.Composer = _Composer
    yaml.composer.budget = budget
    try:
        roots = list(yaml.compose_all(text))
    except OverLimit as err:
        raise limit_error(err.limit, display, err.line or 1, err.column or 1, None,
                          err.message) from None
    except MarkedYAMLError as err:
        raise SpecError([_syntax_issue(err, display)]) from None
    except ReaderError as err:
        where = _offset_mark(text, err.position)
        code = err.character if isinstance(err.character, int) else ord(str(err.character)[:1])
        raise SpecError([SpecIssue(display, where.line, where.column, None,
                                   f"control character U+{code:04X} is not allowed in YAML")]) \
            from None
    except YAMLError as err:
        raise SpecError([SpecIssue(display, 1, 1, None, f"invalid YAML: {err}")]) from None
    except RecursionError:
        raise SpecError([SpecIssue(display, 1, 1, None, "YAML is nested too deeply")]) from None
    roots = [r for r in roots if r is not None]
    if not roots:
        raise SpecError([SpecIssue(display, 1, 1, None,
                                   "file is empty: expected a mapping of fields")])
    if len(roots) > 1 and not many:
        where = _node_mark(roots[1])
        raise SpecError([SpecIssue(display, where.line, where.column, None,
                                   "several YAML documents in one file (`---`) are not "
                                   "supported yet; put one task per file")])
    documents: list[Document] = []
    # One builder for all documents: the value limit caps the whole file, not each document.
    builder = _Builder(yaml, display, budget)
    for root in roots:
        builder.values, builder.keys = {}, {}
        try:
            data = builder.convert(root, (), 0)
        except RecursionError:
            raise SpecError([SpecIssue(display, 1, 1, None, "YAML is nested too deeply")]) \
                from None
        except OverLimit as err:
            raise limit_error(err.limit, display, err.line or 1, err.column or 1, err.field,
                              err.message) from None
        documents.append(Document(display, data, builder.values, builder.keys))
    if builder.issues:
        raise SpecError(builder.issues)
    return documents


def _syntax_issue(err: MarkedYAMLError, display: str) -> SpecIssue:
    mark = err.problem_mark or err.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    problem = err.problem or "invalid YAML"
    if "'\\t'" in problem:
        message = "tab character in YAML indentation or spacing; use spaces"
    else:
        context = f" ({err.context})" if err.context else ""
        message = f"invalid YAML: {problem}{context}"
    return SpecIssue(display, line, column, None, message)


def _offset_mark(text: str, offset: int) -> Mark:
    before = text[:offset]
    return Mark(before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1)


def _node_mark(node: Node) -> Mark:
    start = node.start_mark
    return Mark(start.line + 1, start.column + 1)


class _Builder:
    """Turns composed nodes into plain data, recording marks and every problem it meets."""

    def __init__(self, yaml: YAML, display: str, budget: Budget) -> None:
        self._yaml = yaml
        self._display = display
        self._budget = budget
        self._count = 0
        self.values: dict[NodePath, Mark] = {}
        self.keys: dict[NodePath, Mark] = {}
        self.issues: list[SpecIssue] = []

    def _issue(self, node: Node, path: NodePath, message: str, *, top: bool = False) -> None:
        where = _node_mark(node)
        # For structural limits the full path is noise ("a[3][0][0]..."): name the field.
        field = describe_path(path[:1] if top else path)
        self.issues.append(SpecIssue(self._display, where.line, where.column, field, message))

    def convert(self, node: Node, path: NodePath, depth: int) -> Any:
        self._count += 1
        if self._count > MAX_NODES:
            # The composer already counted the nodes as written: only aliases get here.
            raise self._over(node, path, YAML_VALUES,
                             f"aliases expand the document to more than {YAML_VALUES}")
        if depth > MAX_DEPTH:
            raise self._over(node, path, YAML_DEPTH, f"nested more than {YAML_DEPTH} deep")
        if self._count % _CLOCK_EVERY == 0:
            self._budget.check()
        self.values[path] = _node_mark(node)
        if isinstance(node, ScalarNode):
            return self._scalar(node, path)
        if node.tag not in _COLLECTION_TAGS:
            self._issue(node, path, f"YAML tag {node.tag!r} is not supported")
            return None
        if isinstance(node, SequenceNode):
            return [self.convert(child, (*path, i), depth + 1)
                    for i, child in enumerate(node.value)]
        if isinstance(node, MappingNode):
            return self._mapping(node, path, depth)
        self._issue(node, path, "unexpected YAML node")  # pragma: no cover - composer makes none
        return None

    def _over(self, node: Node, path: NodePath, limit: Limit, message: str) -> OverLimit:
        where = _node_mark(node)
        # For structural limits the full path is noise ("a[3][0][0]..."): name the field.
        return OverLimit(limit, message, where.line, where.column, describe_path(path[:1]))

    def _scalar(self, node: ScalarNode, path: NodePath) -> Any:
        if node.tag == _STR_TAG:
            return node.value
        if node.tag not in _SCALAR_TAGS:
            self._issue(node, path, f"YAML tag {node.tag!r} is not supported")
            return None
        if node.tag == _INT_TAG and sum(c.isdigit() for c in node.value) > INT_DIGITS.value:
            where = _node_mark(node)
            raise OverLimit(INT_DIGITS, f"integer has more than {INT_DIGITS}", where.line,
                            where.column, describe_path(path))
        try:
            with warnings.catch_warnings():
                # ruamel nags about YAML 1.1 float spellings ("1e-09"); the value is still read.
                warnings.simplefilter("ignore")
                value = self._yaml.constructor.construct_object(node, deep=True)
        except KeyError:  # `!!bool maybe`: ruamel looks the word up in its table
            self._issue(node, path, f"cannot read this value: {node.value!r} is not a YAML "
                                    "boolean (true/false, yes/no, on/off)")
            return None
        except (YAMLError, ValueError, TypeError, OverflowError, LookupError) as err:
            reason = getattr(err, "problem", None) or str(err).splitlines()[0]
            self._issue(node, path, f"cannot read this value: {reason}")
            return None
        # Dates and binary have no JSON form; a task field that takes them wants the text.
        if isinstance(value, datetime.date | bytes | bytearray):
            return node.value
        if value is None or isinstance(value, bool | int | float | str):
            return value
        self._issue(node, path, f"unsupported YAML value of type {type(value).__name__}")
        return None

    def _mapping(self, node: MappingNode, path: NodePath, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        # `<<: *defaults` first, so that keys written here then win (and keep their marks).
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                self._merge(result, value_node, path, depth)
        first_seen: dict[str, Mark] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                continue
            if not isinstance(key_node, ScalarNode):
                self._issue(key_node, path, "mapping keys must be plain words or strings")
                continue
            # The key as written: `123:` stays "123", as SkyPilot's str() of it would be.
            key = str(key_node.value)
            mark = _node_mark(key_node)
            if key in first_seen:
                self._issue(key_node, (*path, key),
                            f"duplicate key {key!r} (first defined at line {first_seen[key].line})")
            first_seen[key] = mark
            self.keys[(*path, key)] = mark
            result[key] = self.convert(value_node, (*path, key), depth + 1)
        return result

    def _merge(self, result: dict[str, Any], source: Node, path: NodePath, depth: int) -> None:
        sources = source.value if isinstance(source, SequenceNode) else [source]
        for item in sources:
            if not isinstance(item, MappingNode):
                self._issue(item, path, "`<<` merges need a mapping (or a list of mappings)")
                continue
            # Earlier sources win over later ones, as in PyYAML.
            for key, value in self._mapping(item, path, depth).items():
                result.setdefault(key, value)
