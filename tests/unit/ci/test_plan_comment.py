"""examples/ci/plan-comment.js, run by Node against a fake GitHub REST API, as CI would run it.

The fake serves the issue-comment endpoints on 127.0.0.1 with GitHub's shapes: pagination by
Link header, 422 for a body over 65,536 characters, 404 for an unknown comment.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from styx.plan import (
    GITHUB_COMMENT_LIMIT,
    Action,
    DiffKind,
    Plan,
    PropertyChange,
    Step,
    render_markdown,
)

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = ROOT / "examples" / "ci" / "plan-comment.js"
DRIVER = Path(__file__).with_name("drive_comment.js")
NODE = shutil.which("node")
BOT = {"login": "github-actions[bot]", "type": "Bot"}
HUMAN = {"login": "octocat", "type": "User"}
MARKER = "<!-- styx-ci: stacks/prod.yaml -->"

pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed")


@dataclass
class FakeGitHub:
    """Comments on one repository's issues, and every request made."""

    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    next_id: int = 1000

    def add(self, issue: int, body: str, user: dict[str, str]) -> int:
        self.next_id += 1
        self.comments.setdefault(issue, []).append(
            {"id": self.next_id, "body": body, "user": dict(user)}
        )
        return self.next_id

    def find(self, comment_id: int) -> dict[str, Any] | None:
        for items in self.comments.values():
            for comment in items:
                if comment["id"] == comment_id:
                    return comment
        return None


