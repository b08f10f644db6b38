"""The check-in phase of ``bench/replicas.py``: teachers press *I'll try this* (typed, Slack DMs,
each retried to the other replica), the check-ins fall due ``CHECKIN_AFTER`` later, and the
replica that is sending them is SIGKILLed as the first ones arrive, then started again.
Counted at the fake Slack: check-ins per teacher (0 lost, 0 twice) and the rows' states."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import Any

CHECKIN_AFTER = "3s"  # STAFFROOM_CHECKIN_AFTER for the replicas
SESSION = "exit-tickets"  # a session of examples/library
ENV = {"STAFFROOM_CHECKIN_AFTER": CHECKIN_AFTER}


def _checkins(slack: Any, people: set[str]) -> Counter[str]:
    return Counter(
        str(c.params.get("channel"))
        for c in slack.of("chat.postMessage")
        if c.params.get("channel") in people and "Did you try" in str(c.params.get("text", ""))
    )


async def kill_mid_checkins(env: dict[str, Any], traffic: Any, ready: Any, users: int = 40) -> dict:
    import sqlalchemy as sa

    from store import Database, FollowMessage

    a, b = env["replicas"]
    slack = env["slack"]
    people = [f"UCHK{n:03d}" for n in range(users)]
    for n, user in enumerate(people):
        ts = f"1700300{n:03d}.000001"
        event = {"type": "message", "channel_type": "im", "channel": f"D{user}", "user": user,
                 "text": f"try {SESSION}", "ts": ts, "event_ts": ts}  # fmt: skip
        first, other = (a, b) if n % 2 else (b, a)
        await traffic.slack_event(first, other, event, f"EvTry{user}")
    wanted = set(people)
    deadline = time.monotonic() + 60
    while not _checkins(slack, wanted) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    sent_before_kill = sum(_checkins(slack, wanted).values())
    a.kill()  # mid-send: the first check-ins are arriving
    killed_at = time.monotonic()
    deadline = killed_at + 180  # a dead replica's leased rows wait out the 60 s lease
    while time.monotonic() < deadline and len(_checkins(slack, wanted)) < users:
        await asyncio.sleep(0.5)
    all_sent_s = time.monotonic() - killed_at
    a.start()
    back = await ready(env["session"], a, 180)
    await asyncio.sleep(5)  # a late duplicate would show now
    counts = _checkins(slack, wanted)
    database = Database.from_url(env["database_url"])
    try:
        with database.session() as s:
            states = Counter(s.scalars(sa.select(FollowMessage.state)
                                       .where(FollowMessage.user_id.in_(people))))  # fmt: skip
    finally:
        database.dispose()
    return {"teachers": users, "sent_before_kill": sent_before_kill,
            "lost": sum(1 for p in people if counts[p] == 0),
            "twice": sum(1 for p in people if counts[p] > 1),
            "rows": dict(states), "all_sent_after_kill_s": round(all_sent_s, 1),
            "restarted_ready_s": round(back, 1)}  # fmt: skip


def report_row(c: dict[str, Any]) -> str:
    return (
        f"| {c['teachers']} teachers say *I'll try this* (typed, retried to the other replica); "
        f"check-ins due {CHECKIN_AFTER} later; the sending replica SIGKILLed after "
        f"{c['sent_before_kill']} arrived | {c['lost']} lost, {c['twice']} twice; rows "
        f"{c['rows']}; all sent {c['all_sent_after_kill_s']} s after the kill (60 s lease); "
        f"restarted replica ready in {c['restarted_ready_s']} s |"
    )
