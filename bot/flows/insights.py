"""`insights` (`/pd insights` in Slack): a staff member gets a single-use sign-in link, privately.

Anyone who is not staff is refused and gets no link. Where the reply could be seen by others
(a Teams channel mention), the link goes to the person's direct messages through the delivery
pipeline instead, sent once and now: never kept for a later retry, since it expires in minutes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import ideas
from bot.delivery import Address, Pipeline
from bot.messages import Incoming, Reply
from insights.access import issue_link_token

if TYPE_CHECKING:
    from bot.core import Turn
    from store.runner import Runner

HELP = "Central staff: `insights` sends you a link to the insights pages."


@dataclass(frozen=True)
class InsightsLinkDeps:
    db: Runner
    staff: ideas.StaffDirectory
    public_url: str  # https://staffroom.example.org
    delivery: Pipeline | None = None  # direct messages, where a reply would be seen by others


class InsightsLinkFlow:
    def __init__(self, deps: InsightsLinkDeps) -> None:
        self.deps = deps

    async def on_insights(self, turn: Turn) -> list[Reply] | None:
        if turn.intent.args.strip():
            return None  # "insights on reading conferences" is a question for the library
        who = turn.incoming
        await ideas.check_staff(self.deps.staff, who.platform, who.user_id, "open insights")
        token = await self.deps.db.run(issue_link_token, who.platform, who.user_id, who.user_name)
        link = f"{self.deps.public_url.rstrip('/')}/insights/signin?token={token}"
        text = (
            f"Your sign-in link for Staffroom insights: {link}\n"
            "It works once, within 10 minutes, and opens an 8-hour session. Don't share it."
        )
        if _seen_only_by_them(who):
            return [Reply(text=text, kind="sign_in", ephemeral=True)]
        delivery = self.deps.delivery
        if delivery is not None and delivery.reaches(who.platform):
            direct = Address.direct(who.platform, who.user_id)
            sent = await delivery.deliver(direct, Reply(text=text, kind="sign_in", in_thread=False))
            if sent.ok:
                return [_hint("I sent you a sign-in link in our private chat.")]
        return [
            _hint(
                "Message me privately and type `insights` there: a sign-in link is "
                "not something to post here."
            )
        ]


def _hint(text: str) -> Reply:
    return Reply(text=text, kind="hint", ephemeral=True)


def _seen_only_by_them(who: Incoming) -> bool:
    """Where an ephemeral reply stays private: DMs, Slack (ephemeral), the terminal."""
    return who.private or who.platform in ("slack", "terminal") or who.surface == "command"
