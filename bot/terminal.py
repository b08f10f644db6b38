"""The interactive terminal chat, on the same core as Slack and Teams."""

from __future__ import annotations

import asyncio
import getpass
import sys
from collections.abc import Awaitable, Callable
from typing import TextIO

from bot.core import Core
from bot.messages import Incoming, Reply
from bot.render.text import render

QUIT_WORDS = frozenset({"quit", "exit", ":q"})
GREETING = "Staffroom — ask a question about teaching practice (type 'quit' to leave)."
# The user's due proactive messages (check-ins), pulled from the core: ``Follow.due_for``.
Pull = Callable[[str, str], Awaitable[list[Reply]]]


def run_chat(
    core: Core,
    input: TextIO | None = None,
    output: TextIO | None = None,
    *,
    user_id: str = "",
    prompt: str = "you> ",
    pull: Pull | None = None,
) -> int:
    """Read questions until quit/exit/EOF; print each reply. Returns an exit status."""
    stdin, stdout = input or sys.stdin, output or sys.stdout
    return asyncio.run(chat(core, stdin, stdout, user_id=user_id, prompt=prompt, pull=pull))


async def chat(
    core: Core,
    input: TextIO,
    output: TextIO,
    *,
    user_id: str = "",
    prompt: str = "you> ",
    pull: Pull | None = None,
) -> int:
    """The chat loop; ``run_chat`` wraps it for the CLI. Due check-ins (``pull``) are shown
    at the start and before the reply to each message."""
    user = user_id or _local_user()
    interactive = input.isatty()
    output.write(GREETING + "\n")
    await _show_due(pull, user, output)
    while True:
        if interactive:
            output.write(prompt)
            output.flush()
        line = await asyncio.to_thread(input.readline)
        if not line:  # EOF
            output.write("\n")
            return 0
        text = line.strip()
        if text.lower() in QUIT_WORDS:
            return 0
        incoming = Incoming(
            platform="terminal",
            user_id=user,
            conversation_id="terminal",
            thread_id="",
            text=text,
            surface="terminal",
            user_name=user,
        )
        await _show_due(pull, user, output)
        for reply in await core.handle(incoming):
            output.write(render(reply) + "\n")
        output.flush()


async def _show_due(pull: Pull | None, user: str, output: TextIO) -> None:
    if pull is None:
        return
    for reply in await pull("terminal", user):
        output.write(render(reply) + "\n")
    output.flush()


def _local_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "terminal"
