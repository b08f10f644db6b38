"""What the synthetic history's teachers ask: topic templates (most answerable by the sample
library's sessions, some not) and the words filled into them."""

from __future__ import annotations

# (session the library answers with, or None for a gap; question templates)
TOPICS: list[tuple[str | None, list[str]]] = [
    (
        "exit-tickets",
        [
            "how do i read {n} exit tickets before tomorrow's lesson",
            "exit ticket ideas for my {grade} {subject} class",
            "quick way to check who understood today's lesson before they leave",
        ],
    ),
    (
        "station-rotation",
        [
            "only {n} chromebooks for my {grade}, how do i run stations",
            "station rotation timers and transitions take forever",
            "what do the other kids do while i run a small group",
        ],
    ),
    (
        "entry-routines",
        [
            "my class after lunch takes ten minutes to settle",
            "do now ideas so {grade} start working right away",
            "students trickle in late and it wrecks the start of class",
        ],
    ),
    (
        "tiered-tasks",
        [
            "differentiating {subject} for {grade} without three worksheets",
            "fast finishers in {subject} need something better than more problems",
            "tiered tasks for a class reading two grade levels apart",
        ],
    ),
    (
        "math-talk-moves",
        [
            "same three kids answer everything in math",
            "number talks for {grade} that don't feel babyish",
            "how do i get students explaining their thinking in math",
        ],
    ),
    (
        "reading-conferences",
        [
            "reading conferences with {n} kids, how do i keep notes",
            "what do i say when i sit down with a reader",
            "keeping one on one reading conferences short",
        ],
    ),
    (
        "sel-check-ins",
        [
            "quick feelings check in at the start of class",
            "sel check-in ideas for {grade} that aren't cheesy",
        ],
    ),
    (
        "restorative-circles",
        [
            "restorative circle after a fight in {grade}",
            "how do i run a circle when two students are in conflict",
        ],
    ),
    (
        "wait-time-questioning",
        [
            "kids nod along then bomb the quiz, better questions?",
            "wait time feels awkward, how long should i wait",
        ],
    ),
    (
        "retrieval-practice",
        ["low stakes quizzing ideas for {subject}", "how do i get {grade} to remember last unit"],
    ),
    (
        "science-cer",
        [
            "claim evidence reasoning in {grade} science labs",
            "students write conclusions with no evidence",
        ],
    ),
    (
        "family-communication",
        [
            "positive phone calls home, how often",
            "parent emailed upset about grades, what do i say",
        ],
    ),
    (
        "language-scaffolds",
        [
            "sentence frames for english learners in {subject}",
            "newcomer ell students in my {grade} {subject} class",
        ],
    ),
    (
        "co-teaching",
        [
            "co-teaching models when my partner only comes twice a week",
            "how to split roles with a special ed co-teacher",
        ],
    ),
    (
        "project-based-learning",
        [
            "project based learning for {grade} without chaos",
            "how do i grade group projects fairly",
        ],
    ),
    (
        "feedback-revision",
        [
            "feedback on {n} essays without spending my weekend",
            "students ignore my comments on drafts",
        ],
    ),
    (
        None,
        [
            "how do i set up rubrics in google classroom",
            "rubric settings in google classroom for {subject}",
        ],
    ),
    (
        None,
        [
            "phone policy that actually works in {grade}",
            "students on phones all period, what do other schools do",
        ],
    ),
    (
        None,
        ["sub plans for a {subject} class when i'm out sick", "emergency sub plans for {grade}"],
    ),
    (
        None,
        [
            "ai chatbots and essays, how do i handle it",
            "students using ai to write {subject} homework",
        ],
    ),
    (None, ["chronic absenteeism in {grade}, what works", "attendance is terrible on fridays"]),
    (None, ["vaping in the bathrooms during class", "how do i talk to {grade} about vaping"]),
]
GRADES = [
    "kindergartners",
    "1st graders",
    "3rd graders",
    "5th graders",
    "6th graders",
    "8th graders",
    "9th graders",
    "11th graders",
    "high schoolers",
]
SUBJECTS = ["math", "reading", "science", "history", "writing", "spanish"]
MOMENTS = [0, 95, 210, 330, 450, 600, 750, 905]
