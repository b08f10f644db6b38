"""Reliability and security figures: an authorization sweep, kills mid-reindex, a fuzz run.

    .venv/bin/python bench/ops.py                       # all three, bounded (~1-2 minutes)
    .venv/bin/python bench/ops.py --only authz --fuzz-examples 100

* authz: every admin/staff action, as a plain teacher, through every platform and surface
  (Slack DM/mention/command/button, Teams chat, terminal) and every staff form: count allowed.
* kill: a `staffroom reindex` child process killed with SIGKILL at a random moment of its build,
  N times; after each kill the index must be the previous complete version or the new complete
  one (never half-published), the dead run's lock must expire and the next run must succeed.
* fuzz: hypothesis-generated bodies against the real aiohttp app (signed Slack events, commands
  and interactions, Teams activities, raw garbage) and random bytes into each ingest loader:
  inputs tried, 5xx answers, unexpected exceptions.

Everything runs on loopback with fakes of the Slack and Teams APIs and a fake embedder; SQLite
in a temp dir (the lock and dedupe figures on PostgreSQL are covered by tests/ops).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.app import build  # noqa: E402
from bot.messages import Incoming  # noqa: E402
from bot.settings import Settings  # noqa: E402
from retrieval.embedder import FakeEmbedder  # noqa: E402
from staffroom_errors import PermissionDenied  # noqa: E402

REFUSED = ("Only Staffroom admins", "Only central staff")
ADMIN_ACTIONS = ("reindex", "status")
STAFF_ACTIONS = (
    "triage 1 pilot",
    "triage 1 decline not now",
    "triage 1 merge into 2",
    "triage 1 review",
    "question new How might we cut absences? by 2030-01-01",
    "ideas pending",
)
SURFACES = (
    ("slack", "dm"), ("slack", "mention"), ("slack", "command"), ("slack", "action"),
    ("teams", "dm"), ("teams", "mention"), ("teams", "action"), ("terminal", "terminal"),
)  # fmt: skip


def _library(root: Path, files: int, edition: int = 0) -> Path:
    for n in range(files):
        path = root / f"session-{n:03d}" / "notes.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        words = " ".join(f"word{(n * 7 + i) % 997} practice{i % 13}" for i in range(120))
        path.write_text(f"# Session {n}\n\nEdition {edition}. {words}\n", encoding="utf-8")
    return root


def _settings(tmp: Path, library: Path, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": tmp / "data",
        "library": library,
        "database_url": f"sqlite:///{tmp / 'bench.db'}",
        "admin_users": "slack:UADMIN",
        "staff_users": "slack:USTAFF",
        "teams": "off",
    }
    return Settings(_env_file=None, **{**values, **extra})


# --- authorization sweep -------------------------------------------------------------------


async def authz(tmp: Path) -> dict[str, Any]:
    """Every admin/staff action as a teacher on every surface, plus the staff forms."""
    from store import Idea, ReindexRun

    components = build(_settings(tmp, _library(tmp / "lib", 2)), embedder=FakeEmbedder())
    core = components.core
    tried = allowed = 0
    leaks: list[str] = []
    try:
        # Two ideas to act on, pitched by the teacher through the form the core offers.
        for n in (1, 2):
            who = Incoming("slack", "UTEACH", "DUTEACH", "", "", "dm", user_name="t")
            values = {"title": f"Idea {n} about exit tickets", "practice": "Sticky notes.",
                      "problem": "Nobody knew.", "audience": "6-8 math",
                      "evidence": "Fewer re-teach groups.", "help": ""}  # fmt: skip
            await core.submit_form(who, "pitch", "", values)
        for platform, surface in SURFACES:
            for text in ADMIN_ACTIONS + STAFF_ACTIONS:
                incoming = Incoming(platform, "UTEACH", f"C-{platform}", "", text, surface,
                                    user_name="teacher")  # fmt: skip
                said = "\n".join(r.text for r in await core.handle(incoming))
                tried += 1
                if not any(refusal in said for refusal in REFUSED):
                    allowed += 1
                    leaks.append(f"{platform}/{surface}: {text!r} -> {said[:80]!r}")
            who = Incoming(platform, "UTEACH", f"C-{platform}", "", "", surface)
            for form_id, values in (("decline", {"note": "no"}), ("merge", {"target": "2"})):
                opened = core.form(form_id, "1:new", who)
                submitted = await core.submit_form(who, form_id, "1:new", values)
                tried += 2
                said = getattr(opened, "text", "") + "\n".join(r.text for r in submitted)
                if said.count("Only central staff") < 2:
                    allowed += 1
                    leaks.append(f"{platform}/{surface}: form {form_id} -> {said[:80]!r}")
        with components.database.session() as s:
            statuses = sorted({i.status for i in s.query(Idea)})
            runs = s.query(ReindexRun).count()
    finally:
        components.close()
    return {
        "actions_tried": tried,
        "allowed": allowed,
        "leaks": leaks,
        "idea_statuses_after": statuses,
        "reindex_runs_after": runs,
        "index_built": (tmp / "data/index/CURRENT").exists(),
        "refusal_class": PermissionDenied.__name__,
    }


# --- kill a re-index mid-build -------------------------------------------------------------

_CHILD = """
import sys, time
sys.path.insert(0, {root!r})
from pathlib import Path
from bot.reindex.watch import run_cli
from bot.settings import Settings
from retrieval.embedder import FakeEmbedder

