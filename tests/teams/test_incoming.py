"""Teams activities -> Incoming: mentions, reply chains, users, redelivery keys."""

from __future__ import annotations

from bot.teams import incoming
from tests.teams.conftest import ANN, BOT, channel_mention, personal_message

URL = "https://smba.example/amer/"


def test_our_mention_is_removed_and_others_become_names():
    activity = {
        "text": "<at>Staffroom</at> ask <at>Ben</at> about &amp; wait time",
        "recipient": BOT,
        "entities": [
            {"type": "mention", "text": "<at>Staffroom</at>", "mentioned": BOT},
            {"type": "mention", "text": "<at>Ben</at>", "mentioned": {"id": "29:ben"}},
            "not-an-entity",
        ],
    }
    assert incoming.plain_text(activity) == "ask @Ben about & wait time"


def test_a_channel_mention_answers_in_its_thread():
    top = channel_mention(URL, "exit tickets")
    got = incoming.from_message(top)
    assert got.conversation_id == "19:general@thread.tacv2"
    assert got.thread_id == top["id"] and got.surface == "mention"
    reply = channel_mention(URL, "more?", root="1699")
    assert incoming.from_message(reply).thread_id == "1699"


def test_a_personal_message_is_a_dm_by_aad_object_id():
    got = incoming.from_message(personal_message(URL, "hi"))
    assert (got.user_id, got.user_name, got.thread_id, got.surface) == (
        "aad-ann",
        "Ann Lee",
        "",
        "dm",
    )
    no_aad = personal_message(URL, "hi", sender={"id": "29:guest"})
    assert incoming.from_message(no_aad).user_id == "29:guest"


def test_conversation_ids_split_and_join():
    assert incoming.split_conversation("19:a@thread.tacv2;messageid=17") == (
        "19:a@thread.tacv2",
        "17",
    )
    assert incoming.join_conversation("19:a@thread.tacv2", "17") == "19:a@thread.tacv2;messageid=17"
    assert incoming.join_conversation("a:1x", "") == "a:1x"


def test_event_keys_are_short_stable_and_per_conversation():
    activity = personal_message(URL, "hi", sender=ANN)
    key = incoming.event_key(activity)
    assert key == incoming.event_key(dict(activity)) and len(key) <= 64
    other = {**activity, "conversation": {"id": "a:other"}}
    assert incoming.event_key(other) != key
