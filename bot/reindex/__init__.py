"""Re-indexing the session library under one database lock, from every entry point.

    job.py    claim the ``reindex`` lock, build in this thread (renewing it), record the run;
              progress and summary texts; the index and last-run ``status``
    watch.py  ``staffroom reindex [--watch]``: once, or whenever the library folder changes

``staffroom ingest``, ``staffroom reindex`` and an admin's ``reindex`` in chat
(``bot/flows/reindex.py``) all take the same lock, so two builds never run at once.
"""