class Slow(FakeEmbedder):
    def embed_documents(self, texts):
        time.sleep(0.05 * len(texts))  # ~3 s for the whole library
        return super().embed_documents(texts)

settings = Settings(_env_file=None, data_dir=Path({data!r}), database_url={url!r})
print("started", flush=True)
sys.exit(run_cli(settings, Path({library!r}), Slow()))
"""


def kill_reindex(tmp: Path, kills: int, seed: int = 7) -> dict[str, Any]:
    """SIGKILL a reindex child at random moments; check the index and the lock after each."""
    from bot.reindex import job
    from bot.reindex.watch import run_cli
    from retrieval.snapshot import IndexRoot, Snapshot
    from store import Database, ReindexRun, acquire_lock, get_lock, release_lock

    library = _library(tmp / "lib", 60)
    settings = _settings(tmp, library)
    root = IndexRoot(settings.index_dir)
    assert run_cli(settings, library, FakeEmbedder(), out=open(os.devnull, "w")) == 0
    database = Database.from_url(settings.database_url_or_default)
    rng = random.Random(seed)
    script = _CHILD.format(root=str(ROOT), data=str(settings.data_dir),
                           url=settings.database_url_or_default, library=str(library))  # fmt: skip
    half_published = unloadable = lock_never_expires = next_run_failed = killed_mid = 0
    killed_holding_lock = published_by_child = 0
    build_seconds = []
    try:
        for n in range(kills):
            _library(library, 60, edition=n + 1)  # every file changed: a slow, real build
            before = root.current_version()
            child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, cwd=tmp)  # fmt: skip
            assert child.stdout is not None
            child.stdout.readline()  # imports done; the build starts now
            started = time.perf_counter()
            time.sleep(rng.uniform(0.05, 4.0))
            if child.poll() is None:
                killed_mid += 1
                child.send_signal(signal.SIGKILL)
            child.wait()
            build_seconds.append(time.perf_counter() - started)
            after = root.current_version()
            published_by_child += after != before
            if after not in (before, *root.versions()):
                half_published += 1
            try:
                Snapshot.load(root.path / str(after))
            except Exception:
                unloadable += 1
            with database.session() as s:
                lock = get_lock(s, job.LOCK)
                if lock is not None:  # killed while holding it: it must expire within its TTL
                    killed_holding_lock += 1
                    later = lock.expires_at + timedelta(seconds=1)
                    if not acquire_lock(s, job.LOCK, "bench", job.LOCK_TTL, now=later):
                        lock_never_expires += 1
                    release_lock(s, job.LOCK, "bench")
            ok = run_cli(settings, library, FakeEmbedder(), out=open(os.devnull, "w"))
            next_run_failed += ok != 0
            print(f"  kill {n + 1}/{kills}: live {after} -> next run rc={ok}", file=sys.stderr)
        with database.session() as s:
            interrupted = s.query(ReindexRun).filter(ReindexRun.error.like("interrupted%")).count()
    finally:
        database.dispose()
    return {
        "kills": kills,
        "killed_while_running": killed_mid,
        "killed_holding_the_lock": killed_holding_lock,
        "child_published_before_dying": published_by_child,
        "half_published_indexes": half_published,
        "unloadable_live_index": unloadable,
        "locks_that_never_expire": lock_never_expires,
        "next_run_failed": next_run_failed,
        "runs_marked_interrupted": interrupted,
        "versions_kept": len(root.versions()),
    }


# --- fuzz ----------------------------------------------------------------------------------


class _Errors(logging.Handler):
    """Counts ERROR records with a traceback from our packages (what a crash looks like)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.count = 0
        self.first: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and record.name.split(".")[0] in (
            "bot",
            "ingest",
            "retrieval",
            "aiohttp",
        ):
            self.count += 1
            err = record.exc_info[1]
            where = f"{record.name}: {type(err).__name__} at {_origin(record.exc_info[2])}"
            if where not in self.first:
                self.first.append(where)


