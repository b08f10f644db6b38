"""Is a message about teaching at all? Off-topic (HR, buildings, weather) vs a content gap.

A question nothing in the library answers is either a *content gap* (about teaching: the PD
team wants to hear of it) or *off-topic* (payroll, parking, the weather: noise in the gap log).
``ScopeClassifier`` compares the message with two sets of prototype sentences written for this
purpose, one describing teaching and learning broadly (far beyond the sample library, so a
question on phonics or lab safety still reads as teaching), one describing a school employee's
other business. The score is the mean of the three closest prototypes of each set, and the
message is off-topic when the off-topic side wins by more than ``OFF_TOPIC_MARGIN``
(calibrated by bench/conversations.py on queries.yaml and scope.yaml).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np

from retrieval.embedder import Embedder

TEACHING: tuple[str, ...] = (
    "how do I teach this lesson so students understand it",
    "my students are not paying attention in class",
    "how do I manage student behavior in my classroom",
    "how can I help students who are struggling to learn",
    "ideas for an engaging classroom activity",
    "how do I check what my students learned",
    "grading student work and giving feedback",
    "how do I plan a unit for my class",
    "teaching reading, writing and phonics to children",
    "teaching math problem solving to students",
    "teaching a science lab to students",
    "teaching history and social studies",
    "supporting students with disabilities and IEPs",
    "helping English learners in my class",
    "students' social and emotional needs",
    "talking with parents about their child's progress",
    "group work and class discussion",
    "motivating students to do their work",
    "differentiating instruction for different levels",
    "students using technology and devices in class",
    "homework, tests and studying",
    "classroom routines and procedures",
    "a student who is upset, anxious or in conflict",
    "co-teaching and working with other teachers on lessons",
    "exit tickets, warm-ups and quick quizzes",
    "bell ringers and do-now activities at the start of class",
    "asking questions and calling on students",
    "phone calls, emails and conferences with families",
    "planning lessons with my co-teacher or grade-level team",
    "student projects, presentations and rubrics",
    "independent reading, reading groups and the classroom library",
    "is there a PD session or training on this teaching practice",
)

OFF_TOPIC: tuple[str, ...] = (
    "how do I request a day off or a substitute",
    "a question about my paycheck or direct deposit",
    "sick leave, personal days and vacation days",
    "health insurance, benefits and retirement enrollment",
    "getting reimbursed for expenses or mileage",
    "my duty schedule for bus, lunch or recess duty",
    "parking, keys and badges at the building",
    "the copier or printer is broken",
    "I can't log in to my email or account",
    "the heating or air conditioning in the building is broken",
    "what's the weather forecast",
    "when is the staff meeting",
    "the school calendar, holidays and snow days",
    "forms, deadlines and paperwork for the office",
    "booking a room, the gym or the computer lab",
    "what's for lunch in the cafeteria",
    "sports scores and games",
    "restaurants and places to eat nearby",
    "tell me a joke",
    "hello, how are you today",
)

# Off-topic when mean-top-3 similarity to OFF_TOPIC exceeds TEACHING by more than this.
OFF_TOPIC_MARGIN = 0.0
_TOP = 3


class ScopeClassifier:
    """Off-topic vs teaching over embeddings of the prototype sentences (embedded once)."""

    def __init__(self, embedder: Embedder, *, margin: float = OFF_TOPIC_MARGIN) -> None:
        self.embedder = embedder
        self.margin = margin
        self._protos: tuple[np.ndarray, np.ndarray] | None = None
        self._lock = threading.Lock()

    def _prototypes(self) -> tuple[np.ndarray, np.ndarray]:
        with self._lock:
            if self._protos is None:
                vectors = self.embedder.embed_queries([*TEACHING, *OFF_TOPIC])
                self._protos = (vectors[: len(TEACHING)], vectors[len(TEACHING) :])
            return self._protos

    def similarities(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Per text: (similarity to teaching, similarity to off-topic), each a top-3 mean."""
        if not texts:
            empty = np.zeros(0, dtype=np.float32)
            return empty, empty
        return self.similarities_of(self.embedder.embed_queries(list(texts)))

    def similarities_of(self, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``similarities`` for query vectors already embedded (rows, unit length)."""
        teach, off = self._prototypes()
        vectors = np.atleast_2d(vectors)
        return _top_mean(vectors @ teach.T), _top_mean(vectors @ off.T)

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        """Per text: off-topic similarity minus teaching similarity (> margin: off-topic)."""
        teach, off = self.similarities(texts)
        return off - teach

    def off_topic(self, text: str) -> bool:
        """True when ``text`` is not about teaching (never a content gap)."""
        return bool(self.scores([text])[0] > self.margin)


def _top_mean(sims: np.ndarray) -> np.ndarray:
    k = min(_TOP, sims.shape[1])
    return np.sort(sims, axis=1)[:, -k:].mean(axis=1)
