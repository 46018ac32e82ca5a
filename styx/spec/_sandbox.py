"""A Jinja sandbox whose every way to grow a value or loop is checked before it happens.

Jinja's own sandbox stops attribute tricks and caps range(); it does not stop
`{{ 'x' | indent(3*10**9) }}` from allocating 3 GB. Here a value a template builds may not
exceed TEMPLATE_VALUE (its size counted the way str() would print it), and each operation
that can make a large value from small ones is checked on its arguments first: filters
(`indent`, `center`, `truncate`, `wordwrap`, `format`, `join`, `replace`, `batch`, `slice`,
`sum`), string methods (`ljust`, `rjust`, `center`, `zfill`, `expandtabs`, `join`,
`replace`, `format`, `translate`), the operators `*`, `**`, `%`, `+` and `~`, the buffers of
macros and `{% set %}` blocks, and every `{{ }}` output. Loops share one step budget and
every call reads the CPU clock, so no template runs for long either.
"""

from __future__ import annotations

import functools
import inspect
import re
import string
from collections.abc import Callable, Iterator
from typing import Any, Final

import jinja2
import jinja2.nodes
from jinja2.runtime import LoopContext, markup_join, str_join
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import Namespace, pass_eval_context
from jinja2.visitor import NodeTransformer

from styx.spec._limits import (
    LIST_ITEMS,
    TEMPLATE_INT_BITS,
    TEMPLATE_LOOP_STEPS,
    TEMPLATE_VALUE,
    Budget,
    OverLimit,
)

__all__ = ["BoundedEnvironment", "bound_template"]

_MAX: Final = int(TEMPLATE_VALUE.value)
_MAX_BITS: Final = int(TEMPLATE_INT_BITS.value)
_LOOP: Final = "__styx_loop"
_CONCAT: Final = "__styx_concat"
# printf-style conversions: %(name)-*.*s; the width and precision groups are checked.
_PERCENT: Final = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")
_NUMBER: Final = re.compile(r"\d+")
_SEQUENCES: Final = (str, bytes, list, tuple)
_CONTEXT_PARAMETERS: Final = frozenset({"eval_ctx", "environment", "env", "context"})


def weight(value: Any) -> int:
    """About len(str(value)), counted only until it passes the limit (cheap on huge values).

    A list holding the same long string twice weighs twice: str() would print it twice.
    """
    total = 0
    stack = [value]
    while stack and total <= _MAX:
        item = stack.pop()
        if isinstance(item, str | bytes | bytearray):
            total += len(item)
        elif isinstance(item, bool) or item is None:
            total += 5
        elif isinstance(item, int):
            total += item.bit_length() // 3 + 1
        elif isinstance(item, list | tuple | set | frozenset):
            total += 2 + 2 * len(item)
            stack.extend(item)
        elif isinstance(item, dict):
            total += 2 + 4 * len(item)
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, Namespace):
            stack.append(item._Namespace__attrs)
        else:  # floats, Undefined, macros, ranges: a short repr
            total += 24
    return total


def _too_big(what: str) -> OverLimit:
    return OverLimit(TEMPLATE_VALUE, f"template builds {what} larger than {TEMPLATE_VALUE}")


def _check(value: Any, what: str = "a value") -> Any:
    if weight(value) > _MAX:
        raise _too_big(what)
    return value


def _check_size(size: int, what: str) -> None:
    if size > _MAX:
        raise _too_big(what)


def _int(value: Any, name: str) -> int:
    """A sizing argument as the filter would read it; a template may pass "3" or 2.5."""
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        raise jinja2.exceptions.FilterArgumentError(f"{name} must be a number") from None


def _is_lazy(value: Any) -> bool:
    return isinstance(value, Iterator) and not isinstance(value, LoopContext)


