"""``staffroom flags list|clear FILE|withhold FILE``: instruction-like text found at ingest."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def add(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "flags",
        parents=[common],
        help="library files with instruction-like text: list, clear FILE, withhold FILE",
    )
    p.add_argument("action", choices=["list", "clear", "withhold"])
    p.add_argument("file", nargs="?", help="library file, relative to the library root")
    p.set_defaults(func=cmd_flags)


def status_lines(index_dir: Path) -> list[str]:
    """What `staffroom status` says about instruction-like passages found at ingest."""
    from retrieval.flags import Clearances, published_flags, withheld_sources

    flags = published_flags(index_dir)
    if flags is None:
        return ["flagged        not checked (index built before checking; run `staffroom ingest`)"]
    withheld = withheld_sources(flags, Clearances(index_dir).read())
    lines = [f"flagged        {len(withheld)} files withheld, {len(flags) - len(withheld)} cleared"]
    lines += [f"  withheld     {path}: {flags[path].note}" for path in sorted(withheld)]
    if withheld:
        lines.append("  review them, then `staffroom flags clear FILE`")
    return lines


def cmd_flags(args: argparse.Namespace) -> int:
    from bot.commands import settings_from
    from retrieval.flags import Clearances, published_flags
    from retrieval.snapshot import IndexRoot
    from staffroom_errors import IndexError_, InputError

    settings = settings_from(args)
    if IndexRoot(settings.index_dir).current() is None:
        raise IndexError_(
            f"No index in {settings.index_dir}.", hint="Run `staffroom ingest PATH` first."
        )
    flags = published_flags(settings.index_dir)
    if flags is None:
        raise IndexError_(
            "This index was built before instruction-like text was checked.",
            hint="Run `staffroom ingest` to check the library.",
        )
    clearances = Clearances(settings.index_dir)
    if args.action == "list":
        cleared = clearances.read()
        if not flags:
            print("No library file has instruction-like text.")
        for path, f in sorted(flags.items()):
            state = "cleared " if f.sha256 and cleared.get(path) == f.sha256 else "withheld"
            print(f"{state}  {path}: {f.note}")
        return 0
    if not args.file:
        raise InputError(f"Name the file: staffroom flags {args.action} FILE")
    path = args.file.replace("\\", "/").strip()
    if path not in flags:
        raise InputError(
            f"{path} has no flagged passages in the live index.",
            hint="`staffroom flags list` shows the flagged files (paths relative to the library).",
        )
    if args.action == "clear":
        clearances.clear(path, flags[path].sha256)
        print(
            f"cleared {path}: its passages are shown and offered to the LLM again "
            "(until the file changes)"
        )
    elif clearances.revoke(path):
        print(f"withheld {path} again")
    else:
        print(f"{path} was not cleared; it stays withheld")
    return 0
