"""Core routing for flows: free typing stays in a flow, explicit commands escape, declines fall back."""

from __future__ import annotations

from dataclasses import replace

from bot import intents
from bot.core import Turn
from bot.forms import FormSpec
from bot.messages import Form, Incoming, Reply
from staffroom_errors import PermissionDenied

DM = Incoming("slack", "U1", "D1", "", "", "dm", private=True)


def _recorder(core, name, seen, *, decline=False):
    async def handler(turn: Turn) -> list[Reply] | None:
        seen.append((name, turn.intent.args))
        if name == "pitch" and turn.intent.args == "":
            await core.db.call(core.records.save_state, replace(turn.state, flow="pitch"))
        return None if decline else [Reply(text=name)]

    return handler


async def test_free_typing_in_a_flow_is_an_answer_but_a_command_escapes(core):
    seen: list[tuple[str, str]] = []
    core.register("pitch", _recorder(core, "pitch", seen))
    core.register("ideas", _recorder(core, "ideas", seen))
    await core.handle(replace(DM, text="pitch"))
    await core.handle(replace(DM, text="ideas: sticky notes on the door"))  # typed in the DM
    await core.handle(replace(DM, text="ideas mine", surface="command"))  # /pd ideas mine
    await core.handle(replace(DM, text="ideas mine", surface="action"))  # a button
    assert seen == [
        ("pitch", ""),
        ("pitch", "ideas: sticky notes on the door"),
        ("ideas", "mine"),
        ("ideas", "mine"),
    ]


async def test_a_handler_that_declines_hands_the_message_to_the_library(core, retriever):
    seen: list[tuple[str, str]] = []
    core.register("ideas", _recorder(core, "ideas", seen, decline=True))
    [reply] = await core.handle(replace(DM, text="ideas for warm-ups"))
    assert reply.kind == "answer" and retriever.queries == ["ideas for warm-ups"]


def test_phrases_route_only_when_their_keyword_is_registered():
    assert intents.parse("I have an idea!", frozenset({"pitch"})) == intents.Intent("pitch", "")
    assert intents.parse("I have an idea!").name == "ask"


async def test_forms_build_check_guard_and_submit_through_the_core(core):
    submitted = []

    def guard(who: Incoming) -> None:
        if who.user_id != "STAFF":
            raise PermissionDenied("Only central staff can review ideas.")

    async def submit(who, context, values):
        submitted.append((who.user_id, context, dict(values)))
        return [Reply(text="done")]

    form = Form("note", "Note", "Save", ())
    core.register_form(
        "note",
        FormSpec(
            lambda c: replace(form, context=c),
            lambda v: {} if v.get("n") else {"n": "empty"},
            submit,
            guard,
        ),
    )
    refused = core.form("note", "7", replace(DM, user_id="U1"))
    assert isinstance(refused, Reply) and refused.ephemeral and "central staff" in refused.text
    built = core.form("note", "7", replace(DM, user_id="STAFF"))
    assert isinstance(built, Form) and built.context == "7"
    assert core.check_form("note", {"n": ""}) == {"n": "empty"}
    assert await core.submit_form(replace(DM, user_id="STAFF"), "note", "7", {"n": "x"}) == [
        Reply(text="done")
    ]
    assert submitted == [("STAFF", "7", {"n": "x"})]
    [expired] = await core.submit_form(DM, "gone", "", {})
    assert expired.kind == "error"
    assert isinstance(core.form("gone", "", DM), Reply)


async def test_thread_replies_nobody_knows_are_left_alone(core):
    assert await core.thread_reply(replace(DM, thread_id="1.1")) is None

    async def hook(incoming: Incoming) -> list[Reply] | None:
        raise PermissionDenied("nope")

    core.register_thread_hook(hook)
    [reply] = await core.thread_reply(replace(DM, thread_id="1.1"))
    assert reply.kind == "error" and reply.text == "nope"
