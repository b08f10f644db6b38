"""`staffroom teams-package`: a zip Teams accepts, filled from settings; the pages it links to."""

from __future__ import annotations

import io
import json
import struct
import zipfile
import zlib
from pathlib import Path

import pytest
from PIL import Image

from bot.cli import main
from bot.settings import Settings
from bot.teams_package import build_manifest, problems

APP_ID = "0e0a1c3b-5f2d-4c1e-9a7b-1234567890ab"
ENV = {
    "MICROSOFT_APP_ID": APP_ID,
    "STAFFROOM_PUBLIC_URL": "https://staffroom.riverbend.example/",
    "STAFFROOM_ORG_NAME": "Riverbend Unified",
    "STAFFROOM_CONTACT_EMAIL": "pd@riverbend.example",
}


@pytest.fixture
def configured(monkeypatch, tmp_path) -> Path:
    monkeypatch.chdir(tmp_path)  # no .env of the developer's is read
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    return tmp_path


def rgba_pixels(data: bytes) -> list[tuple[int, ...]]:
    raw = Image.open(io.BytesIO(data)).convert("RGBA").tobytes()
    return [tuple(raw[i : i + 4]) for i in range(0, len(raw), 4)]


def png_header(data: bytes) -> tuple[int, int, int, int]:
    """(width, height, bit depth, colour type) straight from the PNG signature and IHDR."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert (length, kind) == (13, b"IHDR")
    width, height, depth, colour = struct.unpack(">IIBB", data[16:26])
    (crc,) = struct.unpack(">I", data[29:33])
    assert crc == zlib.crc32(data[12:29])
    return width, height, depth, colour


def test_the_package_unzips_to_a_manifest_and_two_valid_icons(configured, capsys) -> None:
    assert main(["teams-package", "-o", "out/staffroom-teams.zip"]) == 0
    assert "Upload it in Teams" in capsys.readouterr().out
    with zipfile.ZipFile(configured / "out" / "staffroom-teams.zip") as zf:
        assert sorted(zf.namelist()) == ["color.png", "manifest.json", "outline.png"]  # no folder
        manifest = json.loads(zf.read("manifest.json"))
        color, outline = zf.read("color.png"), zf.read("outline.png")

    assert png_header(color) == (192, 192, 8, 6)
    assert png_header(outline) == (32, 32, 8, 6)
    full = rgba_pixels(color)
    assert {p[3] for p in full} == {255}  # the colour icon is opaque
    assert len({p[:3] for p in full}) > 2  # a drawing, not a flat square
    pixels = rgba_pixels(outline)
    assert all((r, g, b) == (255, 255, 255) for r, g, b, _ in pixels)  # white only
    alphas = [a for *_, a in pixels]
    assert alphas.count(0) > len(pixels) / 2 and max(alphas) == 255  # transparent background

    assert manifest["icons"] == {"color": "color.png", "outline": "outline.png"}
    for key in ("manifestVersion", "version", "id", "developer", "name", "description",
                "icons", "accentColor"):  # fmt: skip
        assert manifest[key], key
    assert manifest["id"] == manifest["bots"][0]["botId"] == APP_ID
    assert manifest["webApplicationInfo"]["id"] == APP_ID
    assert manifest["validDomains"] == ["staffroom.riverbend.example"]
    assert manifest["developer"] == {
        "name": "Riverbend Unified",
        "websiteUrl": "https://staffroom.riverbend.example/",
        "privacyUrl": "https://staffroom.riverbend.example/privacy",
        "termsOfUseUrl": "https://staffroom.riverbend.example/terms",
    }
    assert manifest["packageName"] == "example.riverbend.staffroom"
    assert len(manifest["name"]["short"]) <= 30 and len(manifest["description"]["short"]) <= 80
    assert len(manifest["description"]["full"]) <= 4000
    assert "Riverbend Unified" in manifest["description"]["full"]
    assert problems(manifest) == []


def test_own_privacy_and_terms_urls_and_names_are_used(configured, monkeypatch) -> None:
    monkeypatch.setenv("STAFFROOM_PRIVACY_URL", "https://riverbend.example/privacy.html")
    monkeypatch.setenv("STAFFROOM_TERMS_URL", "https://riverbend.example/terms.html")
    monkeypatch.setenv("STAFFROOM_APP_NAME", "PD Coach")
    manifest = build_manifest(Settings(_env_file=None), version="2.3.4")
    assert manifest["developer"]["privacyUrl"] == "https://riverbend.example/privacy.html"
    assert manifest["developer"]["termsOfUseUrl"] == "https://riverbend.example/terms.html"
    assert manifest["name"]["short"] == "PD Coach" and manifest["version"] == "2.3.4"
    assert problems(manifest) == []


@pytest.mark.parametrize(
    "env, expected",
    [
        ({"MICROSOFT_APP_ID": ""}, "MICROSOFT_APP_ID is not set"),
        ({"MICROSOFT_APP_ID": "my-bot"}, "'my-bot' is not a GUID (MICROSOFT_APP_ID"),
        ({"STAFFROOM_PUBLIC_URL": ""}, "STAFFROOM_PUBLIC_URL is not set"),
        ({"STAFFROOM_PUBLIC_URL": "http://staffroom.example"}, "must be an https address"),
        ({"STAFFROOM_APP_NAME": "S" * 31}, "name.short (STAFFROOM_APP_NAME) is 31 characters"),
        ({"STAFFROOM_ORG_NAME": "O" * 33}, "developer.name (STAFFROOM_ORG_NAME) is 33 characters"),
        ({"STAFFROOM_PRIVACY_URL": "http://x.example/p"}, "privacyUrl (STAFFROOM_PRIVACY_URL)"),
    ],
)
def test_a_package_teams_would_refuse_is_not_written(
    configured, monkeypatch, capsys, env, expected
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(["teams-package", "-o", "refused.zip"]) == 2
    assert expected in capsys.readouterr().err
    assert not (configured / "refused.zip").exists()


def test_the_checker_knows_the_schemas_required_fields_and_limits(configured) -> None:
    good = build_manifest(Settings(_env_file=None), version="1.0.0")
    assert problems(good) == []
    bad = json.loads(json.dumps(good))
    del bad["accentColor"]
    bad["version"] = "1.0"
    bad["description"]["full"] = "x" * 4001
    bad["validDomains"] = ["https://staffroom.riverbend.example/path"]
    bad["bots"][0]["commandLists"][0]["commands"] *= 2
    found = "\n".join(problems(bad))
    for expected in ("accentColor is missing", "version '1.0' is not MAJOR.MINOR.PATCH",
                     "description.full is 4001 characters; at most 4000",
                     "must be a bare host name", "more than 10 commands"):  # fmt: skip
        assert expected in found


def test_the_pages_name_the_district_and_what_is_sent(configured, monkeypatch) -> None:
    from bot.pages import privacy_html, terms_html

    settings = Settings(_env_file=None)
    privacy = privacy_html(settings)
    assert "Riverbend Unified" in privacy and "mailto:pd@riverbend.example" in privacy
    assert "does not send your questions to any language model" in privacy
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("OPENAI_BASE_URL", "https://llm.riverbend.example/v1")
    assert "(llm.riverbend.example)" in privacy_html(Settings(_env_file=None))
    monkeypatch.setenv("STAFFROOM_ORG_NAME", "<b>Evil</b>")
    assert "<b>Evil</b>" not in terms_html(Settings(_env_file=None))
