"""Ideas similar to a new pitch, by cosine similarity of title+practice embeddings.

The embedding function is injected by the composition root (ideas never imports retrieval).
Embeddings are stored on each idea; missing or stale ones (another model) are computed here
once and saved with the caller's unit of work.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session

from ideas.service import pack_embedding, unpack_embedding
from ideas.status import Status
from store import Idea

Embed = Callable[[list[str]], np.ndarray]
DEFAULT_MIN_SCORE = 0.55


def idea_text(title: str, practice: str) -> str:
    """The text an idea is embedded by."""
    return f"{title.strip()}\n{practice.strip()}"


def _unit(m: np.ndarray) -> np.ndarray:
    m = np.atleast_2d(np.asarray(m, dtype=np.float32))
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    return m / np.where(norms == 0, 1.0, norms)


def similar_ideas(
    s: Session,
    text: str,
    embed: Embed,
    *,
    k: int = 3,
    min_score: float = DEFAULT_MIN_SCORE,
    embed_model: str = "",
    exclude_id: int | None = None,
    statuses: Collection[str] | None = None,
    vector: np.ndarray | None = None,
) -> list[tuple[Idea, float]]:
    """Up to `k` non-duplicate ideas scoring at least `min_score` against `text`, best first.

    ``statuses`` keeps only ideas in those statuses; ``vector`` is `text` already embedded with
    the same model (a search's query vector), used when its size fits.
    """
    stmt = sa.select(Idea).where(Idea.status != Status.DUPLICATE.value).order_by(Idea.id)
    if exclude_id is not None:
        stmt = stmt.where(Idea.id != exclude_id)
    if statuses is not None:
        stmt = stmt.where(Idea.status.in_([str(x) for x in statuses]))
    ideas = list(s.scalars(stmt))
    if not ideas or not text.strip():
        return []
    known = next((i.embedding for i in ideas if i.embedding_model == embed_model), None)
    fits = vector is not None and known is not None and len(known) == np.size(vector) * 4
    query = _unit(vector if fits else embed([text]))[0]  # type: ignore[arg-type]
    dim = len(query) * 4  # bytes of float32
    stale = [
        i
        for i in ideas
        if i.embedding is None or i.embedding_model != embed_model or len(i.embedding) != dim
    ]
    if stale:
        vectors = _unit(embed([idea_text(i.title, i.practice) for i in stale]))
        for idea, vec in zip(stale, vectors, strict=True):
            idea.embedding = pack_embedding(vec)
            idea.embedding_model = embed_model
        s.flush()
    matrix = _unit(np.stack([unpack_embedding(i.embedding or b"") for i in ideas]))
    scores = matrix @ query
    order = np.argsort(-scores, kind="stable")[:k]
    return [(ideas[j], float(scores[j])) for j in order if scores[j] >= min_score]
