"""`editor-agent batch`: real git repositories, the real SDK over HTTP, the local server answering per conversation."""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from editor_agent.batch.backoff import RateGate, retry_after
from editor_agent.batch.display import BatchDisplay
from editor_agent.batch.report import TaskReport
from editor_agent.batch.taskfile import parse_shard
from editor_agent.cli.batch import add_batch_parser, run_batch_command
from editor_agent.cli.main import main as cli_main
from editor_agent.testing import MessagesServer, ratelimit

from ..conftest import git

KEY = "sk-batch-test"
TOOL = "str_replace_based_edit_tool"
MODEL = "claude-opus-4-5"
SHOP = "def price(total):\n    rate = 1\n    return total * rate\n"
CART = "def count(items):\n    return len(items)\n"


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(("ANTHROPIC_", "GIT_", "EDITOR_AGENT_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    (root / "shop.py").write_text(SHOP)
    (root / "cart.py").write_text(CART)
    (root / "notes.md").write_text("notes\n")
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "start")
    return root


@dataclass
class Outcome:
    code: int
    out: str
    err: str

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.out)


def batch(tasks: Path, *flags: str, server: MessagesServer | None = None) -> Outcome:
    """The subcommand as the CLI wires it: a parser from add_batch_parser, then run_batch_command."""
    parser = argparse.ArgumentParser(prog="editor-agent")
    add_batch_parser(parser.add_subparsers(dest="command"))
    link = ["--base-url", server.url] if server else []
    args = parser.parse_args(["batch", str(tasks), *flags, *link])
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err):
        code = run_batch_command(args, out)
    return Outcome(code, out.getvalue(), err.getvalue())


def write_tasks(repo: Path, text: str) -> Path:
    path = repo.parent / "tasks.yaml"
    path.write_text(text)
    return path


def edit(path: str, old: str, new: str) -> dict[str, Any]:
    use = {"type": "tool_use", "name": TOOL, "input": {"command": "str_replace", "path": path, "old_str": old,
                                                      "new_str": new}}  # fmt: skip
    return {"content": [use]}


def view(path: str) -> dict[str, Any]:
    return {"content": [{"type": "tool_use", "name": TOOL, "input": {"command": "view", "path": path}}]}


DONE = {"content": [{"type": "text", "text": "Done."}], "stop_reason": "end_turn"}


def task_text(body: dict[str, Any]) -> str:
    first = body["messages"][0]["content"]
    return first if isinstance(first, str) else first[0]["text"]


def step(body: dict[str, Any]) -> int:
    """How many replies this conversation has had: the index of the turn to give now."""
    return sum(message["role"] == "assistant" for message in body["messages"])


