"""A reply's picture (the digest chart) in each renderer: pure functions, plain asserts."""

from __future__ import annotations

import base64

from bot.messages import Image, Reply
from bot.render import blocks, cards, text

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
CHART = Image.of_png(PNG, "Questions per week, 02 Nov: 6", "Questions per week", "week.png")
DIGEST = Reply(text="Staffroom this week", kind="digest", in_thread=False, image=CHART)


def test_teams_puts_the_picture_in_the_card_with_its_alt_text() -> None:
    card = cards.reply_card(DIGEST)
    [image] = [b for b in card["body"] if b["type"] == "Image"]
    assert image["altText"] == "Questions per week, 02 Nov: 6"
    assert base64.b64decode(image["url"].removeprefix("data:image/png;base64,")) == PNG


def test_a_picture_too_big_for_a_teams_card_is_left_out_and_the_text_stays() -> None:
    huge = Image.of_png(PNG * 2000, "a chart")
    card = cards.reply_card(Reply(text="Staffroom this week", image=huge))
    assert not [b for b in card["body"] if b["type"] == "Image"]
    assert cards.size(card) <= cards.MAX_CARD_BYTES and "Staffroom this week" in str(card)


def test_slack_uploads_the_picture_as_a_file_not_a_block() -> None:
    assert not [b for b in blocks.reply_message(DIGEST)["blocks"] if b["type"] == "image"]
    upload = blocks.image_upload(CHART)
    assert upload == {"file": PNG, "filename": "week.png", "title": "Questions per week",
                      "alt_txt": "Questions per week, 02 Nov: 6"}  # fmt: skip


def test_the_terminal_says_what_the_picture_shows() -> None:
    assert text.render(DIGEST).splitlines() == [
        "Staffroom this week",
        "[chart: Questions per week, 02 Nov: 6]",
    ]


def test_a_reply_with_a_picture_survives_the_delivery_ledger_as_json() -> None:
    import json

    assert Reply.from_json(json.loads(json.dumps(DIGEST.to_json()))) == DIGEST
