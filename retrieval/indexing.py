"""What an index holds for a chunk and which model made it; how a new version reuses the last.

- ``index_text``: the text embedded and keyword-indexed, under a short contextual header.
- ``check_model``: the embedding model recorded in an index must be the one searching it.
- ``plan_slots``: which rows of a new version can keep the previous version's slots.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from retrieval.embedder import Embedder, fingerprint_of
from retrieval.types import Chunk, SessionMeta
from retrieval.vector import EXACT_MAX
from staffroom_errors import IndexError_

# An extended index is rebuilt in full once more than this share of its slots is dead (rows
# removed or changed since the last full build): dead slots cost memory and HNSW recall.
MAX_DEAD_SHARE = 0.2


def context_header(session: SessionMeta, heading: str = "") -> str:
    """``"Session title > heading path"``: tells the model what a bare passage is about.

    A transcript passage ("so then I sort them into three piles") means little on its own; under
    "Exit Tickets That Change Tomorrow's Lesson" it matches "how do I use exit tickets".
    """
    parts = [session.title.strip()]
    heading = heading.strip()
    if heading and heading.casefold() != parts[0].casefold():
        parts.append(heading)
    return " > ".join(p for p in parts if p)


def index_text(chunk: Chunk, session: SessionMeta) -> str:
    """The text embedded and BM25-indexed for ``chunk``; deterministic and cheap."""
    header = context_header(session, chunk.heading)
    body = chunk.text.strip()
    return f"{header}\n\n{body}" if header else body


_MODEL_HINT = (
    "Re-index with `staffroom ingest --full` (or `staffroom reindex --full`) to rebuild it with "
    "this model, or set STAFFROOM_EMBED_MODEL back to the model that built it."
)


def check_model(info: Mapping[str, Any], embedder: Embedder) -> None:
    """Refuse (`IndexError_`) an index whose vectors another embedding model made.

    ``info["embedder"]`` (name, dimension, fingerprint) is written by ingest; indexes from
    before it carry only ``model`` and ``snapshot.dim``, and are checked on those.
    """
    built = dict(info.get("embedder") or {})
    built.setdefault("name", info.get("model") or "")
    built.setdefault("dim", (info.get("snapshot") or {}).get("dim") or info.get("dim"))
    chunks = int((info.get("snapshot") or {}).get("chunks") or 0)
    now = fingerprint_of(embedder)
    name_differs = bool(built["name"]) and built["name"] != now["name"]
    dim_differs = chunks > 0 and built["dim"] is not None and int(built["dim"]) != now["dim"]
    weights_differ = bool(built.get("fingerprint")) and bool(now["fingerprint"]) and (
        built["fingerprint"] != now["fingerprint"]
    )
    if not (name_differs or dim_differs or weights_differ):
        return
    then = f"{built['name'] or 'an unnamed model'!r} ({built['dim']} dimensions"
    then += f", {built['fingerprint']})" if built.get("fingerprint") else ")"
    configured = f"{now['name']!r} ({now['dim']} dimensions"
    configured += f", {now['fingerprint']})" if now["fingerprint"] else ")"
    what = "a different copy of the same-named model" if not name_differs and weights_differ else ""
    raise IndexError_(
        f"The index was built with the embedding model {then}, but Staffroom is configured "
        f"with {configured}{'; ' + what if what else ''}: their vectors cannot be compared.",
        hint=_MODEL_HINT,
    )


@dataclass(frozen=True)
class SlotPlan:
    """Row i of the new version lives in slot ``rows[i]``; ``new`` rows get fresh slots."""

    rows: np.ndarray
    new: list[int]
    slots: int  # slots in the extended index, dead ones included

    @property
    def dead(self) -> int:
        return self.slots - len(self.rows)


def plan_slots(previous: Sequence[Hashable], previous_rows: np.ndarray,
               texts: Sequence[Hashable], slots: int) -> SlotPlan:  # fmt: skip
    """Keep the slot of each text the previous version already indexed; append the rest.

    ``previous[i]`` is the previous version's text (or a key standing for it) of row i,
    stored in slot ``previous_rows[i]`` of its ``slots``. A text that appears twice reuses two
    slots.
    """
    free: dict[Hashable, list[int]] = {}
    for text, slot in zip(reversed(previous), reversed(previous_rows.tolist()), strict=True):
        free.setdefault(text, []).append(int(slot))  # reversed: pop() yields the first slot
    rows = np.empty(len(texts), dtype=np.int64)
    new: list[int] = []
    for i, text in enumerate(texts):
        stack = free.get(text)
        if stack:
            rows[i] = stack.pop()
        else:
            rows[i] = slots + len(new)
            new.append(i)
    return SlotPlan(rows, new, slots + len(new))


def plan_extension(
    base: Any, chunks: Sequence[Chunk], sessions: Mapping[str, SessionMeta], vectors: np.ndarray
) -> SlotPlan | None:
    """How to extend ``base``'s indexes (a loaded Snapshot) to ``chunks``; None when a full
    build pays or is needed."""
    old = base.vector_index
    if old.dim != vectors.shape[1]:
        return None
    if old.approximate != (len(chunks) > EXACT_MAX) or not len(chunks):
        return None  # the index kind changes with the size: build the right one
    plan = plan_slots(_text_keys(base.chunks, base.sessions), base.rows,
                      _text_keys(chunks, sessions), old.slots)  # fmt: skip
    if plan.dead > MAX_DEAD_SHARE * plan.slots:
        return None
    kept = [i for i in range(0, len(chunks), max(1, len(chunks) // 64)) if plan.rows[i] < old.slots]
    if not np.allclose(vectors[kept], old.matrix[plan.rows[kept]], atol=1e-5):
        return None  # the vectors given for the same texts differ: another model after all
    return plan


def _text_keys(chunks: Sequence[Chunk], sessions: Mapping[str, SessionMeta]) -> list[tuple]:
    """What ``index_text`` is made of, per chunk: equal keys, equal texts (cheaper to build)."""
    return [(sessions[c.session_id].title, c.heading, c.text) for c in chunks]
