"""Calibrates the bar above which an answer shows a field idea (bot/flows/field_ideas.py).

A labelled set of our own (nothing from the devset): 12 piloted ideas ("title\\npractice", as
ideas are embedded) and teachers' questions, each naming the ideas it should bring up (none for
questions about other things). For each candidate bar, an answer shows at most ``SHOWN`` ideas
scoring at least the bar; we count shown ideas that are right (precision) and right ideas shown
(recall). Run: ``.venv/bin/python bench/field_ideas.py`` (the bundled model, CPU).
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from retrieval.embedder import SentenceTransformerEmbedder  # noqa: E402

SHOWN = 2
IDEAS = {
    "exit": "Exit tickets on sticky notes\nEach student answers one question on a sticky note as "
    "they leave; I sort the notes on the door into got it, almost, not yet and regroup the next day.",
    "silent": "Two-minute silent start\nStudents walk in to a silent two-minute do-now on the "
    "board; it calms the room and I take attendance while they write.",
    "phones": "Phone hotel\nStudents park phones in a numbered pocket chart at the door and get "
    "them back at the bell; a full hotel earns the class a point.",
    "whiteboards": "Math strategy compare with mini whiteboards\nPairs solve one problem on mini "
    "whiteboards and hold them up; I pick two different strategies and students compare them.",
    "family": "Friday texts home in the family's language\nEvery Friday I send each family a "
    "two-line text in their home language with the translation tool: one positive note.",
    "lunch": "Restorative lunch circles\nOnce a week I eat lunch with students who had a "
    "conflict; we pass a talking piece and agree on how to repair the harm.",
    "wordwall": "Word wall with sketches for English learners\nEnglish learners draw a sketch "
    "next to each new word on the wall and add a sentence frame they use when writing.",
    "feedback": "Two stars and a wish peer feedback\nStudents trade drafts and write two things "
    "that work and one suggestion on a feedback card before they revise.",
    "labroles": "Rotating lab roles\nEach science lab group has rotating roles on lanyards "
    "(materials manager, recorder, timekeeper, skeptic) so everyone takes part.",
    "conferences": "Reading conference clipboard\nDuring independent reading I confer with "
    "three students a day and log one strength and one next step on a clipboard grid.",
    "attendance": "Advisory calls home on the second absence\nAdvisors call home after two "
    "absences in a row; a shared sheet tracks the calls and reasons so patterns show early.",
    "choice": "Choice board for early finishers\nA board of extension tasks by the door: "
    "students who finish early pick one and log it.",
}
QUESTIONS: dict[str, tuple[str, ...]] = {
    "how do I check who understood the lesson before they leave?": ("exit",),
    "quick formative assessment at the end of class": ("exit",),
    "exit tickets with 32 kids, how do I sort them fast": ("exit",),
    "my class is chaotic for the first ten minutes": ("silent",),
    "how to get students settled when they come in": ("silent",),
    "bell ringer ideas to calm the room": ("silent",),
    "students keep pulling out their phones": ("phones",),
    "cell phone policy that actually works in class": ("phones",),
    "how do I get kids to explain different ways to solve a math problem": ("whiteboards",),
    "getting quiet students to share their math thinking": ("whiteboards",),
    "how can I communicate with parents who don't speak English": ("family",),
    "positive messages home to families": ("family",),
    "two students had a fight, how do I repair the relationship": ("lunch",),
    "restorative practices after a conflict": ("lunch",),
    "supporting ELL students with new vocabulary": ("wordwall",),
    "vocabulary instruction for English learners in writing": ("wordwall",),
    "how do I get students to give useful feedback on each other's essays": ("feedback",),
    "peer review that isn't just 'good job'": ("feedback",),
    "group work in science labs where one kid does everything": ("labroles",),
    "how to make sure everyone participates in lab groups": ("labroles",),
    "how do I run reading conferences during independent reading": ("conferences",),
    "tracking student reading progress one on one": ("conferences",),
    "chronic absenteeism, what can advisors do": ("attendance",),
    "students missing a lot of school in 9th grade": ("attendance",),
    "what do I do with students who finish early": ("choice",),
    "extension activities for fast finishers": ("choice",),
    "differentiation for advanced students who are bored": ("choice",),
    # About teaching, but none of these ideas.
    "how do I teach fractions with manipulatives": (),
    "project-based learning rubric for 8th grade": (),
    "co-teaching models with a special education teacher": (),
    "station rotation in a 50 minute block": (),
    "how to write a good lesson objective": (),
    "teaching the scientific method to 5th graders": (),
    "how do I plan a unit backwards from the assessment": (),
    "strategies for teaching long division": (),
    "using primary sources in history class": (),
    "how to set up a classroom library": (),
    "test anxiety before state exams": (),
    "teaching persuasive essay structure": (),
    "retrieval practice and spaced repetition": (),
    "how do I use wait time when questioning": (),
    # Not about teaching.
    "how do I request a substitute for friday": (),
    "where is the staff parking permit form": (),
    "when is payday this month": (),
    "printer on the second floor is jammed": (),
}


def main() -> None:
    embedder = SentenceTransformerEmbedder(device="cpu")
    names = list(IDEAS)
    ideas = embedder.embed_documents([IDEAS[n] for n in names])
    questions = list(QUESTIONS)
    vectors = embedder.embed_queries(questions)
    scores = np.asarray(vectors) @ np.asarray(ideas).T
    positives = [scores[q, names.index(i)] for q, text in enumerate(questions)
                 for i in QUESTIONS[text]]  # fmt: skip
    negatives = [scores[q, j] for q, text in enumerate(questions) for j, n in enumerate(names)
                 if n not in QUESTIONS[text]]  # fmt: skip
    print(f"pairs: {len(positives)} right, {len(negatives)} wrong")
    print(f"right: min {min(positives):.3f} median {statistics.median(positives):.3f}")
    print(f"wrong: max {max(negatives):.3f} median {statistics.median(negatives):.3f}")
    top_wrong = sorted(
        ((scores[q, j], questions[q], names[j]) for q in range(len(questions))
         for j in range(len(names)) if names[j] not in QUESTIONS[questions[q]]),
        reverse=True,
    )[:5]  # fmt: skip
    for score, q, n in top_wrong:
        print(f"  wrong {score:.3f}  {q!r} -> {n}")
    print("bar   shown  right  precision  recall  questions-with-a-wrong-idea")
    total_right = len(positives)
    for bar in np.arange(0.30, 0.62, 0.02):
        shown = right = wrong_q = 0
        for q, text in enumerate(questions):
            order = np.argsort(-scores[q])[:SHOWN]
            picked = [names[j] for j in order if scores[q, j] >= bar]
            shown += len(picked)
            right += sum(1 for n in picked if n in QUESTIONS[text])
            wrong_q += any(n not in QUESTIONS[text] for n in picked)
        precision = right / shown if shown else 1.0
        print(f"{bar:.2f}  {shown:5d}  {right:5d}  {precision:9.2f}  {right / total_right:6.2f}"
              f"  {wrong_q}")  # fmt: skip
    cost(embedder)


def cost(embedder: SentenceTransformerEmbedder, count: int = 300, runs: int = 50) -> None:
    """What the section adds to an answer: one query over ``count`` ideas in the field (SQLite
    file, the question's vector reused from the search), median of ``runs``."""
    import tempfile
    import time

    from ideas import Actor, submit_idea, transition
    from ideas.usecases import field_ideas_for
    from store import Database
    from store.migrate import upgrade

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        upgrade(url)
        db = Database.from_url(url)
        texts = [IDEAS[n] for n in IDEAS]
        vectors = embedder.embed_documents(texts)
        staff = Actor("slack", "USTAFF")
        with db.session() as s:
            for n in range(count):
                title, practice = texts[n % len(texts)].split("\n")
                answers = {"title": f"{title} {n}", "practice": practice, "problem": "p",
                           "evidence": "e", "school": f"School {n % 9}"}  # fmt: skip
                idea = submit_idea(s, answers, author=Actor("slack", f"U{n}"),
                                   embedding=vectors[n % len(texts)], embedding_model=embedder.name)  # fmt: skip
                for action in ("start_review", "pilot"):
                    transition(s, idea.id, action, actor=staff)
        question = embedder.embed_queries(["exit tickets with 32 kids"])[0]
        took = []
        for _ in range(runs):
            started = time.perf_counter()
            with db.session() as s:
                field_ideas_for(s, "exit tickets with 32 kids", question,
                                embedder.embed_documents, embedder.name, 0.5)  # fmt: skip
            took.append((time.perf_counter() - started) * 1000)
        db.dispose()
    print(f"cost per answer with {count} ideas in the field: median {statistics.median(took):.1f} ms"
          f" (worst {max(took):.1f} ms, {runs} runs)")  # fmt: skip


if __name__ == "__main__":
    main()
