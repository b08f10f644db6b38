"""`insights` (`/pd insights` in Slack): a staff member gets a single-use sign-in link, privately.

Self-contained on purpose: it needs a staff check, the database and, for a Teams channel
mention, a way to send a direct message. Anyone who is not staff is refused and gets no link.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING

import ideas
from bot.messages import Incoming, Reply
from bot.outbox import Address, Outbox
from insights.access import issue_link_token

if TYPE_CHECKING:
    from bot.core import Turn
    from store import Database

HELP = "Central staff: `insights` sends you a link to the insights pages."


@dataclass(frozen=True)
class InsightsLinkDeps:
    database: Database
    staff: ideas.StaffDirectory
    public_url: str  # https://staffroom.example.org
    outbox: Outbox | None = None


class InsightsLinkFlow:
    def __init__(self, deps: InsightsLinkDeps) -> None:
        self.deps = deps

    async def on_insights(self, turn: Turn) -> list[Reply] | None:
        if turn.intent.args.strip():
            return None  # "insights on reading conferences" is a question for the library
        who = turn.incoming
        await ideas.check_staff(self.deps.staff, who.platform, who.user_id, "open insights")
        token = await asyncio.to_thread(self._issue, who)
        link = f"{self.deps.public_url.rstrip('/')}/insights/signin?token={token}"
        private = Reply(
            text=f"Your sign-in link for Staffroom insights: {link}\n"
            "It works once, within 10 minutes, and opens an 8-hour session. Don't share it.",
            kind="sign_in",
            ephemeral=True,
        )
        if self._seen_only_by_them(who):
            return [private]
        outbox = self.deps.outbox
        if outbox is not None and outbox.reaches(who.platform):
            sent = await outbox.send(
                Address.direct(who.platform, who.user_id),
                Reply(text=private.text, kind="sign_in", in_thread=False),
            )
            if sent.ok:
                return [
                    Reply(
                        text="I sent you a sign-in link in our private chat.",
                        kind="hint",
                        ephemeral=True,
                    )
                ]
        return [
            Reply(
                text="Message me privately and type `insights` there: a sign-in link is "
                "not something to post here.",
                kind="hint",
                ephemeral=True,
            )
        ]

    def _issue(self, who: Incoming) -> str:
        with self.deps.database.session() as s:
            return issue_link_token(s, who.platform, who.user_id, who.user_name)

    @staticmethod
    def _seen_only_by_them(who: Incoming) -> bool:
        """Where an ephemeral reply stays private: DMs, Slack (ephemeral), the terminal."""
        return who.private or who.platform in ("slack", "terminal") or who.surface == "command"
