"""The replicas benchmark's plumbing: `staffroom serve` child processes, PostgreSQL control, and
its section of bench/RESULTS.md (``bench/replicas.py`` runs the scenarios)."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from bench.slack_load import _free_port

ROOT = Path(__file__).resolve().parents[1]
STAFFROOM = str(ROOT / ".venv/bin/staffroom")
LEASE_S = 10.0  # STAFFROOM_ANSWER_LEASE_SECONDS for the replicas (they sweep every third of it)
MARK_START, MARK_END = "<!-- replicas:start -->", "<!-- replicas:end -->"


@dataclass
class Replica:
    """One `staffroom serve` child process on its own port (restartable on the same port)."""

    env: dict[str, str]
    log: Path
    port: int = field(default_factory=_free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {**self.env, "STAFFROOM_PORT": str(self.port)}
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen([STAFFROOM, "serve"], env=env, cwd=ROOT, stdout=out,
                                         stderr=subprocess.STDOUT)  # fmt: skip

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()


async def ready(session: aiohttp.ClientSession, replica: Replica, timeout: float) -> float:
    """Seconds until ``replica``'s /readyz says 200 (raises after ``timeout``)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            async with session.get(replica.url + "/readyz") as response:
                if response.status == 200:
                    return time.monotonic() - started
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.2)
    raise TimeoutError(f"replica on {replica.port} not ready after {timeout:.0f}s")


# The cluster the benchmark restarts: "main" (127.0.0.1:5432), or one of its own
# (`--pg-cluster bench --pg-port 5433`) so that a shared server is not restarted under others.
CLUSTER = {"name": "main"}


def pg_cluster() -> tuple[str, str]:
    version = sorted(os.listdir("/etc/postgresql"), key=float)[-1]
    return version, CLUSTER["name"]


def pg_ctl(action: str) -> None:
    version, name = pg_cluster()
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, name, action],
                   check=False, capture_output=True)  # fmt: skip


def pg_online() -> bool:
    version, name = pg_cluster()
    out = subprocess.run(["pg_lsclusters", "--no-header"], capture_output=True, text=True).stdout
    return any(
        line.split()[:2] == [version, name] and "online" in line for line in out.splitlines()
    )


def report(result: dict[str, Any], args: argparse.Namespace) -> str:
    lines = [MARK_START, "## Replicas on PostgreSQL (`python bench/replicas.py`)", "",
             f"Two `staffroom serve` replicas (real index of examples/library and model, one shared "
             f"data dir) on one PostgreSQL database, loopback, {os.cpu_count()} CPU cores shared "
             "with the load generator and the fakes of Slack and the Bot Connector. Slack mentions "
             "(signed) and Teams personal messages (no-auth local mode) mixed half and half, each "
             "sent to a random replica; each Slack event retried (same event_id) to the other "
             "replica. Answers counted at the fakes.", "",
             "| offered | sent for | answered/s | ack p50 | ack p99 | questions | lost | duplicated |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]  # fmt: skip
    for row in result["load"]["rows"]:
        lines.append(f"| {row['rate']}/s | {args.seconds:.0f} s | {row['answered_per_s']} | "
                     f"{row['ack_p50_ms']} ms | {row['ack_p99_ms']} ms | {row['questions']} | "
                     f"{row['lost']} | {row['duplicated']} |")  # fmt: skip
    k, p = result["kill_mid_answer"], result["pg_restart"]
    lines += ["", "| fault | result |", "| --- | --- |",
              f"| SIGKILL a replica right after acking a burst of {k['burst']} questions (half "
              f"Slack, half Teams); Slack's retries sent to the other | {k['lost']} lost "
              f"({k['lost_slack']} Slack, {k['lost_teams']} Teams), {k['duplicated']} duplicated; "
              f"{k['answered_before_kill']} answered before the kill, {k['answered_late']} "
              f"answered late by the other replica, all answered {k['all_answered_after_kill_s']} s "
              f"after the kill (lease {LEASE_S:.0f} s); restarted replica ready in "
              f"{k['restarted_ready_s']} s |"]  # fmt: skip
    for pitch in result["kill_mid_pitch"]:
        lines.append(f"| DM pitch alternating replicas, one SIGKILLed after step "
                     f"{pitch['killed_after_step'] + 1} of {pitch['steps']} | questions in order "
                     f"{pitch['questions_in_order']}, steps without a reply "
                     f"{pitch['steps_without_reply']}, submitted: {pitch['submitted']}, ideas "
                     f"created {pitch['ideas_created']}, review posts {pitch['review_posts']} |")  # fmt: skip
    if "checkins" in result:
        from bench.replicas_checkins import report_row

        lines.append(report_row(result["checkins"]))
    lines += [
        f"| PostgreSQL restarted ({p['restart_s']} s) during {args.seconds:.0f} s of "
        f"load at {p['rate']}/s | {p['lost']} of {p['questions']} lost ({p['lost_slack']} Slack), "
        f"{p['error_reply_only']} got only the “could not reach its database” reply, "
        f"{p['duplicated']} answered twice ({p['duplicated_slack']} Slack), "
        f"{p['failed_acks']} failed acks {p['failed_ack_kinds']}; readyz 200 on "
        f"both {p['readyz_200_after_restart_s']} s after the restart returned; next questions answered "
        f"{p['next_questions_answered']} |"
    ]
    lines += ["", "Each replica claims a message in the shared database before it answers, and "
              "the claim keeps what is needed to answer it (the neutral message, where the reply "
              "goes) until the reply is posted. Slack's retry of a claimed event is dropped; "
              "Teams does not redeliver after its 200. A claim not answered within "
              f"`STAFFROOM_ANSWER_LEASE_SECONDS` ({LEASE_S:.0f} s here) is taken over at the next "
              "sweep by a live replica, which answers in the same thread with a note that the "
              "answer is late (`bot/delivery/pipeline.py`)."]  # fmt: skip
    if p["duplicated_slack"] or p["error_reply_only"]:
        lines += ["", "While PostgreSQL is down, database calls are retried for up to "
                  "`STAFFROOM_DB_PATIENCE_SECONDS` (15 s); a claim that still cannot be checked "
                  "answers anyway (a retry may then be answered twice rather than lost), and a "
                  "turn that still cannot reach the database gets the “could not reach its "
                  "database” reply."]  # fmt: skip
    lines.append(MARK_END)  # fmt: skip
    return "\n".join(lines)


def write(path: Path, section: str) -> None:
    text = path.read_text(encoding="utf-8")
    start = text.find("\nNot yet measured:")
    if start != -1:
        end = text.find("\n\n", start + 1)
        text = text[:start] + (text[end:] if end != -1 else "\n")
    if MARK_START in text and MARK_END in text:
        head, rest = text.split(MARK_START, 1)
        text = head + section + rest.split(MARK_END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text, encoding="utf-8")
