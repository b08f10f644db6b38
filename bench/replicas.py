"""Two `staffroom serve` replicas on PostgreSQL: mixed Slack/Teams load, kills, a database restart.

Creates a fresh PostgreSQL database (dropped at the end), runs `staffroom db upgrade`, and starts
two `staffroom serve` replicas on loopback sharing one data dir (an index of examples/library),
with fakes of the Slack Web API and the Bot Connector in this process. Teams runs in its no-auth
local mode (token checks are covered by tests/teams). Then:

* load: signed Slack mentions and Teams personal messages, mixed, at ``--rate`` per second for
  ``--seconds``; each goes to a random replica and each Slack event is retried (same event_id)
  to the other one. Answers are counted at the fakes: lost = none, duplicated = more than one.
* kill mid-answer: a burst sent to one replica, SIGKILLed right after its acks; Slack's retries
  go to the other, which must answer every one (late, once the dead replica's claims expire).
  Kill mid-pitch: a DM pitch whose steps alternate between the replicas, one
  killed between two steps (and restarted); the idea must be created exactly once.
* kill mid-check-in (``bench/replicas_checkins.py``, run first; ``--only checkins`` for it alone):
  teachers type *try exit-tickets*, the check-ins fall due 3 s later and the replica sending them
  is SIGKILLed as they arrive; each teacher must get exactly one.
* PostgreSQL restart under load (`pg_ctlcluster ... restart`); PostgreSQL is started again at
  the end whatever happens. Reports lost/duplicated answers and whether readyz and answers came
  back by themselves.

    .venv/bin/python bench/replicas.py --data-dir DIR   # DIR holds an index (`staffroom ingest`)
    .venv/bin/python bench/replicas.py --ingest examples/library --write bench/RESULTS.md
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.replicas_checkins import ENV as CHECKIN_ENV  # noqa: E402
from bench.replicas_checkins import kill_mid_checkins, report_row  # noqa: E402
from bench.replicas_parts import (  # noqa: E402
    CLUSTER,
    LEASE_S,
    STAFFROOM,
    Replica,
    pg_ctl,
    pg_online,
    ready,
    report,
    write,
)
from bench.slack_load import QUESTIONS, percentile  # noqa: E402
from bot.delivery import LATE_NOTE as LATE  # noqa: E402
from tests.slack.conftest import event_body, mention, signed  # noqa: E402
from tests.slack.fake_slack import FakeSlack  # noqa: E402
from tests.teams.conftest import personal_message  # noqa: E402
from tests.teams.fake_connector import FakeConnector  # noqa: E402

SECRET = "bench-signing-secret"
_QUESTION_IDS = itertools.count(1)
DB_ERROR = "could not reach its database"
PITCH = ("pitch", "Silent debate", "Students debate on paper.", "Quiet students never speak.",
         "6-8, ELA", "More students contributed.", "skip", "submit")  # fmt: skip


class Traffic:
    """Sends signed Slack events and Teams activities; counts answers seen at the fakes."""

    def __init__(self, session: aiohttp.ClientSession, slack: FakeSlack, teams: FakeConnector):
        self.session, self.slack, self.teams = session, slack, teams
        self.acks: list[float] = []
        self.failed_acks: list[str] = []
        self.slack_sent: list[str] = []  # thread ts of each mention
        self.bodies: dict[str, str] = {}  # thread ts -> the signed event's body
        self.teams_sent: list[str] = []  # conversation id of each personal message

    async def _post(self, url: str, body: str, headers: dict[str, str]) -> bool:
        started = time.perf_counter()
        try:
            async with self.session.post(url, data=body.encode(), headers=headers) as response:
                await response.read()
                ok = response.status == 200
                if not ok:
                    self.failed_acks.append(f"HTTP {response.status}")
        except aiohttp.ClientError as err:
            self.failed_acks.append(type(err).__name__)
            return False
        self.acks.append(time.perf_counter() - started)
        return ok

    async def slack_event(self, first: Replica, retry_to: Replica | None, event: dict[str, Any],
                          event_id: str) -> None:  # fmt: skip
        """Send ``event`` to ``first`` and, as Slack's retry, to ``retry_to``."""
        body = event_body(event, event_id=event_id)
        self.bodies[str(event["ts"])] = body
        await self._post(first.url + "/slack/events", body, signed(body, "application/json",
                                                                    secret=SECRET))  # fmt: skip
        if retry_to is not None:
            headers = signed(body, "application/json", secret=SECRET, retry=1)
            await self._post(retry_to.url + "/slack/events", body, headers)

    async def question(self, replicas: list[Replica], kind: str = "", retry: bool = True) -> None:
        """One question: a Slack mention (retried to the other replica) or a Teams message."""
        n = next(_QUESTION_IDS)  # unique across runs: the fakes keep every earlier post
        text = QUESTIONS[n % len(QUESTIONS)]
        first = random.choice(replicas)
        other = next((r for r in replicas if r is not first), None) if retry else None
        if (kind or random.choice(("slack", "teams"))) == "slack":
            ts = f"1700000000.{n:06d}"
            self.slack_sent.append(ts)
            await self.slack_event(first, other, mention(text, ts=ts, channel=f"C{n:05d}"),
                                   f"EvRep{n:06d}")  # fmt: skip
        else:
            conversation = f"a:1bench-{n}"
            self.teams_sent.append(conversation)
            sender = {"id": f"29:1u{n}", "name": f"T{n}", "aadObjectId": f"aad-{n}"}
            activity = personal_message(self.teams.url, text, sender, conversation)
            headers = {"Content-Type": "application/json"}
            await self._post(first.url + "/api/messages", json.dumps(activity), headers)

    def _posts(self) -> list[tuple[str, str]]:
        """(question key, posted text) for every reply seen at the fakes."""
        posts = [(str(c.params.get("thread_ts")), json.dumps(c.params))
                 for c in self.slack.of("chat.postMessage")]  # fmt: skip
        posts += [(p.conversation, json.dumps(p.body)) for p in self.teams.posts()
                  if p.body.get("type") == "message"]  # fmt: skip
        return posts

    def answers(self) -> dict[str, int]:
        """Replies posted per question (thread ts or conversation id)."""
        counts = {key: 0 for key in self.slack_sent + self.teams_sent}
        for key, _ in self._posts():
            if key in counts:
                counts[key] += 1
        return counts

    def error_only(self) -> list[str]:
        """Questions whose only replies say the database could not be reached."""
        good = {key for key, text in self._posts() if DB_ERROR not in text}
        said = {key for key, _ in self._posts()}
        return [k for k in self.slack_sent + self.teams_sent if k in said and k not in good]

    async def settle(self, timeout: float) -> dict[str, int]:
        """Wait until every question has an answer (or ``timeout``), then a second for extras."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and min(self.answers().values(), default=1) == 0:
            await asyncio.sleep(0.2)
        await asyncio.sleep(1.0)
        return self.answers()


def tally(counts: dict[str, int]) -> dict[str, int]:
    return {"questions": len(counts), "lost": sum(1 for c in counts.values() if c == 0),
            "duplicated": sum(1 for c in counts.values() if c > 1)}  # fmt: skip


async def open_loop(traffic: Traffic, replicas: list[Replica], rate: float, seconds: float,
                    during: Any = None) -> float:  # fmt: skip
    """Questions at ``rate``/s for ``seconds`` (``during`` runs alongside); the elapsed time."""
    started = time.monotonic()
    side = asyncio.create_task(during()) if during is not None else None
    tasks = []
    for i in range(int(rate * seconds)):
        await asyncio.sleep(max(0.0, started + i / rate - time.monotonic()))
        tasks.append(asyncio.create_task(traffic.question(replicas)))
    await asyncio.gather(*tasks)
    if side is not None:
        await side
    return time.monotonic() - started


async def load(args: argparse.Namespace, env: dict[str, Any]) -> dict[str, Any]:
    rows = []
    for rate in args.rate:
        traffic = Traffic(env["session"], env["slack"], env["teams"])
        t0 = time.monotonic()
        await open_loop(traffic, env["replicas"], rate, args.seconds)
        counts = await traffic.settle(30)
        last = time.monotonic() - t0 - 1.0
        rows.append({"rate": rate, **tally(counts), "acks": len(traffic.acks),
                     "ack_p50_ms": round(percentile(traffic.acks, 50) * 1000, 1),
                     "ack_p99_ms": round(percentile(traffic.acks, 99) * 1000, 1),
                     "failed_acks": len(traffic.failed_acks),
                     "answered_per_s": round(sum(1 for c in counts.values() if c) / last, 2)})  # fmt: skip
        print(f"  load {rows[-1]}", file=sys.stderr)
    return {"rows": rows}


async def kill_mid_answer(env: dict[str, Any], burst: int = 12) -> dict[str, Any]:
    """A burst to replica A (Slack and Teams), A SIGKILLed after the acks, retries to B."""
    a, b = env["replicas"]
    traffic = Traffic(env["session"], env["slack"], env["teams"])
    await asyncio.gather(*(traffic.question([a], kind=("slack", "teams")[i % 2], retry=False)
                           for i in range(burst)))  # fmt: skip
    a.kill()
    killed_at = time.monotonic()
    answered_before_kill = sum(1 for c in traffic.answers().values() if c)
    for ts in traffic.slack_sent:  # Slack's retry of each event, to the live replica
        body = traffic.bodies[ts]
        headers = signed(body, "application/json", secret=SECRET, retry=1)
        await traffic._post(b.url + "/slack/events", body, headers)
    # B answers what A acked once A's claims run out (the lease) at its next sweep.
    counts = await traffic.settle(LEASE_S * 3 + 20)
    all_answered_s = time.monotonic() - killed_at - 1.0
    late = sum(1 for _, text in traffic._posts() if LATE in text)
    a.start()
    back = await ready(env["session"], a, 180)
    return {"burst": burst, "answered_before_kill": answered_before_kill, **tally(counts),
            "lost_slack": sum(1 for k in traffic.slack_sent if counts[k] == 0),
            "lost_teams": sum(1 for k in traffic.teams_sent if counts[k] == 0),
            "answered_late": late, "all_answered_after_kill_s": round(all_answered_s, 1),
            "restarted_ready_s": round(back, 1)}  # fmt: skip


async def kill_mid_pitch(env: dict[str, Any], kill_after: int, user: str) -> dict[str, Any]:
    """A DM pitch alternating between replicas; the next replica is killed after step ``kill_after``."""
    import sqlalchemy as sa

    from store import Database, Idea

    replicas, slack = env["replicas"], env["slack"]
    traffic = Traffic(env["session"], slack, env["teams"])
    channel, replies, killed = f"D{user}", [], None
    for step, text in enumerate(PITCH):
        alive = [r for r in replicas if r is not killed]
        target = alive[step % len(alive)]
        other = next((r for r in alive if r is not target), None)
        before = [c for c in slack.of("chat.postMessage") if c.params.get("channel") == channel]
        ts = f"1700100{step:03d}.{abs(hash(user)) % 10**6:06d}"
        event = {"type": "message", "channel_type": "im", "channel": channel, "user": user,
                 "text": text, "ts": ts, "event_ts": ts}  # fmt: skip
        await traffic.slack_event(target, other, event, f"EvPitch{user}{step}")
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            now = [c for c in slack.of("chat.postMessage") if c.params.get("channel") == channel]
            if len(now) > len(before):
                break
            await asyncio.sleep(0.1)
        replies.append(now[len(before) :])
        if step == kill_after:
            killed = replicas[(step + 1) % 2]  # the one the next step would have gone to
            killed.kill()
    database = Database.from_url(env["database_url"])
    with database.session() as s:
        ideas = s.scalars(sa.select(Idea).where(Idea.author_id == user)).all()
    database.dispose()
    killed.start()
    back = await ready(env["session"], killed, 180)
    texts = ["\n".join(str(c.params.get("text", "")) for c in r) for r in replies]
    steps_ok = sum(1 for i, t in enumerate(texts[1:6], start=1) if f"Question {i + 1} of 6" in t)
    reviews = [c for c in slack.of("chat.postMessage") if c.params.get("channel") == "CREVIEW"
               and any(f"#{i.id}" in str(c.params) for i in ideas)]  # fmt: skip
    return {"killed_after_step": kill_after, "steps": len(PITCH),
            "steps_without_reply": sum(1 for r in replies if not r),
            "questions_in_order": f"{steps_ok + 1}/6", "ideas_created": len(ideas),
            "review_posts": len(reviews), "submitted": "Your idea is #" in texts[-1],
            "restarted_ready_s": round(back, 1)}  # fmt: skip


async def pg_restart(args: argparse.Namespace, env: dict[str, Any]) -> dict[str, Any]:
    """Load at ``--pg-rate`` while PostgreSQL restarts a third of the way in."""
    traffic = Traffic(env["session"], env["slack"], env["teams"])
    took: list[float] = []
    back: list[float] = []  # seconds from the restart's end to readyz 200, per replica

    async def restart() -> None:
        await asyncio.sleep(args.seconds / 3)
        started = time.monotonic()
        await asyncio.to_thread(pg_ctl, "restart")
        took.append(time.monotonic() - started)
        back.extend([await ready(env["session"], r, 60) for r in env["replicas"]])

    await open_loop(traffic, env["replicas"], args.pg_rate, args.seconds, restart)
    counts = await traffic.settle(30)
    session = env["session"]
    after = Traffic(session, env["slack"], env["teams"])
    for i in range(args.after):
        await after.question(env["replicas"], kind=("slack", "teams")[i % 2])
    later = await after.settle(20)
    lost_after = [k for k, c in later.items() if c == 0] + after.error_only()
    return {"rate": args.pg_rate, **tally(counts), "failed_acks": len(traffic.failed_acks),
            "error_reply_only": len(traffic.error_only()),
            "error_reply_only_slack": sum(1 for k in traffic.error_only() if "." in k),
            "lost_slack": sum(1 for k in traffic.slack_sent if counts[k] == 0),
            "duplicated_slack": sum(1 for k in traffic.slack_sent if counts[k] > 1),
            "unanswered_after": lost_after,
            "failed_ack_kinds": sorted(set(traffic.failed_acks)),
            "restart_s": round(took[0], 1) if took else None,
            "readyz_200_after_restart_s": max(round(s, 1) for s in back),
            "next_questions_answered": f"{len(later) - len(lost_after)}/{len(later)}"}  # fmt: skip


async def bench(args: argparse.Namespace, data_dir: Path, database_url: str, logs: Path) -> dict:
    slack, teams = FakeSlack(), FakeConnector()
    await slack.start()
    await teams.start()
    base = {**os.environ, "SLACK_SIGNING_SECRET": SECRET, "SLACK_BOT_TOKEN": "xoxb-bench",
            "SLACK_API_URL": slack.api_url, "STAFFROOM_DATA_DIR": str(data_dir),
            "STAFFROOM_HOST": "127.0.0.1", "STAFFROOM_LOG_LEVEL": "WARNING",
            "STAFFROOM_TEAMS": "on", "STAFFROOM_TEAMS_SERVICE_URL": teams.url,
            "STAFFROOM_REVIEW_CHANNEL": "CREVIEW", "DATABASE_URL": database_url,
            "OPENAI_API_KEY": "", "HF_HUB_OFFLINE": "1",
            "STAFFROOM_ANSWER_LEASE_SECONDS": str(LEASE_S), **CHECKIN_ENV}  # fmt: skip
    replicas = [Replica(base, logs / f"replica-{i}.log") for i in (1, 2)]
    result: dict[str, Any] = {}
    try:
        for r in replicas:
            r.start()
        async with aiohttp.ClientSession() as session:
            for r in replicas:
                await ready(session, r, 240)
            env = {"session": session, "slack": slack, "teams": teams, "replicas": replicas,
                   "database_url": database_url}  # fmt: skip
            traffic = Traffic(session, slack, teams)
            result["checkins"] = await kill_mid_checkins(env, traffic, ready)
            if args.only == "checkins":
                return result
            result["load"] = await load(args, env)
            result["kill_mid_answer"] = await kill_mid_answer(env)
            result["kill_mid_pitch"] = [await kill_mid_pitch(env, k, f"UPITCH{k}") for k in (2, 5)]
            result["pg_restart"] = await pg_restart(args, env)
    finally:
        for r in replicas:
            r.stop()
        await slack.close()
        await teams.close()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, nargs="+", default=[4.0, 8.0], help="questions/s")
    parser.add_argument("--seconds", type=float, default=15, help="per load run (≤ 60)")
    parser.add_argument("--pg-rate", type=float, default=16.0, help="questions/s while PG restarts")
    parser.add_argument("--pg-cluster", default="main", help="the PostgreSQL cluster to restart")
    parser.add_argument("--pg-port", type=int, default=5432, help="that cluster's port")
    parser.add_argument("--after", type=int, default=10, help="questions after the restart")
    parser.add_argument("--data-dir", type=Path, help="a data dir with an ingested index")
    parser.add_argument("--ingest", type=Path, help="ingest this library into a temp dir first")
    parser.add_argument("--write", type=Path, help="update this results file")
    parser.add_argument("--only", choices=["all", "checkins"], default="all",
                        help="checkins: only the check-in phase (kill mid-send)")  # fmt: skip
    args = parser.parse_args()
    args.seconds = min(args.seconds, 60.0)
    name = f"staffroom_bench_{random.randrange(16**8):08x}"
    CLUSTER["name"] = args.pg_cluster
    pg = ["-h", "127.0.0.1", "-p", str(args.pg_port), "-U", "postgres"]
    with tempfile.TemporaryDirectory(prefix="staffroom-replicas-") as tmp:
        data_dir = args.data_dir or Path(tmp) / "data"
        database_url = f"postgresql+psycopg://postgres@127.0.0.1:{args.pg_port}/{name}"
        env = {**os.environ, "DATABASE_URL": database_url, "HF_HUB_OFFLINE": "1"}
        subprocess.run(["createdb", *pg, name], check=True)
        try:
            # Migrate first: ingest takes the re-index lock in the database it will serve.
            subprocess.run([STAFFROOM, "db", "upgrade"], check=True, env=env)
            if args.ingest:
                subprocess.run([STAFFROOM, "--data-dir", str(data_dir), "ingest", str(args.ingest)],
                               check=True, env=env)  # fmt: skip
            elif not args.data_dir:
                parser.error("give --data-dir (an ingested index) or --ingest LIBRARY")
            result = asyncio.run(bench(args, data_dir, database_url, Path(tmp)))
        finally:
            if not pg_online():
                pg_ctl("start")
            subprocess.run(["dropdb", *pg, "--if-exists", "--force", name], check=False)
            for log in Path(tmp).glob("replica-*.log"):
                tail = log.read_text(errors="replace")[-3000:]
                if tail.strip():
                    print(f"--- {log.name} (tail)\n{tail}", file=sys.stderr)
    print(json.dumps(result, indent=2))
    if args.only == "checkins":
        print(report_row(result["checkins"]))
        c = result["checkins"]
        return 1 if c["lost"] or c["twice"] else 0
    section = report(result, args)
    print(section)
    if args.write:
        write(args.write, section)
    bad = [r for r in result["load"]["rows"] if r["lost"] or r["duplicated"]]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
