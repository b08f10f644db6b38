"""Publishing an adopted idea into the sample library with the real model: how long a
publication takes (write + incremental re-index + audit + notifications), and where the new
session ranks for questions about it.

Run: ``.venv/bin/python bench/publish.py`` (the bundled model on the CPU; a copy of
examples/library in a temporary folder, SQLite).
"""

from __future__ import annotations

import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

ROOT = Path(__file__).resolve().parents[1]
RUNS = 3
IDEA = {
    "title": "Phone hotel at the classroom door",
    "practice": "Students park their phones in a numbered pocket chart by the door as they come "
    "in and collect them at the bell; a full hotel earns the class a point toward Friday.",
    "problem": "Phones came out all period and nagging did not work.",
    "evidence": "Phone-outs logged per period fell from 14 to 2 in three weeks.",
    "school": "Eastside High School",
}
TRANSCRIPT = """WEBVTT

00:00:04.000 --> 00:00:30.000
The phone hotel is a pocket chart by the door, one numbered pocket per student.

00:00:30.000 --> 00:01:05.000
Students check their phones in as they enter and check them out at the bell.
"""
QUESTIONS = (
    "students keep pulling out their phones in class",
    "cell phone policy that actually works",
    "how do I stop phones being a distraction",
)


async def main() -> None:
    import ideas
    from bot.flows.publish import PublishDeps, Publisher, PublishRequest
    from ingest import build_index
    from retrieval.embedder import SentenceTransformerEmbedder
    from retrieval.search import Searcher
    from store import Database
    from store.migrate import upgrade
    from store.runner import Runner
    from tests.bot.fakes import FakeRetriever
    from tests.scenarios.harness import RecordingCourier

    embedder = SentenceTransformerEmbedder(device="cpu")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        library, index = work / "library", work / "index"
        shutil.copytree(ROOT / "examples" / "library", library)
        started = time.perf_counter()
        build_index(library, index, embedder)
        print(f"first build of the sample library: {time.perf_counter() - started:.1f} s")
        url = f"sqlite:///{work}/bench.db"
        upgrade(url)
        db = Database.from_url(url)
        staff = ideas.Actor("slack", "USTAFF", "Sam")
        with db.session() as s:
            idea = ideas.submit_idea(s, IDEA, author=ideas.Actor("slack", "UAUTH", "Dana"))
            for action in ("start_review", "pilot", "scale", "adopt"):
                ideas.transition(s, idea.id, action, actor=staff)
            for n in range(20):
                ideas.vote_try(s, idea.id, ideas.Actor("slack", f"UV{n}"))
            number = idea.id
        (work / "talk.vtt").write_text(TRANSCRIPT)
        from bot.core import Core
        from bot.records import SqlRecords

        core = Core(FakeRetriever(), SqlRecords(db), db=Runner(db))
        core.delivery.register("slack", RecordingCourier())
        publisher = Publisher(
            PublishDeps(
                db=Runner(db), database=db, delivery=core.delivery,
                directory=ideas.StaffRoster(ideas.Roles.parse("slack:USTAFF")),
                library=library, index_dir=index, embedder=lambda: embedder,
            )
        )  # fmt: skip
        took, told = [], []
        for run in range(RUNS):
            request = PublishRequest(number, f"https://video.example/phone-hotel?v={run}",
                                     transcript=work / "talk.vtt")  # fmt: skip
            started = time.perf_counter()
            done = await publisher.publish(staff, request)
            took.append(time.perf_counter() - started)
            told.append(done.told)
            summary = done.outcome.summary
            assert summary is not None
            print(f"run {run + 1}: {took[-1]:.2f} s, embedded {summary.embedded} chunks, "
                  f"told {done.told}")  # fmt: skip
        core.close()
        db.dispose()
        searcher = Searcher(index, embedder)
        for question in QUESTIONS:
            found = searcher.search(question, k=5)
            ids = [r.session.session_id for r in found.results]
            rank = ids.index(f"field-idea-{number}") + 1 if f"field-idea-{number}" in ids else None
            print(f"rank {rank} (good match {found.good_match}): {question!r}")
    print(f"publish median {statistics.median(took):.2f} s over {RUNS} runs; told {told}")


if __name__ == "__main__":
    asyncio.run(main())
