"""Shared test set-up.

Fixtures live in plugin modules by area so several people can work on them at once:
  tests/fixtures_retrieval.py  real (once per run) and fake embedders, small libraries
  tests/fixtures_db.py         SQLite and PostgreSQL databases, migrated
"""

import os

# Never reach a model hub or the internet from a test run.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

pytest_plugins = [
    "tests.fixtures_retrieval",
    "tests.fixtures_db",
]
