"""Slack load: N concurrent signed mention events against a running `staffroom serve`.

Starts a local fake of the Slack Web API in this process and `staffroom serve` as a child
process on loopback (its SLACK_API_URL pointing at the fake), then sends rounds of
``--concurrency`` signed app_mention events at once, each followed by a Slack-style retry
(same event_id, X-Slack-Retry-Num: 1). It reports ack latency (HTTP response time) p50/p99,
time to answer (send -> chat.postMessage seen by the fake) p50/p95, and events lost or
answered twice. Bounded in count (--rounds x --concurrency) and time (--timeout).

    .venv/bin/python bench/slack_load.py --data-dir .staffroom        # needs an ingested index
    .venv/bin/python bench/slack_load.py --ingest examples/library     # builds one in a temp dir
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.slack.conftest import event_body, mention, signed  # noqa: E402
from tests.slack.fake_slack import FakeSlack  # noqa: E402

SECRET = "bench-signing-secret"
QUESTIONS = (
    "how do I get quiet kids talking in math?",
    "exit tickets with 32 kids",
    "station rotation with few chromebooks",
    "restorative circle after a conflict",
    "how long should I wait after asking a question",
    "sentence frames for english learners",
    "checking in on students' feelings quickly",
    "how do I give feedback students actually use",
)
MARK_START, MARK_END = "<!-- slack_load:start -->", "<!-- slack_load:end -->"


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0-100), linear between ranks; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _wait_healthy(url: str, child: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            if child.poll() is not None:
                raise SystemExit(f"staffroom serve exited with {child.returncode}")
            try:
                async with session.get(url) as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    raise SystemExit(f"staffroom serve not healthy after {timeout:.0f}s")


async def _round(
    session: aiohttp.ClientSession,
    url: str,
    fake: FakeSlack,
    n: int,
    base: int,
    sent_at: dict[str, float],
) -> list[float]:
    """Send ``n`` mentions at once (each then retried); return the ack latencies."""

    async def one(i: int) -> list[float]:
        ts = f"1700000000.{base + i:06d}"
        event = mention(QUESTIONS[(base + i) % len(QUESTIONS)], ts=ts, channel=f"C{base + i:04d}")
        body = event_body(event, event_id=f"EvBench{base + i:06d}")
        acks = []
        for retry in (None, 1):
            headers = signed(body, "application/json", secret=SECRET, retry=retry)
            started = time.perf_counter()
            if retry is None:
                sent_at[ts] = started
            async with session.post(url, data=body.encode(), headers=headers) as response:
                await response.read()
                if response.status != 200:
                    raise SystemExit(f"event {ts} got HTTP {response.status}")
            acks.append(time.perf_counter() - started)
        return acks

    results = await asyncio.gather(*(one(i) for i in range(n)))
    return [a for pair in results for a in pair]


async def bench(args: argparse.Namespace, data_dir: Path) -> dict[str, object]:
    fake = FakeSlack()
    await fake.start()
    port = _free_port()
    env = {
        **os.environ,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_BOT_TOKEN": "xoxb-bench",
        "SLACK_API_URL": fake.api_url,
        "STAFFROOM_DATA_DIR": str(data_dir),
        "STAFFROOM_HOST": "127.0.0.1",
        "STAFFROOM_PORT": str(port),
        "STAFFROOM_LOG_LEVEL": "WARNING",
        "DATABASE_URL": args.database_url or f"sqlite:///{data_dir / 'bench.db'}",
        "OPENAI_API_KEY": "",
        "HF_HUB_OFFLINE": "1",
    }
    child = subprocess.Popen([str(ROOT / ".venv/bin/staffroom"), "serve"], env=env, cwd=ROOT)
    answered_at: dict[str, list[float]] = {}
    acks: list[float] = []
    sent_at: dict[str, float] = {}
    deadline = time.monotonic() + args.timeout
    try:
        await _wait_healthy(f"http://127.0.0.1:{port}/healthz", child, 180)
        url = f"http://127.0.0.1:{port}/slack/events"

        def collect(f: FakeSlack) -> bool:
            for call in f.of("chat.postMessage")[sum(len(v) for v in answered_at.values()) :]:
                answered_at.setdefault(str(call.params.get("thread_ts")), []).append(
                    time.perf_counter()
                )
            return False

        async with aiohttp.ClientSession() as session:
            for r in range(args.rounds):
                if time.monotonic() > deadline:
                    break
                base = r * args.concurrency
                acks += await _round(session, url, fake, args.concurrency, base, sent_at)
                want = base + args.concurrency
                try:
                    await fake.wait_for(
                        lambda f, want=want: collect(f) or len(answered_at) >= want,
                        max(1.0, deadline - time.monotonic()),
                    )
                except TimeoutError:
                    break
            # Give straggling duplicates a moment to show up before counting.
            await asyncio.sleep(1.0)
            collect(fake)
    finally:
        child.terminate()
        try:
            child.wait(timeout=20)
        except subprocess.TimeoutExpired:
            child.kill()
        await fake.close()
    answers = [min(v) - sent_at[ts] for ts, v in answered_at.items() if ts in sent_at]
    return {
        "events": len(sent_at),
        "requests": len(acks),
        "ack_p50_ms": round(percentile(acks, 50) * 1000, 1),
        "ack_p99_ms": round(percentile(acks, 99) * 1000, 1),
        "answer_p50_s": round(percentile(answers, 50), 3),
        "answer_p95_s": round(percentile(answers, 95), 3),
        "lost": len(set(sent_at) - set(answered_at)),
        "answered_twice": sum(1 for v in answered_at.values() if len(v) > 1),
        "concurrency": args.concurrency,
        "rounds": args.rounds,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }


def _report(result: dict[str, object]) -> str:
    ok = (
        float(result["ack_p99_ms"]) < 300  # type: ignore[arg-type]
        and float(result["answer_p50_s"]) < 1.5  # type: ignore[arg-type]
        and result["lost"] == 0
        and result["answered_twice"] == 0
    )
    return "\n".join(
        [
            MARK_START,
            "## Slack load (`bench/slack_load.py`)",
            "",
            f"{result['rounds']} rounds × {result['concurrency']} concurrent signed app_mention events, each "
            f"retried once with the same event_id; `staffroom serve` (SQLite, real index and model) on loopback, "
            f"{result['cpus']} CPU cores, fake Slack Web API in the load process.",
            "",
            "| ack p50 | ack p99 | answer p50 | answer p95 | events | lost | answered twice | target met |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |",
            f"| {result['ack_p50_ms']} ms | {result['ack_p99_ms']} ms | {result['answer_p50_s']} s | "
            f"{result['answer_p95_s']} s | {result['events']} | {result['lost']} | {result['answered_twice']} | "
            f"{'yes' if ok else 'no'} |",
            "",
            "Target: ack p99 < 300 ms and answer p50 < 1.5 s at 20 concurrent questions on 2 cores, none lost "
            "or answered twice.",
            MARK_END,
        ]
    )


def _write(path: Path, section: str) -> None:
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n"
    if MARK_START in text and MARK_END in text:
        head, rest = text.split(MARK_START, 1)
        text = head + section + rest.split(MARK_END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text, encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=120, help="seconds for all rounds")
    parser.add_argument("--data-dir", type=Path, help="a data dir with an ingested index")
    parser.add_argument(
        "--ingest", type=Path, help="ingest this library into a temp data dir first"
    )
    parser.add_argument("--database-url", default="", help="default: SQLite in the data dir")
    parser.add_argument(
        "--write", type=Path, help="update this results file (e.g. bench/RESULTS.md)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="staffroom-bench-") as tmp:
        data_dir = args.data_dir or Path(tmp)
        if args.ingest:
            subprocess.run(
                [
                    str(ROOT / ".venv/bin/staffroom"),
                    "--data-dir",
                    str(data_dir),
                    "ingest",
                    str(args.ingest),
                ],
                check=True,
            )
        if not args.data_dir and not args.ingest:
            parser.error("give --data-dir (an ingested index) or --ingest LIBRARY")
        if args.data_dir:
            # Keep the bench's database out of a real deployment's data dir.
            args.database_url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        result = asyncio.run(bench(args, data_dir))
    print(json.dumps(result, indent=2))
    section = _report(result)
    print(section)
    if args.write:
        _write(args.write, section)
    return 0 if result["lost"] == 0 and result["answered_twice"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
