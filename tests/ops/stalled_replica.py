"""A `serve` replica whose searches never return: it acknowledges messages and never answers.

Run by ``test_abandoned_answers`` as a separate process (then SIGKILLed mid-answer):

    python -m tests.ops.stalled_replica DB_URL SLACK_API_URL CONNECTOR_URL PORT
"""

from __future__ import annotations

import sys

from aiohttp import web

from bot.app import Components
from bot.core import Core
from bot.delivery.contacts import Contacts
from bot.records import SqlRecords
from bot.server import build_web_app
from bot.slack.app import SlackFrontEnd
from bot.teams.app import TeamsFrontEnd
from bot.teams.auth import BotConfig, authentication
from store import Database
from tests.bot.fakes import FakeRetriever
from tests.slack.conftest import SECRET

LEASE = 1.0


def main(db_url: str, slack_api: str, connector: str, port: int) -> None:
    database = Database.from_url(db_url)
    retriever = FakeRetriever()
    retriever.stall()  # every search blocks: the replica is "mid-answer" until it is killed
    core = Core(retriever, SqlRecords(database), answer_lease=LEASE)
    slack = SlackFrontEnd(core, signing_secret=SECRET, token="xoxb-test", api_url=slack_api)
    teams = TeamsFrontEnd(
        core,
        authentication(BotConfig()),  # no-auth local mode; token checks live in tests/teams
        app_id="",
        contacts=Contacts(database, "teams"),
        service_url=connector,
    )
    components = Components(core=core, database=database, slack=slack, teams=teams)
    web.run_app(build_web_app(components), host="127.0.0.1", port=port, print=None)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]))
