"""``staffroom`` verbs beyond the core few, one module per area.

Each module has ``add(sub, common)``, which adds its sub-command(s) to the parser; ``bot.cli``
calls them. Heavy imports stay inside the command functions so ``--help`` stays instant.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.settings import Settings


def settings_from(args: argparse.Namespace) -> Settings:
    """The settings, with `--data-dir` applied; a bad setting is one friendly error."""
    from pydantic import ValidationError

    from bot.settings import Settings, env_name
    from staffroom_errors import ConfigError

    overrides: dict[str, Any] = {}
    if getattr(args, "data_dir", None):
        overrides["data_dir"] = Path(args.data_dir)
    for flag in ("host", "port"):  # `serve --host/--port` win over STAFFROOM_HOST/PORT
        if getattr(args, flag, None) is not None:
            overrides[flag] = getattr(args, flag)
    try:
        return Settings(**overrides)
    except ValidationError as err:  # one line per bad setting, never a traceback
        problems = "; ".join(f"{env_name(str(e['loc'][0]))}: {e['msg']}" for e in err.errors())
        raise ConfigError(f"Bad settings: {problems}.") from err
