"""Idea cards, forms and buttons in Block Kit and in the terminal: pure renderers, plain asserts."""

from __future__ import annotations

import json

from bot.flows.pitch_form import check_pitch, pitch_form
from bot.messages import OPEN_FORM, SAY, Action, IdeaCard, Reply
from bot.render import blocks, text

CARD = IdeaCard(
    number=12,
    title="<!channel> Exit *tickets*",
    status="under review",
    author="Ana <@U1>",
    lines=(("The practice", "Sort & regroup\x1b[31m"),),
    will_try=2,
    tried=1,
    question="How might we <b>?",
    sessions=("“Exit Tickets” covers this at 12:30",),
    history=tuple(f"event {n}" for n in range(15)),
)


def test_idea_card_blocks_escape_user_text_and_count_classrooms():
    reply = Reply(text="x", answer="Idea #12", ideas=(CARD,))
    shown = json.dumps(blocks.reply_blocks(reply), ensure_ascii=False)
    assert "&lt;!channel&gt; Exit *tickets*" in shown
    assert "<!channel>" not in shown and "<@U1>" not in shown and "<b>" not in shown
    assert "Sort &amp; regroup" in shown
    assert "Tried in 1 classroom · 🙋 2 would try it" in shown
    assert "…5 earlier" in shown and "event 14" in shown and "event 4\\n" not in shown


def test_buttons_sharing_an_action_id_get_unique_ids_and_keep_their_values():
    reply = Reply(
        text="x",
        actions=(Action(SAY, "Pilot", "triage 1 pilot"), Action(SAY, "Scale", "triage 1 scale")),
    )
    [actions] = [b for b in blocks.reply_blocks(reply) if b["type"] == "actions"]
    ids = [e["action_id"] for e in actions["elements"]]
    assert ids == [f"{SAY}.0", f"{SAY}.1"]
    assert [e["value"] for e in actions["elements"]] == ["triage 1 pilot", "triage 1 scale"]


def test_form_view_round_trips_metadata_and_values():
    form = pitch_form("3")
    view = blocks.form_view(form, {"form": form.form_id, "context": form.context})
    assert view["callback_id"] == blocks.FORM_CALLBACK
    assert json.loads(view["private_metadata"]) == {"form": "pitch", "context": "3"}
    inputs = [b for b in view["blocks"] if b["type"] == "input"]
    assert [b["optional"] for b in inputs] == [False] * 5 + [True]
    assert all(len(b["element"]["placeholder"]["text"]) <= 150 for b in inputs)
    submitted = {"state": {"values": {"title": {"value": {"value": "T"}}, "help_needed": {}}}}
    assert blocks.form_values(submitted) == {"title": "T", "help_needed": ""}


def test_pitch_form_check_uses_the_chat_rules():
    errors = check_pitch({"title": "ok", "practice": "p" * 2001, "problem": " ", "evidence": "e"})
    assert set(errors) == {"practice", "problem", "audience"}
    assert "limit is 2,000" in errors["practice"]


def test_terminal_shows_cards_typed_options_and_never_obeys_control_characters():
    reply = Reply(
        text="x",
        answer="Idea #12",
        ideas=(CARD,),
        actions=(
            Action(SAY, "Back", "pitch back"),
            Action(OPEN_FORM, "Decline…", "decline|12:new", typed="triage 12 decline <why>"),
            Action(OPEN_FORM, "Use a form", "pitch|"),
        ),
    )
    out = text.render(reply)
    assert "#12 <!channel> Exit *tickets* — under review" in out
    assert "Tried in 1 classroom · 2 would try it" in out
    assert "Back (`pitch back`) · Decline… (`triage 12 decline <why>`)" in out
    assert "Use a form" not in out
    assert "\x1b" not in out and "\\x1b[31m" in out
