"""Properties over generated plans: markdown always fits and keeps its summary; JSON round-trips."""

from __future__ import annotations

import json
import re
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from styx.plan import (
    Action,
    DiffKind,
    NodeChange,
    Plan,
    PropertyChange,
    Step,
    comment_marker,
    plan_from_json,
    plan_schema,
    render_json,
    render_markdown,
)

UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")

texts = st.text(max_size=40)
# Long text made by repetition: cheap to generate, yet any characters, so cuts get exercised.
long_texts = texts | st.builds(
    lambda part, times: part * times, st.text(min_size=1, max_size=8), st.integers(10, 400)
)
json_values: st.SearchStrategy[Any] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | long_texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=6,
)
changes = st.builds(
    PropertyChange, texts, st.sampled_from(DiffKind), json_values, json_values, st.booleans()
)
steps = st.builds(
    Step,
    st.sampled_from(Action),
    texts,
    texts,
    texts,
    st.lists(changes, max_size=6).map(tuple),
    st.lists(texts, max_size=2).map(tuple),
)
node_changes = st.builds(
    NodeChange, texts, long_texts, st.lists(texts, max_size=15).map(tuple), st.booleans()
)
costs = st.floats(allow_nan=False, allow_infinity=False)
plans = st.builds(
    Plan,
    project=st.text(max_size=120),
    stack=st.text(max_size=120),
    cloud=texts,
    steps=st.lists(steps, max_size=20).map(tuple),
    node_changes=st.lists(node_changes, max_size=4).map(tuple),
    drift=st.lists(steps, max_size=3).map(tuple),
    cost_before=costs,
    cost_after=costs,
    warnings=st.lists(long_texts, max_size=4).map(tuple),
    stack_version=st.integers(min_value=0, max_value=2**40),
    spec_hash=texts,
    git_commit=st.none() | texts,
    setup_nodes=st.lists(texts, max_size=4).map(tuple),
)
fast = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@fast
@given(plan=plans, limit=st.integers(min_value=4_096, max_value=6_000))
def test_markdown_fits_and_keeps_its_summary(plan: Plan, limit: int) -> None:
    text = render_markdown(plan, limit=limit)
    event("cut" if "for the full plan\n" in text else "whole")
    assert len(text.encode("utf-16-le")) // 2 <= limit
    assert text.startswith(comment_marker(plan.project, plan.stack) + "\n")
    assert f"**`{plan.summary()}`**" in text
    lines = text.split("\n")
    assert lines.count("</details>") == sum(x.startswith("<details>") for x in lines) <= 1
    for line in lines:
        if line.startswith("|"):
            assert len(UNESCAPED_PIPE.findall(line)) == 5, line


@fast
@given(plan=plans)
def test_json_round_trips_and_validates(plan: Plan) -> None:
    text = render_json(plan)
    Draft202012Validator(plan_schema()).validate(json.loads(text))
    assert plan_from_json(text) == plan.sorted()
