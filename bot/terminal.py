"""The interactive terminal chat, on the same core as Slack and Teams."""

from __future__ import annotations

import asyncio
import getpass
import sys
from typing import TextIO

from bot.core import Core
from bot.messages import Incoming
from bot.render.text import render

QUIT_WORDS = frozenset({"quit", "exit", ":q"})
GREETING = "Staffroom — ask a question about teaching practice (type 'quit' to leave)."


def run_chat(
    core: Core,
    input: TextIO | None = None,
    output: TextIO | None = None,
    *,
    user_id: str = "",
    prompt: str = "you> ",
) -> int:
    """Read questions until quit/exit/EOF; print each reply. Returns an exit status."""
    return asyncio.run(
        chat(core, input or sys.stdin, output or sys.stdout, user_id=user_id, prompt=prompt)
    )


async def chat(
    core: Core, input: TextIO, output: TextIO, *, user_id: str = "", prompt: str = "you> "
) -> int:
    """The chat loop; ``run_chat`` wraps it for the CLI."""
    user = user_id or _local_user()
    interactive = input.isatty()
    output.write(GREETING + "\n")
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
        for reply in await core.handle(incoming):
            output.write(render(reply) + "\n")
        output.flush()


def _local_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "terminal"