def handler(fake: FakeGitHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # quiet
            pass

        def reply(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
            blob = json.dumps(data).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(blob)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(blob)

        def body(self) -> dict[str, Any]:
            length = int(self.headers.get("content-length", 0))
            data: dict[str, Any] = json.loads(self.rfile.read(length) or b"{}")
            return data

        def too_long(self, text: Any) -> bool:
            if not isinstance(text, str) or len(text.encode("utf-16-le")) // 2 <= 65_536:
                return False
            self.reply(422, {"message": "Validation Failed",
                             "errors": [{"message": "Body is too long (maximum is 65536 "
                                                    "characters)"}]})
            return True

        def do_GET(self) -> None:
            url = urlparse(self.path)
            fake.requests.append(("GET", url.path))
            parts = url.path.strip("/").split("/")
            if len(parts) != 6 or parts[3] != "issues" or parts[5] != "comments":
                self.reply(404, {"message": "Not Found"})
                return
            query = parse_qs(url.query)
            per_page = min(int(query.get("per_page", ["30"])[0]), 100)
            page = int(query.get("page", ["1"])[0])
            items = fake.comments.get(int(parts[4]), [])
            chunk = items[(page - 1) * per_page: page * per_page]
            headers = {}
            if page * per_page < len(items):
                headers["link"] = f'<{url.path}?per_page={per_page}&page={page + 1}>; rel="next"'
            self.reply(200, chunk, headers)

        def do_POST(self) -> None:
            fake.requests.append(("POST", self.path))
            parts = self.path.strip("/").split("/")
            data = self.body()
            if self.too_long(data.get("body")):
                return
            comment_id = fake.add(int(parts[4]), data["body"], BOT)
            self.reply(201, fake.find(comment_id))

        def do_PATCH(self) -> None:
            fake.requests.append(("PATCH", self.path))
            comment = fake.find(int(self.path.rstrip("/").split("/")[-1]))
            data = self.body()
            if comment is None:
                self.reply(404, {"message": "Not Found"})
                return
            if self.too_long(data.get("body")):
                return
            comment["body"] = data["body"]
            self.reply(200, comment)

    return Handler


@dataclass
class Harness:
    fake: FakeGitHub
    url: str
    work: Path

    def run(self, *, outcome: str = "success", plan: str | None = None, error: str = "",
            stack_file: str = "stacks/prod.yaml", issue: int = 7) -> dict[str, list[str]]:
        if plan is not None:
            (self.work / "plan.md").write_text(plan, encoding="utf-8")
        (self.work / "plan.err").write_text(error, encoding="utf-8")
        context = {
            "repo": {"owner": "acme", "repo": "infra"},
            "issue": {"number": issue},
            "sha": "0123456789abcdef",
            "serverUrl": "https://github.example",
            "runId": 42,
            "eventName": "pull_request",
        }
        env = {
            "PATH": os.environ["PATH"],
            "STYX_STACK_FILE": stack_file,
            "STYX_PLAN_OUTCOME": outcome,
            "STYX_PLAN_MD": "plan.md",
            "STYX_PLAN_ERR": "plan.err",
        }
        proc = subprocess.run(
            [str(NODE), str(DRIVER), str(SCRIPT), self.url, json.dumps(context)],
            cwd=self.work, env=env, capture_output=True, text=True, timeout=60,
        )
        assert proc.returncode == 0, proc.stderr
        told: dict[str, list[str]] = json.loads(proc.stdout)
        return told

    def bodies(self, issue: int = 7) -> list[str]:
        return [c["body"] for c in self.fake.comments.get(issue, [])]


@pytest.fixture
def github(tmp_path: Path) -> Iterator[Harness]:
    fake = FakeGitHub()
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler(fake))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Harness(fake, f"http://127.0.0.1:{server.server_address[1]}", tmp_path)
    finally:
        server.shutdown()
        server.server_close()


def plan_text(summary: str = "Plan: 1 to create") -> str:
    return f"<!-- styx-plan: styx/prod -->\n### Styx plan\n\n**`{summary}`**\n"


def test_the_first_plan_creates_the_comment(github: Harness) -> None:
    told = github.run(plan=plan_text())
    (body,) = github.bodies()
    assert body == f"{MARKER}\n{plan_text()}"
    assert told["failed"] == [] and told["info"][0].startswith("created comment")


def test_the_next_push_updates_the_same_comment(github: Harness) -> None:
    github.run(plan=plan_text("Plan: 1 to create"))
    (first,) = github.fake.comments[7]
    github.run(plan=plan_text("Plan: 2 to create"))
    (again,) = github.fake.comments[7]
    assert again["id"] == first["id"] and "2 to create" in again["body"]
    assert [m for m, _ in github.fake.requests].count("POST") == 1
    assert [m for m, _ in github.fake.requests].count("PATCH") == 1


def test_other_stacks_and_peoples_comments_are_left_alone(github: Harness) -> None:
    other_stack = github.fake.add(7, "<!-- styx-ci: stacks/dev.yaml -->\nold dev plan", BOT)
    human = github.fake.add(7, f"{MARKER}\nI quoted the marker", HUMAN)
    late = github.fake.add(7, f"LGTM\n{MARKER}", BOT)  # not on its first line
    github.run(plan=plan_text())
    bodies = {c["id"]: c["body"] for c in github.fake.comments[7]}
    assert bodies[other_stack] == "<!-- styx-ci: stacks/dev.yaml -->\nold dev plan"
    assert bodies[human] == f"{MARKER}\nI quoted the marker"
    assert bodies[late] == f"LGTM\n{MARKER}"
    assert len(bodies) == 4  # a new one of our own
    # A second stack file in the same pull request gets its own comment.
    github.run(plan=plan_text("dev"), stack_file="stacks/dev.yaml")
    assert github.fake.find(other_stack)["body"].endswith(plan_text("dev"))  # type: ignore[index]
    assert len(github.fake.comments[7]) == 4


def test_our_comment_is_found_past_the_first_page(github: Harness) -> None:
    for i in range(150):
        github.fake.add(7, f"chatter {i}", HUMAN)
    ours = github.fake.add(7, f"{MARKER}\nold plan", BOT)
    for i in range(30):
        github.fake.add(7, f"more {i}", HUMAN)
    github.run(plan=plan_text())
    assert github.fake.find(ours)["body"] == f"{MARKER}\n{plan_text()}"  # type: ignore[index]
    assert len(github.fake.comments[7]) == 181


def test_the_first_failure_posts_the_error(github: Harness) -> None:
    error = "error: stacks/prod.yaml:3:1: unknown field 'regoin' (did you mean 'region'?)\n"
    told = github.run(outcome="failure", error=error)
    (body,) = github.bodies()
    assert body.startswith(f"{MARKER}\n### Styx plan for `stacks/prod.yaml` failed")
    assert "unknown field 'regoin'" in body and "0123456" in body
    assert "https://github.example/acme/infra/actions/runs/42" in body
    assert told["failed"] == ["styx plan failed; the pull request comment says why"]


def test_a_failure_replaces_the_last_plan_and_a_success_comes_back(github: Harness) -> None:
    github.run(plan=plan_text())
    github.run(outcome="failure", error="error: the engine ``` broke\n")
    (body,) = github.bodies()
    assert "failed" in body and "Plan: 1 to create" not in body
    assert "````text\nerror: the engine ``` broke\n````" in body  # the fence outlasts it
    github.run(plan=plan_text("Plan: 3 to create"))
    (body,) = github.bodies()
    assert body == f"{MARKER}\n{plan_text('Plan: 3 to create')}"


def test_a_huge_error_is_cut_from_its_start(github: Harness) -> None:
    github.run(outcome="failure", error="x" * 100_000 + "\nerror: the last line\n")
    (body,) = github.bodies()
    assert len(body) <= GITHUB_COMMENT_LIMIT and "error: the last line" in body
    assert "characters cut" in body


def test_a_plan_at_the_renderers_limit_fits_with_the_marker(github: Harness) -> None:
    node = "pulumi-python:dynamic/styx-local:Node"
    steps = tuple(
        Step(Action.CREATE, node, f"w{i}", f"urn:{i}",
             (PropertyChange("script", DiffKind.ADD, None, "é" * 300),))
        for i in range(600)
    )
    markdown = render_markdown(Plan("styx", "prod", "local", steps))
    assert len(markdown) > GITHUB_COMMENT_LIMIT - 1_000  # as big as the renderer makes it
    github.run(plan=markdown, stack_file="stacks/" + "p" * 300 + ".yaml")
    (body,) = github.bodies()
    assert body.endswith(markdown) and len(body) <= GITHUB_COMMENT_LIMIT


def test_a_plan_over_65536_characters_posts_a_pointer_to_the_run(github: Harness) -> None:
    huge = plan_text() + "| row |\n" * 10_000  # 80,000+ characters: more than GitHub takes
    assert len(huge) > 65_536
    told = github.run(plan=huge)
    (body,) = github.bodies()
    assert len(body) <= GITHUB_COMMENT_LIMIT
    assert body.startswith(MARKER) and "more than a comment can hold" in body
    assert "https://github.example/acme/infra/actions/runs/42" in body
    assert told["failed"] == []


def test_a_file_that_is_not_a_plan_fails_the_step_without_posting(github: Harness) -> None:
    told = github.run(plan="Traceback (most recent call last):\n")
    assert github.bodies() == []
    assert told["failed"] and "styx-plan marker" in told["failed"][0]