def by_task(plans: dict[str, list[dict[str, Any]]]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A responder: each conversation (found by a key in its task text) gets its own list of turns."""

    def respond(body: dict[str, Any]) -> dict[str, Any]:
        key = next(k for k in plans if k in task_text(body))
        return plans[key][step(body)]

    return respond


def serve(respond: Callable[[dict[str, Any]], Any], **options: Any) -> MessagesServer:
    return MessagesServer(responder=respond, api_key=KEY, **options)


# --- the task file --------------------------------------------------------------------------


def test_a_bad_task_file_is_one_line_per_problem_and_exit_2(repo: Path):
    tasks = write_tasks(
        repo,
        f"""
model: {MODEL}
max_turns: 0
colour: red
tasks:
  - {{name: fine, job: run, task: hello}}
  - {{name: docs-api, job: doc, paths: ["*.py"], check: [pytest]}}
  - {{name: ship, job: deploy}}
  - {{name: fix-it, job: fix, path: shop.py}}
  - {{name: gen, job: test, module: shop.py, check: pytest}}
""",
    )
    done = batch(tasks, "--workspace", str(repo))
    assert done.code == 2 and done.out == ""
    assert done.err.splitlines() == [
        "editor-agent: error: max_turns: Input should be greater than or equal to 1",
        "editor-agent: error: tasks[1] (docs-api): check: Input should be a valid string",
        "editor-agent: error: tasks[2] (ship): job: 'deploy' is not one of fix, doc, test, run",
        "editor-agent: error: tasks[3] (fix-it): problem: required",
        "editor-agent: error: tasks[4] (gen): check: unknown field (the test job's check is pytest on `out`)",
        "editor-agent: error: colour: unknown field",
    ]


def test_tasks_that_cannot_run_are_found_before_any_request(repo: Path):
    tasks = write_tasks(
        repo,
        """
tasks:
  - {name: a, job: fix, path: missing.py, problem: x, model: claude-opus-4-5}
  - {name: b, job: doc, paths: ["*.rs"], model: claude-opus-4-5}
  - {name: c, job: run, task: x}
  - {name: d, job: run, task: x, model: claude-3-haiku}
  - {name: a, job: run, task: x}
""",
    )
    assert batch(tasks, "--workspace", str(repo)).err.splitlines() == [
        "editor-agent: error: tasks[4] (a): name: already used by tasks[0]"
    ]
    tasks.write_text(tasks.read_text().replace("{name: a, job: run", "{name: e, job: run"))
    done = batch(tasks, "--workspace", str(repo))
    assert done.code == 2
    lines = done.err.splitlines()
    assert lines[0] == f"editor-agent: error: tasks[0] (a): path: missing.py is not a file in the workspace {repo}"
    assert lines[1] == "editor-agent: error: tasks[1] (b): paths: no file in the workspace matches *.rs"
    assert lines[2].startswith("editor-agent: error: tasks[2] (c): model: none given")
    assert lines[3].startswith("editor-agent: error: tasks[3] (d): model: ") and "text editor" in lines[3]
    assert len(lines) == 5 and lines[4].startswith("editor-agent: error: tasks[4] (e): model: none given")


def test_the_workspace_must_be_a_git_repository(tmp_path: Path):
    plain = tmp_path / "plain"
    plain.mkdir()
    tasks = write_tasks(plain, f"model: {MODEL}\ntasks: [{{name: a, job: run, task: x}}]\n")
    done = batch(tasks, "--workspace", str(plain))
    assert done.code == 2
    assert (
        done.err == f"editor-agent: error: batch needs a git repository, and the workspace {plain} is not in "
        "one (tasks run in git worktrees and come back as patches)\n"
    )


def test_bad_flags_exit_2(repo: Path):
    tasks = write_tasks(repo, f"model: {MODEL}\ntasks: [{{name: a, job: run, task: x}}]\n")
    for flags, message in (
        (["--thinking", "500"], "--thinking: a thinking budget must be at least 1024 tokens (or 'adaptive')"),
        (["--jobs", "0"], "--jobs must be at least 1"),
        (["--rpm", "0"], "--rpm must be at least 1"),
        (["--transcript", "t.jsonl"], "--transcript does not apply to batch"),
    ):
        done = batch(tasks, "--workspace", str(repo), *flags)
        assert done.code == 2 and done.err.startswith(f"editor-agent: error: {message}"), done.err
    with pytest.raises(SystemExit) as stopped:  # argparse refuses a negative cost before anything starts
        batch(tasks, "--workspace", str(repo), "--max-cost", "-1")
    assert stopped.value.code == 2
    assert git(repo, "for-each-ref", "refs/editor-agent") == "", "nothing was started"


# --- merging -----------------------------------------------------------------------------------


def test_two_tasks_on_different_files_merge_and_json_matches_report(repo: Path):
    tasks = write_tasks(
        repo,
        f"""
model: {MODEL}
tasks:
  - {{name: shop-rate, job: run, task: "TASK-shop: set the rate to 2"}}
  - {{name: cart-doc, job: doc, paths: [cart.py]}}
""",
    )
    plans = {
        "TASK-shop": [edit("/repo/shop.py", "rate = 1", "rate = 2"), DONE],
        "cart.py": [edit("/repo/cart.py", "def count(items):\n", 'def count(items):\n    """How many."""\n'), DONE],
    }
    report = repo.parent / "out" / "batch.json"
    with serve(by_task(plans)) as server:
        done = batch(tasks, "--workspace", str(repo), "--jobs", "2", "--json", "--report", str(report),
                     server=server)  # fmt: skip
        assert server.violations == []
    assert done.code == 0, done.err
    assert (repo / "shop.py").read_text() == SHOP.replace("rate = 1", "rate = 2")
    assert (repo / "cart.py").read_text() == 'def count(items):\n    """How many."""\n    return len(items)\n'
    document = done.json
    assert json.loads(report.read_text()) == document
    assert document["status"] == "succeeded" and document["jobs"] == 2 and document["shard"] is None
    first, second = document["tasks"]
    assert (first["name"], first["job"], first["status"], first["run_status"]) == ("shop-rate", "run", "succeeded",
                                                                                  "completed")  # fmt: skip
    assert first["files_changed"] == ["shop.py"] and first["merged"] is True and first["conflicts"] == []
    assert first["turns"] == 2 and first["tokens"] == sum(first["usage"].values()) > 0
    assert first["cost_usd"] > 0 and Path(first["transcript"]).is_file() and Path(first["patch"]).is_file()
    assert second["files_changed"] == ["cart.py"] and second["details"]["documented"] == ["/repo/cart.py"]
    totals = document["totals"]
    assert totals["tasks"] == 2 and totals["succeeded"] == 2 and totals["failed"] == 0
    assert totals["tokens"] == first["tokens"] + second["tokens"] and totals["files_changed"] == 2
    assert totals["cost_usd"] == pytest.approx(first["cost_usd"] + second["cost_usd"])
    merged = Path(document["patch"]).read_text()
    assert "+    rate = 2" in merged and '+    """How many."""' in merged
    assert git(repo, "rev-parse", document["checkpoint_start"] + "^{tree}") == git(repo, "rev-parse", "HEAD^{tree}")
    assert git(repo, "worktree", "list").count("\n") == 1, "every task's worktree is removed"
    assert cli_main(["undo", "--workspace", str(repo)], stdout=io.StringIO()) == 0, "the merge is journaled"
    assert (repo / "shop.py").read_text() == SHOP and (repo / "cart.py").read_text() == CART


def test_the_same_lines_twice_the_second_conflicts_and_the_first_stays(repo: Path):
    tasks = write_tasks(
        repo,
        f"""
model: {MODEL}
tasks:
  - {{name: two, job: run, task: "TASK-two"}}
  - {{name: three, job: run, task: "TASK-three"}}
""",
    )
    plans = {
        "TASK-two": [edit("/repo/shop.py", "rate = 1", "rate = 2"), DONE],
        "TASK-three": [
            edit("/repo/shop.py", "rate = 1", "rate = 3"),
            edit("/repo/cart.py", "len(", "sum(1 for _ in "),
            DONE,
        ],  # fmt: skip
    }
    with serve(by_task(plans)) as server:
        done = batch(tasks, "--workspace", str(repo), "--jobs", "2", "--json", server=server)
    assert done.code == 1
    assert (repo / "shop.py").read_text() == SHOP.replace("rate = 1", "rate = 2")
    assert (repo / "cart.py").read_text() == CART, "a conflicting task is left out whole, not half-merged"
    first, second = done.json["tasks"]
    assert first["status"] == "succeeded" and first["merged"] is True
    assert second["status"] == "failed" and second["merged"] is False and second["run_status"] == "completed"
    assert second["conflicts"] == ["shop.py"] and second["files_changed"] == ["cart.py", "shop.py"]
    kept = Path(second["patch"]).read_text()
    assert "+    rate = 3" in kept and "sum(1 for _ in items)" in kept
    assert done.json["status"] == "failed" and done.json["totals"]["failed"] == 1
    assert git(repo, "diff", "--cached") == "" and "<<<<<<<" not in (repo / "shop.py").read_text()


def test_the_users_uncommitted_work_survives(repo: Path):
    (repo / "notes.md").write_text("notes\nmy unsaved thought\n")  # another file, not committed
    (repo / "todo.txt").write_text("untracked\n")
    (repo / "shop.py").write_text("# mine\n" + SHOP)  # the same file as the task, other lines
    git(repo, "add", "todo.txt")
    staged = git(repo, "diff", "--cached")
    tasks = write_tasks(repo, f"model: {MODEL}\ntasks: [{{name: rate, job: run, task: TASK-rate}}]\n")
    with serve(by_task({"TASK-rate": [edit("/repo/shop.py", "rate = 1", "rate = 2"), DONE]})) as server:
        done = batch(tasks, "--workspace", str(repo), server=server)
    assert done.code == 0, done.out + done.err
    assert (repo / "notes.md").read_text() == "notes\nmy unsaved thought\n"
    assert (repo / "todo.txt").read_text() == "untracked\n"
    assert (repo / "shop.py").read_text() == "# mine\n" + SHOP.replace("rate = 1", "rate = 2")
    assert git(repo, "diff", "--cached") == staged, "the user's index is untouched"
    assert "merged: shop.py" in done.out and "succeeded: 1 tasks" in done.out


def test_a_failed_check_is_not_merged_and_exits_1(repo: Path):
    script = "import sys; sys.exit('rate must stay 1' if 'rate = 2' in open('shop.py').read() else 0)"
    fails = f'{sys.executable} -c "{script}"'
    tasks = write_tasks(repo, f"model: {MODEL}\ntasks:\n  - name: rate\n    job: run\n    task: TASK-rate\n"
                              f"    check: {json.dumps(fails)}\n")  # fmt: skip
    with serve(by_task({"TASK-rate": [edit("/repo/shop.py", "rate = 1", "rate = 2"), DONE]})) as server:
        done = batch(tasks, "--workspace", str(repo), "--json", server=server)
    assert done.code == 1
    task = done.json["tasks"][0]
    assert task["status"] == "failed" and task["merged"] is False and task["check"]["passed"] is False
    assert task["check"]["exit_code"] == 1 and Path(task["patch"]).is_file()
    assert (repo / "shop.py").read_text() == SHOP


def test_settings_are_layered_task_then_flags_then_file(repo: Path):
    tasks = write_tasks(
        repo,
        """
model: claude-opus-4-1
max_turns: 1
tasks:
  - {name: short, job: run, task: TASK-short}
  - {name: long, job: run, task: TASK-long, max_turns: 3, model: claude-haiku-4-5}
""",
    )
    plans = {"TASK-short": [view("/repo/shop.py"), DONE], "TASK-long": [view("/repo/shop.py"), DONE]}
    with serve(by_task(plans)) as server:
        done = batch(tasks, "--workspace", str(repo), "--model", MODEL, "--json", server=server)
        models = {task_text(r.body): r.body["model"] for r in server.requests}
    assert models == {"TASK-short": MODEL, "TASK-long": "claude-haiku-4-5"}
    short, long = done.json["tasks"]
    assert short["run_status"] == "max_turns" and short["status"] == "failed"
    assert long["run_status"] == "completed" and long["status"] == "succeeded"
    assert done.code == 1


# --- rate limits -------------------------------------------------------------------------------


def test_a_429_holds_every_worker_until_its_retry_after(repo: Path):
    tasks = write_tasks(repo, f"model: {MODEL}\ntasks:\n" + "".join(
        f"  - {{name: {k}, job: run, task: TASK-{k}}}\n" for k in "abc"))  # fmt: skip
    limited = threading.Event()

    def respond(body: dict[str, Any]) -> dict[str, Any]:
        key = task_text(body)[-1]
        if key == "a" and not limited.is_set():
            limited.set()
            return {"fault": "rate_limit", "retry_after": 2}
        if key != "a" and step(body) == 0:
            limited.wait(10)
            time.sleep(0.3)  # b and c reply after the 429; their next request comes while a waits
            return view("/repo/shop.py")
        return DONE

    with serve(respond) as server:
        done = batch(tasks, "--workspace", str(repo), "--jobs", "3", "--json", server=server)
        requests = server.requests
    assert done.code == 0, done.err
    assert [r.status for r in requests].count(429) == 1 == done.json["totals"]["rate_limited"]
    (hit,) = [r for r in requests if r.status == 429]
    later = [r for r in requests if step(r.body) == 1 or (task_text(r.body).endswith("a") and r is not hit)]
    assert len(later) == 3, "a's retry and the second requests of b and c"
    for request in later:
        assert request.received >= hit.received + 2.0, "every worker waited out the retry-after"
    assert "rate limited: every worker waits 2.0s" in done.err


def test_workers_do_not_hammer_a_rate_limited_server(repo: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(ratelimit, "WINDOW", 2.0)  # 3 requests per 2 seconds
    tasks = write_tasks(repo, f"model: {MODEL}\ntasks:\n" + "".join(
        f"  - {{name: t{k}, job: run, task: TASK-{k}}}\n" for k in range(3)))  # fmt: skip

    def respond(body: dict[str, Any]) -> dict[str, Any]:
        time.sleep(0.2)  # a real reply takes a while: the others are mid-request when a 429 comes
        return [view("/repo/shop.py"), view("/repo/cart.py"), view("/repo/notes.md"), DONE][step(body)]

    with serve(respond, rate_limit_per_minute=3) as server:
        done = batch(tasks, "--workspace", str(repo), "--jobs", "3", "--json", server=server)
        requests = server.requests
    assert done.code == 0, done.err
    statuses = [r.status for r in requests]
    assert statuses.count(200) == 12
    assert statuses.count(429) == done.json["totals"]["rate_limited"] <= 7
    for hit in (r for r in requests if r.status == 429):  # only requests already under way may follow a 429 ...
        quiet = [r for r in requests if hit.received + 0.1 < r.received < hit.received + 0.95]
        assert quiet == [], "... until its retry-after (at least 1 s) has passed"


def test_rpm_spaces_the_requests(repo: Path):
    tasks = write_tasks(repo, f"model: {MODEL}\ntasks:\n" + "".join(
        f"  - {{name: t{k}, job: run, task: TASK-{k}}}\n" for k in range(3)))  # fmt: skip
    with serve(lambda body: DONE) as server:
        done = batch(tasks, "--workspace", str(repo), "--jobs", "3", "--rpm", "120", server=server)
        arrivals = sorted(r.received for r in server.requests)
    assert done.code == 0, done.err
    assert len(arrivals) == 3 and all(b - a >= 0.45 for a, b in zip(arrivals, arrivals[1:], strict=False))


def test_retry_after_and_the_gate():
    assert retry_after({"retry-after": "3"}, 0) == 3.0
    assert retry_after({"retry-after-ms": "250", "retry-after": "3"}, 0) == 0.25
    assert retry_after({}, 0) == 0.5 and retry_after({}, 3) == 4.0
    now = [100.0]
    closed: list[float] = []

    def sleep(seconds: float) -> None:
        now[0] += seconds
        if now[0] == 100.5:
            gate.close_for(0.5)  # a 429 for another worker while this one waits for its slot

    gate = RateGate(rpm=60, clock=lambda: now[0], sleep=sleep, on_close=closed.append)
    gate.acquire()
    gate.acquire()  # its slot (101) was taken before the 429: it goes when the gate opens, not a slot later
    assert now[0] == 101.0
    gate.acquire()
    assert now[0] == 102.0, "then one request a second again"
    gate.close_for(5)
    gate.close_for(2)  # an earlier reopening never shortens the wait
    gate.acquire()
    assert now[0] == 107.0 and closed == [0.5, 5] and gate.rate_limited == 3


def test_the_servers_responder_answers_per_request_and_still_validates():
    import anthropic

    from editor_agent.testing import Script, Turn

    slow = [{"fault": "slow", "seconds": 0.2}]  # once: then the responder is asked again

    def respond(body: dict[str, Any]) -> Any:
        said = task_text(body)
        if said == "nothing":
            return None
        if said == "slow":
            return slow.pop() if slow else DONE
        return Turn.model_validate({"content": [{"type": "text", "text": f"you said {said}"}]})

    with serve(respond) as server:
        client = anthropic.Anthropic(api_key=KEY, base_url=server.url, max_retries=0)
        ask = {"model": MODEL, "max_tokens": 100}
        assert (
            client.messages.create(**ask, messages=[{"role": "user", "content": "hi"}]).content[0].text == "you said hi"
        )
        assert client.messages.create(**ask, messages=[{"role": "user", "content": "slow"}]).content[0].text == "Done."
        assert server.requests[-1].seconds >= 0.2
        with pytest.raises(anthropic.InternalServerError):
            client.messages.create(**ask, messages=[{"role": "user", "content": "nothing"}])
        with pytest.raises(anthropic.BadRequestError):
            client.messages.create(**ask, messages=[{"role": "assistant", "content": "made up"}])
        assert server.violations[0] == "the responder returned no entry for a request"
        assert len(server.violations) == 2 and len(server.requests) == 4
    with pytest.raises(ValueError):
        MessagesServer(Script.model_validate({"turns": [DONE]}), responder=respond)


# --- shards, display, exit codes ---------------------------------------------------------------


def test_shards_partition_the_tasks(repo: Path):
    tasks = write_tasks(repo, f"model: {MODEL}\ntasks:\n" + "".join(
        f"  - {{name: t{k}, job: run, task: TASK-{k}}}\n" for k in range(5)))  # fmt: skip
    seen: list[list[int]] = []
    with serve(lambda body: DONE) as server:
        for shard in ("1/2", "2/2"):
            done = batch(tasks, "--workspace", str(repo), "--shard", shard, "--json", server=server)
            assert done.code == 0 and done.json["shard"] == shard
            seen.append([task["index"] for task in done.json["tasks"]])
        ran = sorted(int(task_text(r.body).split("-")[1]) for r in server.requests)
    assert seen == [[0, 2, 4], [1, 3]] and ran == [0, 1, 2, 3, 4]
    assert (
        batch(tasks, "--workspace", str(repo), "--shard", "3/2").err
        == "editor-agent: error: --shard 3/2: I must be between 1 and N\n"
    )
    with pytest.raises(ValueError):
        parse_shard("2")
    assert 5 in parse_shard("2/4") and 4 not in parse_shard("2/4")


def test_progress_a_status_line_on_a_terminal_plain_lines_in_a_log():
    report = TaskReport(index=0, name="a", job="run", status="succeeded", tokens=1200, cost_usd=0.5,
                        merged=True, files_changed=["x.py"])  # fmt: skip
    failed = report.model_copy(update={"name": "b", "status": "failed", "merged": False, "error": "boom",
                                       "files_changed": []})  # fmt: skip
    live, log = io.StringIO(), io.StringIO()
    for stream, is_live in ((live, True), (log, False)):
        display = BatchDisplay(2, stream, live=is_live)
        display.started(0, "a", "run")
        display.finished(report)
        display.finished(failed)
        display.close()
    assert "\r\x1b[Kbatch: 1/2 done · 0 running · 0 failed · 1,200 tokens · $0.5000" in live.getvalue()
    assert "[2/2] FAILED  b: boom\n" in live.getvalue() and "[1/2] ok" not in live.getvalue()
    assert log.getvalue().splitlines() == ["start  a (run, task 0)", "[1/2] ok      a: merged: x.py",
                                           "[2/2] FAILED  b: boom"]  # fmt: skip


@pytest.mark.slow  # a real process: nothing but JSON on its stdout
def test_a_real_process_prints_only_json_on_stdout(repo: Path):
    tasks = write_tasks(repo, f"model: {MODEL}\ntasks: [{{name: a, job: run, task: TASK-a}}]\n")
    code = (
        "import sys, argparse; from editor_agent.cli.batch import add_batch_parser, run_batch_command as run\n"
        "p = argparse.ArgumentParser(); add_batch_parser(p.add_subparsers())\n"
        "sys.exit(run(p.parse_args(sys.argv[1:]), sys.stdout))"
    )
    with serve(lambda body: DONE) as server:
        argv = [sys.executable, "-c", code, "batch", str(tasks), "--workspace", str(repo), "--json"]
        env = {**os.environ, "ANTHROPIC_BASE_URL": server.url}
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["tasks"][0]["status"] == "succeeded"
    assert re.search(r"\[1/1\] ok +a: no changes", done.stderr)


def test_stuck_limits_come_from_the_command_line_the_file_or_the_defaults(tmp_path: Path):
    from editor_agent.agent.settings import RunSettings
    from editor_agent.batch.plan import plan_tasks
    from editor_agent.batch.taskfile import parse_task_file
    from editor_agent.cli.batch import _shared

    parser = argparse.ArgumentParser()
    add_batch_parser(parser.add_subparsers(dest="command"))
    text = "model: claude-opus-4-5\nmax_repeats: 6\ntasks:\n  - {name: a, job: run, task: x}\n"
    text += "  - {name: b, job: run, task: y, max_failed_turns: 3}\n"
    file = parse_task_file(text, "tasks.yaml")

    def limits(*flags: str) -> list[tuple[int | None, int | None]]:
        planned = plan_tasks(file, tmp_path, _shared(parser.parse_args(["batch", "tasks.yaml", *flags])))
        return [(t.options.settings.max_failed_turns, t.options.settings.max_repeats) for t in planned]

    default = RunSettings().max_failed_turns
    assert limits() == [(default, 6), (3, 6)]
    assert limits("--max-failed-turns", "2", "--max-repeats", "3") == [(2, 3), (3, 3)]  # a task's own value wins


def test_undo_of_a_merge_removes_the_directories_it_made(repo: Path):
    import git as gitpython

    from editor_agent.batch.merge import Merger
    from editor_agent.safety.journal import undo_run

    patch = "diff --git a/pkg/sub/new.py b/pkg/sub/new.py\nnew file mode 100644\n--- /dev/null\n"
    patch += "+++ b/pkg/sub/new.py\n@@ -0,0 +1 @@\n+x = 1\n"
    (repo / "pkg").mkdir()
    (repo / "pkg" / "keep.txt").write_text("the user's\n")
    merger = Merger(gitpython.Repo(repo), repo, "batch-1")
    assert merger.apply(patch, ["pkg/sub/new.py"]).merged
    merger.close()
    report = undo_run(repo, "batch-1")
    assert report.removed == ["pkg/sub/new.py"] and report.removed_directories == ["pkg/sub"]
    assert (repo / "pkg" / "keep.txt").is_file()


def test_a_doc_task_with_a_rejected_edit_is_not_merged(repo: Path):
    """The one success rule: what `--commit` would refuse, the merge refuses too."""
    tasks = write_tasks(repo, f"model: {MODEL}\ntasks:\n  - {{name: docs, job: doc, paths: [cart.py, shop.py]}}\n")
    documented = 'def count(items):\n    """How many."""\n'
    plans = {"cart.py": [edit("/repo/cart.py", "def count(items):\n", documented),
                         edit("/repo/shop.py", "rate = 1", "rate = 2"), DONE]}  # fmt: skip
    with serve(by_task(plans)) as server:
        done = batch(tasks, "--workspace", str(repo), "--json", server=server)
    task = done.json["tasks"][0]
    assert task["rejected"] == ["/repo/shop.py"] and task["files_changed"] == ["cart.py"]
    assert task["status"] == "failed" and task["merged"] is False and done.code == 1
    assert (repo / "cart.py").read_text() == CART and (repo / "shop.py").read_text() == SHOP
