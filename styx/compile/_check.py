"""Check a spec against what its cloud can honour: refused fields are errors, warned ones warnings.

Every issue names the field, where it was written (file:line:col, or the flag that set it)
and the cloud, so nothing a task asks for is dropped without a word.
"""

from __future__ import annotations

from styx.clouds import Cloud, Support, candidates_on
from styx.errors import CloudError, CloudFieldError, SpecIssue
from styx.spec import Place, Spec, StackFile, field_place

__all__ = ["check_fields", "locate"]


def _place(spec: Spec, field: str, stack: StackFile | None) -> Place:
    place = field_place(spec, field)
    # A stack file's cloud and region win over the task's (a flag wins over both).
    leaf = field.removeprefix("resources.")
    from_stack = stack is not None and leaf in ("cloud", "region") and \
        getattr(stack, leaf) is not None
    if from_stack and stack is not None and not place.path.startswith("--"):
        return Place(str(stack.source))
    return place


def _issue(spec: Spec, field: str, message: str, stack: StackFile | None) -> SpecIssue:
    place = _place(spec, field, stack)
    return SpecIssue(place.path, place.line, place.column, field, message)


def check_fields(spec: Spec, cloud: Cloud, stack: StackFile | None = None) -> tuple[str, ...]:
    """The warnings for fields `cloud` ignores; CloudFieldError listing every field it refuses."""
    candidates = candidates_on(spec, cloud.name)
    refused: list[SpecIssue] = []
    warnings: list[SpecIssue] = []
    for rule in cloud.rules:
        asks = rule.asks
        if rule.support is Support.HONOURED or asks is None:
            continue
        if not any(asks(spec, c) for c in candidates):
            continue
        if rule.support is Support.REFUSED:
            what = f"{rule.when}: " if rule.when else ""
            refused.append(_issue(spec, rule.field,
                                  f"the {cloud.name} cloud refuses it ({what}{rule.note})", stack))
        else:
            warnings.append(_issue(spec, rule.field,
                                   f"the {cloud.name} cloud ignores it ({rule.note})", stack))
    if refused:
        raise CloudFieldError(sorted(refused, key=_in_file_order), cloud=cloud.name)
    return tuple(str(w) for w in sorted(warnings, key=_in_file_order))


def _in_file_order(issue: SpecIssue) -> tuple[str, int, int]:
    return issue.path, issue.line or 0, issue.column or 0


def locate(err: CloudError, spec: Spec, cloud: str, stack: StackFile | None) -> CloudError:
    """A cloud's error about one field, located at that field: file:line:col."""
    if err.field is None or isinstance(err, CloudFieldError):
        return err
    return CloudFieldError([_issue(spec, err.field, str(err), stack)], cloud=cloud)
