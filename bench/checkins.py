"""Follow-through scheduler on PostgreSQL: two replicas, a kill mid-send, refusals; idle cost.

Two schedulers (``bot.follow_jobs.Scheduler``), each with its own delivery pipeline over the
same fresh PostgreSQL schema, send ``--checkins`` due check-ins to a fake platform that records
every post, refuses some with a 429-like error (retried) and says a few users are gone
(``user_not_found``: their schedules stop). Replica A is killed (its task cancelled) while a send
is in flight, and started again; leases are short (``--lease`` s) so the other takes over.
Reported: rows due / sent / stopped at the end, posts per row at the fake (0 lost = every sent
row posted, 0 twice = none posted more than once), and the pipeline's sweep ran as serve runs it.

With ``--restart-cluster`` PostgreSQL is restarted (``pg_ctlcluster``) while replica B sends.

Then the idle cost: one scheduler polling an empty schedule as ``staffroom serve`` does
(every 30 s, waking early for the next due row), SQL statements counted for ``--idle`` seconds.

    PYTHONPATH=. .venv/bin/python bench/checkins.py [--checkins 300] [--idle 120]
    PYTHONPATH=. .venv/bin/python bench/checkins.py --idle 0 --restart-cluster bench \
        --pg postgresql+psycopg://postgres@127.0.0.1:5433/postgres
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.delivery import Address, Delivered, MessageRef, Pipeline  # noqa: E402
from bot.follow_jobs import Scheduler  # noqa: E402
from bot.messages import Reply  # noqa: E402
from bot.records import SqlRecords  # noqa: E402
from follow import schedule, tries  # noqa: E402
from store import Database, FollowMessage, utcnow  # noqa: E402
from store.migrate import upgrade  # noqa: E402
from store.runner import Runner  # noqa: E402

PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SETTINGS = {"pg": PG, "restart": ""}  # --pg, --restart-cluster


class FakePlatform:
    """Records posts by check-in row; refuses some sends; can hold one send (the kill)."""

    def __init__(self, gone: set[str], refuse_rate: float, seed: int = 7) -> None:
        self.posts: Counter[int] = Counter()
        self.gone, self.refuse_rate = gone, refuse_rate
        self.rng = random.Random(seed)
        self.hold: asyncio.Event | None = None  # the next send waits here (mid-send)
        self.holding = asyncio.Event()
        self.refused = 0

    def courier(self) -> FakeCourier:
        return FakeCourier(self)


class FakeCourier:
    def __init__(self, platform: FakePlatform) -> None:
        self.platform = platform

    async def send(self, to: Address, reply: Reply) -> Delivered:
        p = self.platform
        await asyncio.sleep(0.002)  # a platform round trip
        if to.user_id in p.gone:
            return Delivered(error="user_not_found")
        if p.rng.random() < p.refuse_rate:
            p.refused += 1
            return Delivered(error="ratelimited")
        if p.hold is not None:  # killed before the platform accepted the post
            hold, p.hold = p.hold, None
            p.holding.set()
            await hold.wait()
        row = int(next(a.value for a in reply.actions).split()[1])  # "checkin <row> worked"
        p.posts[row] += 1
        return Delivered(ref=MessageRef("slack", f"D{to.user_id}", f"{row}.{p.posts[row]}"))

    async def update(self, ref: MessageRef, reply: Reply, citations: object = ()) -> Delivered:
        return Delivered(ref=ref)

    def streams(self, ref: MessageRef) -> bool:
        return False


class NoResponder:
    async def respond(self, incoming: object, **kw: object) -> list[Reply]:
        return []

    async def ground(self, reply: Reply, **kw: object) -> None:
        return None


def _replica(database: Database, platform: FakePlatform, name: str, lease: float) -> Scheduler:
    db = Runner(database, patience=30)
    pipeline = Pipeline(NoResponder(), SqlRecords(database), db, lease=lease, replica=name)
    pipeline.register("slack", platform.courier())
    return Scheduler(db, pipeline, delay=timedelta(seconds=1), lease=timedelta(seconds=lease),
                     replica=name)  # fmt: skip


async def _loop(scheduler: Scheduler) -> None:
    while True:
        await scheduler.run_once()
        await scheduler.delivery.recover()  # serve's sweep (answer_abandoned)
        await scheduler.wait(0.2)


def _schema_url(schema: str) -> str:
    return f"{SETTINGS['pg']}?options={quote(f'-csearch_path={schema}')}"


def _restart(cluster: str) -> float:
    """Restart PostgreSQL cluster ``cluster`` (its own, never a shared one); seconds it took."""
    started = time.perf_counter()
    version = sorted(os.listdir("/etc/postgresql"), key=float)[-1]
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, cluster, "restart"],
                   check=True, capture_output=True)  # fmt: skip
    return time.perf_counter() - started


async def replicas(n: int, lease: float) -> dict[str, object]:
    admin = sa.create_engine(str(SETTINGS["pg"]), pool_pre_ping=True)
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    database = Database.from_url(_schema_url(schema))
    restarted = 0.0
    try:
        upgrade(database.engine)
        users = [f"U{i:04d}" for i in range(n)]
        gone = set(users[: max(1, n // 50)])
        with database.session() as s:
            for user in users:
                tries.start_try(s, "slack", user, "exit-tickets", "Exit Tickets", utcnow())
        platform = FakePlatform(gone, refuse_rate=0.05)
        platform.hold = asyncio.Event()
        a, b = (_replica(database, platform, name, lease) for name in ("A", "B"))
        started = time.perf_counter()
        task_a = asyncio.create_task(_loop(a))
        await platform.holding.wait()  # A is mid-send: kill it
        task_a.cancel()
        task_b = asyncio.create_task(_loop(b))
        if SETTINGS["restart"]:  # PostgreSQL restarts while B sends
            await asyncio.sleep(0.3)
            restarted = await asyncio.to_thread(_restart, str(SETTINGS["restart"]))
        await asyncio.sleep(lease)
        task_a = asyncio.create_task(_loop(_replica(database, platform, "A2", lease)))
        deadline = time.perf_counter() + 120
        while time.perf_counter() < deadline:
            await asyncio.sleep(0.5)
            try:
                with database.session() as s:
                    left = s.scalar(
                        sa.select(sa.func.count()).where(FollowMessage.state == "due")
                    )
            except Exception:  # PostgreSQL restarting: look again
                continue
            if not left:
                break
        elapsed = time.perf_counter() - started
        await asyncio.sleep(lease + 1)  # a late sweep must not post anything again
        for task in (task_a, task_b):
            task.cancel()
        with database.session() as s:
            states = schedule.counts(s)
            sent_ids = set(s.scalars(sa.select(FollowMessage.id).where(FollowMessage.state == "sent")))
        twice = sum(1 for c in platform.posts.values() if c > 1)
        lost = len(sent_ids - set(platform.posts))
        return {"due": n, "states": states, "posted": len(platform.posts), "lost": lost,
                "twice": twice, "refused_429": platform.refused, "gone": len(gone),
                "seconds": round(elapsed, 1), "pg_restart_s": round(restarted, 1)}  # fmt: skip
    finally:
        database.dispose()
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


async def idle(seconds: float, every: float) -> dict[str, float]:
    admin = sa.create_engine(str(SETTINGS["pg"]), pool_pre_ping=True)
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    database = Database.from_url(_schema_url(schema))
    try:
        upgrade(database.engine)
        statements: list[float] = []
        sa.event.listen(database.engine, "before_cursor_execute",
                        lambda *a, **k: statements.append(time.monotonic()))  # fmt: skip
        scheduler = _replica(database, FakePlatform(set(), 0.0), "idle", 60)
        task = asyncio.create_task(scheduler.forever(every))
        await asyncio.sleep(seconds)
        task.cancel()
        return {"seconds": seconds, "poll_every": every, "statements": len(statements),
                "per_minute": round(len(statements) * 60 / seconds, 1)}  # fmt: skip
    finally:
        database.dispose()
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--checkins", type=int, default=300)
    parser.add_argument("--lease", type=float, default=3.0)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--idle", type=float, default=120.0)
    parser.add_argument("--every", type=float, default=30.0)
    parser.add_argument("--pg", default=PG, help="a PostgreSQL URL (fresh schemas are made there)")
    parser.add_argument("--restart-cluster", default="",
                        help="restart this PostgreSQL cluster mid-run (the bench's own: "
                        "pg_createcluster 15 bench --port 5433; never a shared one)")  # fmt: skip
    args = parser.parse_args()
    SETTINGS.update(pg=args.pg, restart=args.restart_cluster)
    runs = [asyncio.run(replicas(args.checkins, args.lease)) for _ in range(args.runs)]
    for run in runs:
        print("replicas:", run)
    print("median seconds to all sent:", statistics.median(float(r["seconds"]) for r in runs))  # type: ignore[arg-type]
    if args.idle > 0:
        print("idle:", asyncio.run(idle(args.idle, args.every)))


if __name__ == "__main__":
    main()
