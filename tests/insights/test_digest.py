"""The digest's schedule and content, and the gap-closing notices' query (their delivery over
HTTP is in test_delivery.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.insights_digest import digest_message, gap_notice_reply
from bot.messages import Reply
from insights.clusters import assign_pending, relabel
from insights.digest import (
    build_digest,
    claim_send,
    due_week,
    last_due,
    next_due,
    parse_digest_at,
)
from insights.gap_notices import NewSession, claim_notice, gap_notices
from retrieval.embedder import FakeEmbedder
from staffroom_errors import ConfigError
from store import Database
from tests.insights.helpers import MONDAY, NOW, ask, at, people

CHICAGO = ZoneInfo("America/Chicago")


def test_parse_digest_at() -> None:
    when = parse_digest_at("mon 07:30")
    assert (when.weekday, when.at.hour, when.at.minute) == (0, 7, 30)
    assert parse_digest_at("Friday 16:05").weekday == 4
    for bad in ("07:30", "someday 07:30", "mon 25:00", "mon 7"):
        with pytest.raises(ConfigError):
            parse_digest_at(bad)


def test_next_due_is_in_the_district_time_zone_across_daylight_saving() -> None:
    when = parse_digest_at("mon 07:30")
    # Sunday 1 Nov 2026 is the end of daylight saving in Chicago.
    due = next_due(datetime(2026, 10, 30, 12, 0, tzinfo=UTC), when, CHICAGO)
    assert due.astimezone(CHICAGO).strftime("%a %H:%M %Z") == "Mon 07:30 CST"
    assert due.astimezone(UTC).hour == 13
    before = next_due(datetime(2026, 10, 20, 12, 0, tzinfo=UTC), when, CHICAGO)
    assert before.astimezone(UTC).hour == 12  # CDT
    exactly = next_due(due, when, CHICAGO)
    assert exactly - due == timedelta(days=7)
    assert due_week(due, CHICAGO) == "2026-W45"


def test_a_digest_is_claimed_once_per_week(db: Database) -> None:
    with db.session() as s:
        assert claim_send(s, "digest", "2026-W45")
    with db.session() as s:
        assert not claim_send(s, "digest", "2026-W45")
        assert claim_send(s, "digest", "2026-W46")


def test_digest_content_and_chart(db: Database) -> None:
    with db.session() as s:
        for user in people(6):
            ask(s, user, "how do i share chromebooks between classes", good=False, when=at(0))
            ask(s, user, "exit tickets with 32 kids", when=at(1))
        assign_pending(s, FakeEmbedder().embed_queries, model="fake")
        relabel(s)
    with db.session() as s:
        digest = build_digest(s, MONDAY + timedelta(days=2), 5)
    reply = digest_message(digest, "https://staffroom.example.org")
    assert "Questions: 6 this week (+0% on last week)." in reply.text
    assert "chromebooks" in reply.text.lower() and "6 people" in reply.text
    assert reply.text.endswith("https://staffroom.example.org/insights")
    assert reply.image is not None and reply.image.png().startswith(b"\x89PNG")
    # The chart's alt text carries its figures (a hidden week would read "fewer than 5").
    assert reply.image.alt.startswith("Questions per week, ")
    assert reply.image.alt.endswith("26 Oct: 6; 02 Nov: 6")
    assert Reply.from_json(reply.to_json()) == reply  # a claimed delivery keeps it as JSON


def test_last_due_is_the_latest_digest_time_not_after_now() -> None:
    when = parse_digest_at("mon 07:30")
    now = datetime(2026, 11, 4, 12, 0, tzinfo=UTC)  # a Wednesday
    assert last_due(now, when, CHICAGO).astimezone(CHICAGO).strftime("%a %d %H:%M") == "Mon 02 07:30"
    monday = datetime(2026, 11, 2, 13, 30, tzinfo=UTC)  # 07:30 in Chicago, exactly
    assert last_due(monday, when, CHICAGO) == monday


def test_gap_notices_find_askers_once_a_week(db: Database) -> None:
    embed = FakeEmbedder().embed_queries
    with db.session() as s:
        for user in people(3):
            ask(s, user, "how do i share chromebooks between classes", good=False, when=at(0))
        ask(
            s,
            "UOLD",
            "how do i share chromebooks between classes",
            good=False,
            when=NOW - timedelta(days=120),
        )
        ask(s, "UHAPPY", "how do i share chromebooks between classes", when=at(0))
        assign_pending(s, embed, model="fake")
    session = NewSession(
        "device-sharing",
        "Sharing Devices Fairly",
        embed(["share chromebooks between classes"])[0],
        start=95.0,
        url="https://v.example/devices",
    )
    with db.session() as s:
        notices = gap_notices(s, [session], retention_days=90, now=NOW)
    assert sorted(n.user_id for n in notices) == ["U000", "U001", "U002"]  # not UOLD, not UHAPPY
    reply = gap_notice_reply(notices[0])
    assert reply.text.startswith("You asked about “how do i share chromebooks")
    assert "“Sharing Devices Fairly” ▶ 01:35" in reply.text
    with db.session() as s:
        assert claim_notice(s, notices[0], now=NOW)
        assert not claim_notice(s, notices[0], now=NOW)
    with db.session() as s:
        again = gap_notices(s, [session], retention_days=90, now=NOW)
        later = gap_notices(s, [session], retention_days=90, now=NOW + timedelta(days=7))
    assert len(again) == 2 and len(later) == 3