def _origin(tb: Any) -> str:
    """The innermost frame of a traceback in our code (file:line)."""
    import traceback

    frames = [f for f in traceback.extract_tb(tb) if "/site-packages/" not in f.filename]
    last = frames[-1] if frames else None
    return f"{Path(last.filename).name}:{last.lineno}" if last else "?"


def fuzz(tmp: Path, examples: int) -> dict[str, Any]:
    from aiohttp import ClientSession
    from aiohttp.test_utils import TestServer
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from bot.server import build_web_app
    from tests.slack.conftest import event_body, signed
    from tests.slack.fake_slack import FakeSlack
    from tests.teams.fake_connector import FakeConnector

    loop = asyncio.new_event_loop()
    fake_slack, connector = FakeSlack(), FakeConnector()
    loop.run_until_complete(fake_slack.start())
    loop.run_until_complete(connector.start())
    config = _settings(tmp, _library(tmp / "lib", 3), slack_signing_secret="fuzz-secret",
                       slack_bot_token="xoxb-fuzz", slack_api_url=fake_slack.api_url,
                       teams="on", teams_service_url=connector.url)  # fmt: skip
    components = build(config, embedder=FakeEmbedder())
    from ingest import build_index

    build_index(config.library, config.index_dir, FakeEmbedder())
    server = TestServer(build_web_app(components), host="127.0.0.1", port=0)
    loop.run_until_complete(server.start_server())
    session = loop.run_until_complete(_session(ClientSession))
    errors = _Errors()
    logging.getLogger().addHandler(errors)
    counts = {"slack": 0, "teams": 0, "garbage": 0}
    five_xx: list[str] = []

    def post(path: str, body: bytes, headers: dict[str, str]) -> int:
        async def send() -> int:
            async with session.post(server.make_url(path), data=body, headers=headers) as r:
                await r.read()
                return r.status

        status = loop.run_until_complete(send())
        if status >= 500:
            five_xx.append(f"{path} {status} {body[:80]!r}")
        return status

    text = st.text(max_size=300)
    scalar = st.none() | st.booleans() | st.integers() | text
    json_value = st.recursive(scalar, lambda c: st.lists(c, max_size=4)
                              | st.dictionaries(text, c, max_size=4), max_leaves=12)  # fmt: skip
    keys = st.sampled_from(["type", "user", "text", "channel", "ts", "thread_ts", "channel_type",
                            "subtype", "bot_id", "event_ts", "blocks", "files"])  # fmt: skip
    event = st.dictionaries(keys, json_value | text, max_size=8)
    common = settings(max_examples=examples, deadline=None, database=None,
                      suppress_health_check=list(HealthCheck))  # fmt: skip

    @common
    @given(event, st.sampled_from(["message", "app_mention", "app_home_opened", "reaction"]))
    def slack_events(ev: dict[str, Any], kind: str) -> None:
        body = event_body({**ev, "type": kind}, f"Ev{random.random()}")
        counts["slack"] += 1
        post("/slack/events", body.encode(), signed(body, "application/json", secret="fuzz-secret"))

    @common
    @given(text, st.sampled_from(["command", "interaction"]), json_value)
    def slack_forms(words: str, kind: str, payload: Any) -> None:
        if kind == "command":
            fields = {"command": "/pd", "text": words, "user_id": "UTEACH", "channel_id": "C1",
                      "response_url": fake_slack.response_url(), "trigger_id": "t"}  # fmt: skip
        else:
            fields = {"payload": json.dumps(payload)}
        body = urlencode(fields)
        counts["slack"] += 1
        headers = signed(body, "application/x-www-form-urlencoded", secret="fuzz-secret")
        post("/slack/events", body.encode(), headers)

    @common
    @given(st.dictionaries(st.sampled_from(["type", "text", "value", "name", "conversation",
                                            "from", "entities", "replyToId", "membersAdded",
                                            "channelData", "serviceUrl", "id"]),
                           json_value, max_size=8),
           st.sampled_from(["message", "invoke", "conversationUpdate", "event", "typing"]))  # fmt: skip
    def teams(activity: dict[str, Any], kind: str) -> None:
        body = {"channelId": "msteams", "serviceUrl": connector.url, "id": "1",
                "from": {"id": "29:1x", "aadObjectId": "aad-x"}, "recipient": {"id": "28:bot"},
                "conversation": {"id": "a:1x", "conversationType": "personal"},
                **activity, "type": kind}  # fmt: skip
        counts["teams"] += 1
        post("/api/messages", json.dumps(body, default=str).encode(),
             {"Content-Type": "application/json"})  # fmt: skip

    @common
    @given(st.binary(max_size=2000), st.sampled_from(["/slack/events", "/api/messages"]),
           st.sampled_from(["application/json", "application/x-www-form-urlencoded", "text/plain"]))  # fmt: skip
    def garbage(raw: bytes, path: str, content_type: str) -> None:
        counts["garbage"] += 1
        post(path, raw, {"Content-Type": content_type})

    started = time.perf_counter()
    try:
        for run in (slack_events, slack_forms, teams, garbage):
            run()
        loop.run_until_complete(_settle(components))
        loaders = _fuzz_loaders(tmp / "loader-fuzz", examples)
    finally:
        logging.getLogger().removeHandler(errors)
        loop.run_until_complete(session.close())
        loop.run_until_complete(server.close())
        if components.teams is not None:
            loop.run_until_complete(components.teams.close())
        loop.run_until_complete(fake_slack.close())
        loop.run_until_complete(connector.close())
        components.close()
        loop.close()
    return {
        "http_inputs": sum(counts.values()),
        "by_kind": counts,
        "http_5xx": len(five_xx),
        "http_5xx_by_path": {
            p: sum(x.startswith(p + " ") for x in five_xx)
            for p in ("/slack/events", "/api/messages")
        },  # fmt: skip
        "first_5xx": five_xx[:3],
        "errors_logged_with_traceback": errors.count,
        "distinct_error_origins": errors.first,
        "loaders": loaders,
        "seconds": round(time.perf_counter() - started, 1),
    }


