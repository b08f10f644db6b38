"""The README documents every setting (its environment variable appears in the table)."""

from pathlib import Path

from bot.settings import Settings

README = Path(__file__).resolve().parents[1] / "README.md"


def _env_name(name: str, field) -> str:
    alias = field.validation_alias
    if alias is not None:
        return alias.choices[0]
    return f"STAFFROOM_{name.upper()}"


def test_every_setting_is_documented_in_the_readme():
    text = README.read_text(encoding="utf-8")
    missing = [
        _env_name(name, field)
        for name, field in Settings.model_fields.items()
        if f"`{_env_name(name, field)}`" not in text
    ]
    assert not missing, f"README's configuration table lacks: {missing}"


def test_every_setting_has_a_description():
    assert all(field.description for field in Settings.model_fields.values())


def test_platform_variables_keep_their_conventional_names(monkeypatch):
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://u@h/db")
    monkeypatch.setenv("STAFFROOM_DATA_DIR", "/tmp/staffroom-docs-test")
    settings = Settings(_env_file=None)
    assert settings.slack_bot_token == "xoxb-test"
    assert settings.database_url == "postgresql+psycopg://u@h/db"
    assert str(settings.data_dir) == "/tmp/staffroom-docs-test"