class BoundedEnvironment(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox with sizes, integers, loops and time bounded."""

    intercepted_binops = frozenset({"*", "**", "%", "+"})

    def __init__(self, budget: Budget) -> None:
        super().__init__(keep_trailing_newline=True, autoescape=False, finalize=self._output)
        self.budget = budget
        self.loop_steps = 0
        # lipsum(n=10**9) writes a billion paragraphs; no task needs filler text.
        self.globals.pop("lipsum", None)
        self.globals[_LOOP] = self._loop
        self.globals[_CONCAT] = _bounded_concat
        self.filters = {name: self._bounded_filter(name, func)
                        for name, func in self.filters.items()}

    # Compiled templates join the buffers of macros, `{% set %}` blocks and `{% filter %}`
    # blocks with environment.concat: 100,000 loop steps each adding a long string would
    # otherwise be joined into gigabytes.
    @staticmethod
    def concat(parts: Any) -> str:
        pieces = []
        size = 0
        for part in parts:
            size += len(part)
            _check_size(size, "a text block")
            pieces.append(part)
        return "".join(pieces)

    def _output(self, value: Any) -> Any:
        """Every `{{ }}` before it is turned into text."""
        self.budget.check()
        return _check(value, "an output")

    def _loop(self, iterable: Any) -> Iterator[Any]:
        """Every `{% for %}` iterates through here: one step budget for all loops together.

        The sandbox bounds each range(), not their nesting: two nested loops of 100,000 steps
        would run for hours with no output to stop them.
        """
        for item in iterable:
            self.loop_steps += 1
            if self.loop_steps > TEMPLATE_LOOP_STEPS.value:
                raise OverLimit(TEMPLATE_LOOP_STEPS,
                                f"template loops ran more than {TEMPLATE_LOOP_STEPS}")
            self.budget.check()
            yield item

    def call_binop(self, context: jinja2.runtime.Context, operator: str,
                   left: Any, right: Any) -> Any:
        self.budget.check()
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                if isinstance(seq, _SEQUENCES) and isinstance(times, int) and times > 0:
                    _check_size(weight(seq) * times, "a repetition (`*`)")
            if isinstance(left, int) and isinstance(right, int):
                _check_bits(left.bit_length() + right.bit_length())
        elif operator == "**":
            if isinstance(left, int) and isinstance(right, int) and right > 0:
                _check_bits(max(left.bit_length() - 1, 1) * right)
        elif operator == "%":
            if isinstance(left, str):
                _check_percent(left, right)
        elif isinstance(left, _SEQUENCES) and isinstance(right, _SEQUENCES):  # "+"
            _check_size(weight(left) + weight(right), "a sum (`+`)")
        return super().call_binop(context, operator, left, right)

    def call(__self, __context: jinja2.runtime.Context, __obj: Any,
             *args: Any, **kwargs: Any) -> Any:
        __self.budget.check()
        args = tuple(_materialize(a) if _is_lazy(a) else _check(a, "an argument")
                     for a in args)
        for value in kwargs.values():
            _check(value, "an argument")
        # The sandbox hands str.format over as a wrapper of the bound method.
        owner = getattr(getattr(__obj, "__wrapped__", __obj), "__self__", None)
        if isinstance(owner, str | bytes):
            _check_method(owner, getattr(__obj, "__name__", ""), args, kwargs)
        result = super().call(__context, __obj, *args, **kwargs)
        return result if _is_lazy(result) else _check(result)

    def _bounded_filter(self, name: str, func: Callable[..., Any]) -> Callable[..., Any]:
        precheck = _FILTER_CHECKS.get(name)
        signature = inspect.signature(func)
        # Jinja's async-capable filters take an eval context their signature (the sync
        # function's) does not show: skip it when binding.
        skip = int(getattr(func, "jinja_pass_arg", None) is not None
                   and next(iter(signature.parameters), "") not in _CONTEXT_PARAMETERS)

        @functools.wraps(func)  # keeps Jinja's pass_context/pass_environment marks
        def bounded(*args: Any, **kwargs: Any) -> Any:
            self.budget.check()
            args = tuple(_materialize(a) if _is_lazy(a) else a for a in args)
            for value in (*args, *kwargs.values()):
                _check(value, "an argument")
            if precheck is not None:
                try:
                    bound = signature.bind(*args[skip:], **kwargs)
                except TypeError:
                    pass  # the filter itself says what is wrong with its arguments
                else:
                    bound.apply_defaults()
                    precheck(self, bound.arguments)
            result = func(*args, **kwargs)
            return result if _is_lazy(result) else _check(result, f"a value (`{name}`)")

        return bounded


def _materialize(values: Iterator[Any]) -> list[Any]:
    """A lazy argument (map, select, ...) read into a list, stopping at the limit."""
    items: list[Any] = []
    size = 0
    for item in values:
        size += weight(item) + 2
        _check_size(size, "a list")
        items.append(item)
    return items


def _check_bits(bits: int) -> None:
    if bits > _MAX_BITS:
        raise OverLimit(TEMPLATE_INT_BITS,
                        f"template computes an integer larger than {TEMPLATE_INT_BITS}")


def _check_width(width: int, what: str) -> None:
    if width > _MAX:
        raise OverLimit(TEMPLATE_VALUE, f"template asks for {what} of {width:,}, more than "
                                        f"{TEMPLATE_VALUE}")


def _check_percent(fmt: str, values: Any) -> None:
    """`"%10s" % x` and the `format` filter: every width and precision within the limit."""
    for match in _PERCENT.finditer(fmt):
        for number in match.groups():
            if number == "*":
                raise jinja2.exceptions.SecurityError(
                    "`*` widths in % formats are not supported in task templates")
            if number is not None:
                _check_width(int(number), "a format width")


def _check_braces(fmt: str) -> None:
    """str.format: widths and precisions within the limit; nested fields not allowed."""
    for _, _, spec, _ in string.Formatter().parse(fmt):
        if not spec:
            continue
        if "{" in spec:
            raise jinja2.exceptions.SecurityError(
                "nested fields in format specs ({:{}}) are not supported in task templates")
        for number in _NUMBER.findall(spec):
            _check_width(int(number), "a format width")


def _expand_size(text: Any, old: Any, new: Any, count: Any) -> int:
    text, old, new = str(text), str(old), str(new)
    found = text.count(old) if old else len(text) + 1
    if isinstance(count, int) and count >= 0:
        found = min(found, count)
    return len(text) + found * max(len(new) - len(old), 0)


def _join_size(items: Any, separator: Any) -> int:
    items = list(items) if not isinstance(items, str | bytes) else items
    return weight(items) + len(str(separator)) * max(len(items) - 1, 0)


def _check_method(owner: str | bytes, name: str, args: tuple[Any, ...],
                  kwargs: dict[str, Any]) -> None:
    """Methods of strings that can make a long string out of a short one."""
    arguments = [*args, *kwargs.values()]
    first = arguments[0] if arguments else None
    if name in ("center", "ljust", "rjust", "zfill") and first is not None:
        _check_width(_int(first, "width"), f"`{name}` width")
    elif name == "expandtabs":
        tabsize = _int(first, "tabsize") if first is not None else 8
        tabs = owner.count("\t") if isinstance(owner, str) else owner.count(b"\t")
        _check_size(len(owner) + tabs * max(tabsize, 0), "a string (`expandtabs`)")
    elif name == "join" and first is not None:
        _check_size(_join_size(first, owner), "a string (`join`)")
    elif name == "replace" and len(arguments) >= 2:
        count = arguments[2] if len(arguments) > 2 else -1
        _check_size(_expand_size(owner, arguments[0], arguments[1], count),
                    "a string (`replace`)")
    elif name in ("format", "format_map") and isinstance(owner, str):
        _check_braces(owner)
    elif name == "translate" and isinstance(first, dict):
        longest = max((weight(v) for v in first.values()), default=1)
        _check_size(len(owner) * max(longest, 1), "a string (`translate`)")


# -- filters that size their output from an argument ----------------------------------------


def _indent(env: BoundedEnvironment, a: dict[str, Any]) -> None:
    width = a["width"]
    prefix = len(width) if isinstance(width, str) else _int(width, "indent width")
    _check_width(prefix, "an indent")
    text = str(a["s"])
    _check_size(len(text) + prefix * (text.count("\n") + 1), "a string (`indent`)")


def _center(env: BoundedEnvironment, a: dict[str, Any]) -> None:
    _check_width(_int(a["width"], "center width"), "a `center` width")


def _truncate(env: BoundedEnvironment, a: dict[str, Any]) -> None:
    # Jinja asserts these, and an AssertionError would read as Styx's own fault.
    length, end, leeway = a["length"], a["end"], a["leeway"]
    if _int(length, "truncate length") < len(str(end)):
        raise jinja2.exceptions.FilterArgumentError(
            f"truncate length must be at least {len(str(end))} (the length of {end!r}), "
            f"got {length}")
    if leeway is not None and _int(leeway, "truncate leeway") < 0:
        raise jinja2.exceptions.FilterArgumentError(
            f"truncate leeway must not be negative, got {leeway}")


def _wordwrap(env: BoundedEnvironment, a: dict[str, Any]) -> None:
    width = _int(a["width"], "wordwrap width")
    if width < 1:
        raise jinja2.exceptions.FilterArgumentError(
            f"wordwrap width must be at least 1, got {width}")
    text = str(a["s"])
    wrap = a["wrapstring"] if a["wrapstring"] is not None else env.newline_sequence
    breaks = len(text) // width + text.count(" ") + text.count("\n") + 1
    _check_size(len(text) + breaks * len(str(wrap)), "a string (`wordwrap`)")


def _format(env: BoundedEnvironment, a: dict[str, Any]) -> None:
    _check_percent(str(a["value"]), a["args"] or a["kwargs"])


def _join(env: BoundedEnvironment, a: dict[str, Any]) -> None:
    _check_size(_join_size(a["value"], a["d"]), "a string (`join`)")


def _replace(env: BoundedEnvironment, a: dict[str, Any]) -> None:
    count = a["count"] if a["count"] is not None else -1
    _check_size(_expand_size(a["s"], a["old"], a["new"], count), "a string (`replace`)")


def _batch(env: BoundedEnvironment, a: dict[str, Any]) -> None:
    size = _int(a["linecount"], "batch size")
    _check_width(size, "a batch size")
    if a["fill_with"] is not None:
        _check_size(weight(a["fill_with"]) * size, "a list (`batch`)")


def _slice(env: BoundedEnvironment, a: dict[str, Any]) -> None:
    slices = _int(a["slices"], "slice count")
    _check_width(slices, "a slice count")
    if a["fill_with"] is not None:
        _check_size(weight(a["fill_with"]) * slices, "a list (`slice`)")


def _sum(env: BoundedEnvironment, a: dict[str, Any]) -> None:
    # Summing lists copies the growing total once per item: bound both.
    if not isinstance(a["start"], int | float):
        items = a["iterable"]
        if isinstance(items, list | tuple) and len(items) > LIST_ITEMS.value:
            raise OverLimit(LIST_ITEMS, f"template sums more than {LIST_ITEMS}")
        _check(items, "a sum")


_FILTER_CHECKS: Final[dict[str, Callable[[BoundedEnvironment, dict[str, Any]], None]]] = {
    "indent": _indent,
    "center": _center,
    "truncate": _truncate,
    "wordwrap": _wordwrap,
    "format": _format,
    "join": _join,
    "replace": _replace,
    "batch": _batch,
    "slice": _slice,
    "sum": _sum,
}


@pass_eval_context
def _bounded_concat(eval_ctx: jinja2.nodes.EvalContext, *parts: Any) -> str:
    """The `~` operator: sized first, then joined as Jinja would."""
    _check_size(sum(weight(part) for part in parts), "a string (`~`)")
    return str(markup_join(parts) if eval_ctx.autoescape else str_join(parts))


class _Rewrite(NodeTransformer):
    """Routes loops and `~` through the bounded helpers above."""

    def visit_For(self, node: jinja2.nodes.For) -> jinja2.nodes.Node:
        self.generic_visit(node)
        node.iter = jinja2.nodes.Call(jinja2.nodes.Name(_LOOP, "load"), [node.iter], [],
                                      None, None, lineno=node.lineno)
        return node

    def visit_Concat(self, node: jinja2.nodes.Concat) -> jinja2.nodes.Node:
        self.generic_visit(node)
        return jinja2.nodes.Call(jinja2.nodes.Name(_CONCAT, "load"), list(node.nodes), [],
                                 None, None, lineno=node.lineno)


def bound_template(tree: jinja2.nodes.Template) -> jinja2.nodes.Template:
    """The parsed template with every loop and `~` bounded (before compiling it)."""
    result: jinja2.nodes.Template = _Rewrite().visit(tree)
    return result