async def _session(factory: Any) -> Any:
    return factory()


async def _settle(components: Any) -> None:
    if components.teams is not None:
        await components.teams.settle()
    await asyncio.sleep(0)  # let Slack listeners started by the last requests run


def _fuzz_loaders(folder: Path, examples: int) -> dict[str, Any]:
    """Random bytes (and mangled real text) into every loader: LoaderError is fine, else a crash."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from ingest.loaders import SUPPORTED_SUFFIXES, load
    from staffroom_errors import LoaderError

    folder.mkdir(parents=True, exist_ok=True)
    tried = crashes = 0
    first: list[str] = []
    seeds = {".vtt": b"WEBVTT\n\n1\n00:00:01.000 --> 00:00:02.000\nhi\n",
             ".srt": b"1\n00:00:01,000 --> 00:00:02,000\nhi\n", ".md": b"---\ntitle: x\n---\n# H\n",
             ".html": b"<html><h1>x</h1><p>y</p></html>", ".pdf": b"%PDF-1.4\n1 0 obj<<>>endobj\n",
             ".docx": b"PK\x03\x04"}  # fmt: skip

    def fuzzer(suffix: str) -> Any:
        @settings(max_examples=examples, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))  # fmt: skip
        @given(st.binary(max_size=4000), st.booleans())
        def one(raw: bytes, seeded: bool) -> None:
            nonlocal tried, crashes
            path = folder / f"f{suffix}"
            path.write_bytes((seeds.get(suffix, b"") + raw) if seeded else raw)
            tried += 1
            try:
                load(path)
            except LoaderError:
                pass
            except Exception as err:  # noqa: BLE001 - counting crashes is the point
                crashes += 1
                if len(first) < 3:
                    first.append(f"{suffix}: {type(err).__name__}: {str(err)[:100]}")

        return one

    for suffix in SUPPORTED_SUFFIXES:
        fuzzer(suffix)()
    return {"inputs": tried, "suffixes": len(SUPPORTED_SUFFIXES), "crashes": crashes,
            "first_crashes": first}  # fmt: skip


# --- main ----------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=["authz", "kill", "fuzz"], action="append")
    parser.add_argument("--kills", type=int, default=6)
    parser.add_argument("--fuzz-examples", type=int, default=150)
    parser.add_argument("--out", type=Path, default=ROOT / "bench/out/ops.json")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    logging.basicConfig(level=logging.ERROR)  # _Errors counts ERROR records...
    logging.getLogger().handlers[0].setLevel(logging.CRITICAL)  # ...the console shows none
    parts = args.only or ["authz", "kill", "fuzz"]
    result: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="staffroom-ops-") as tmp:
        if "authz" in parts:
            result["authz"] = asyncio.run(authz(Path(tmp) / "authz"))
        if "kill" in parts:
            result["kill"] = kill_reindex(Path(tmp) / "kill", args.kills)
        if "fuzz" in parts:
            result["fuzz"] = fuzz(Path(tmp) / "fuzz", args.fuzz_examples)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")
    print(json.dumps(result, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
