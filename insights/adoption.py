"""Adoption: which practices spread to which schools, which schools design and which adopt.

A school *designs* when its teachers pitch ideas (and more so when those reach piloting or
beyond); it *takes up* a practice when its teachers join the pilot of an idea from another
school, or try the library session an adopted idea was published as (``field-idea-<n>``).
Library sessions tried (*I'll try this*) count per school too.

Counts only, under the same rules as every insights page: a figure about fewer than k distinct
people is "fewer than k"; schools with fewer than k people in all are combined; every column
that adds up to a shown total goes through ``protect`` so nothing is revealed by subtraction.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from insights.privacy import Cell, Count, people_cell, protect
from store import FollowTry, Idea, PilotMember

FIELD = ("piloting", "scaling", "adopted")
VERDICTS = ("adopt", "adapt", "abandon")
NO_SCHOOL = "(school not given)"
FIELD_SESSION = "field-idea-"  # the library session id prefix of published ideas
TOP = 15

Person = tuple[str, str]


@dataclass(frozen=True)
class Practice:
    """One idea in the field and how far it spread."""

    number: int
    title: str
    status: str
    school: str  # where it was designed
    takers: Cell  # people who took it up (pilot members, triers of its published session)
    schools: Cell  # other schools that took it up
    verdicts: dict[str, Cell]  # pilot members' adopt / adapt / abandon / "" (not yet)


@dataclass(frozen=True)
class Flow:
    origin: str
    to: str
    people: Cell


@dataclass(frozen=True)
class SchoolRole:
    school: str
    designed: Cell  # ideas pitched there
    in_field: Cell  # of those, piloting / scaling / adopted
    took_up: Cell  # pilot memberships and field-session tries, of ideas from elsewhere
    tried: Cell  # library sessions tried
    role: str  # "designs", "adopts", "designs and adopts", "" (not shown: too few)


@dataclass(frozen=True)
class AdoptionPage:
    k: int
    practices: list[Practice]
    flows: list[Flow]
    other_flows: Cell
    schools: list[SchoolRole]
    other_schools: SchoolRole
    totals: SchoolRole
    spread: Cell  # people who took up a practice from another school


def _school(text: str | None) -> str:
    return (text or "").strip() or NO_SCHOOL


@dataclass(frozen=True)
class Taking:
    """Someone taking up an idea: a pilot member (with a verdict or not yet) or a trier of its
    published session."""

    idea_id: int
    person: Person
    school: str
    member: bool
    verdict: str | None = None


def adoption(s: Session, k: int) -> AdoptionPage:
    ideas = {
        i.id: i
        for i in s.execute(
            sa.select(Idea.id, Idea.title, Idea.status, Idea.school, Idea.author_platform,
                      Idea.author_id).where(Idea.status != "duplicate")
        )
    }  # fmt: skip
    takings = [
        Taking(m.idea_id, (m.platform, m.user_id), _school(m.school), True, m.verdict)
        for m in s.execute(
            sa.select(PilotMember.idea_id, PilotMember.platform, PilotMember.user_id,
                      PilotMember.school, PilotMember.verdict)
        )
        if m.idea_id in ideas
    ]  # fmt: skip
    tries = list(
        s.execute(
            sa.select(FollowTry.platform, FollowTry.user_id, FollowTry.session_id, FollowTry.school)
        )
    )
    for t in tries:
        number = t.session_id.removeprefix(FIELD_SESSION)
        if t.session_id.startswith(FIELD_SESSION) and number.isdigit() and int(number) in ideas:
            takings.append(Taking(int(number), (t.platform, t.user_id), _school(t.school), False))
    flows, other, spread = _flows(ideas, takings, k)
    schools, rest, totals = _schools(ideas, takings, tries, k)
    return AdoptionPage(
        k, _practices(ideas, takings, k), flows, other, schools, rest, totals, spread
    )


def _practices(ideas: dict, takings: list[Taking], k: int) -> list[Practice]:
    by: dict[int, list[Taking]] = defaultdict(list)
    for t in takings:
        by[t.idea_id].append(t)
    out = []
    for number, idea in ideas.items():
        if idea.status not in FIELD:
            continue
        rows = by.get(number, [])
        origin = _school(idea.school)
        away = {(t.person, t.school) for t in rows if t.school != origin}
        away_people = {person for person, _ in away}
        members = [t for t in rows if t.member]
        parts = [
            Count(n, n)
            for n in (sum(1 for t in members if t.verdict == v) for v in (*VERDICTS, None))
        ]
        cells, _ = protect(parts, Count(len(members), len(members)), k)
        reached = Cell(len({school for _, school in away}))
        out.append(
            Practice(
                number, idea.title, idea.status, origin,
                people_cell(len({t.person for t in rows}), k),
                reached if not 0 < len(away_people) < k else Cell(None),
                dict(zip((*VERDICTS, ""), cells, strict=True)),
            )
        )  # fmt: skip
    out.sort(key=lambda p: (-(p.takers.value or 0), p.number))
    return out[:TOP]


def _flows(ideas: dict, takings: list[Taking], k: int) -> tuple[list[Flow], Cell, Cell]:
    """Origin school → taking school, people counted once per pair; small pairs combined."""
    pairs: dict[tuple[str, str], set[Person]] = defaultdict(set)
    for t in takings:
        origin = _school(ideas[t.idea_id].school)
        if t.school != origin:
            pairs[origin, t.school].add(t.person)
    ranked = sorted(pairs, key=lambda key: (-len(pairs[key]), key))
    shown = [key for key in ranked if len(pairs[key]) >= k][:TOP]
    rest: set[Person] = set()
    for key in ranked:
        if key not in shown:
            rest |= pairs[key]
    everyone = set().union(*pairs.values()) if pairs else set()
    parts = [Count(len(pairs[key]), len(pairs[key])) for key in shown]
    parts.append(Count(len(rest), len(rest)))
    cells, total = protect(parts, Count(len(everyone), len(everyone)), k)
    flows = [Flow(origin, to, cells[n]) for n, (origin, to) in enumerate(shown)]
    return flows, cells[-1], total if total is not None else Cell(None)


def _schools(
    ideas: dict, takings: list[Taking], tries: list, k: int
) -> tuple[list[SchoolRole], SchoolRole, SchoolRole]:
    """Per school: ideas designed (and in the field), practices taken up, sessions tried."""
    designed: dict[str, list[tuple[int, Person]]] = defaultdict(list)
    for number, idea in ideas.items():
        designed[_school(idea.school)].append((number, (idea.author_platform, idea.author_id)))
    took: dict[str, list[Person]] = defaultdict(list)
    for t in takings:
        if t.school != _school(ideas[t.idea_id].school):
            took[t.school].append(t.person)
    tried: dict[str, list[Person]] = defaultdict(list)
    for t in tries:
        tried[_school(t.school)].append((t.platform, t.user_id))

    def counts(names: set[str]) -> list[Count]:
        made = [(n, p) for name in names for n, p in designed.get(name, [])]
        field = [(n, p) for n, p in made if ideas[n].status in FIELD]
        taken = [p for name in names for p in took.get(name, [])]
        used = [p for name in names for p in tried.get(name, [])]
        return [
            Count(len(made), len({p for _, p in made})),
            Count(len(field), len({p for _, p in field})),
            Count(len(taken), len(set(taken))),
            Count(len(used), len(set(used))),
        ]

    everyone: dict[str, set[Person]] = defaultdict(set)
    for name, made in designed.items():
        everyone[name] |= {p for _, p in made}
    for source in (took, tried):
        for name, people in source.items():
            everyone[name] |= set(people)
    ranked = sorted(everyone, key=lambda name: (-len(everyone[name]), name))
    shown = [name for name in ranked if len(everyone[name]) >= k and name != NO_SCHOOL][:TOP]
    rest = set(everyone) - set(shown)
    rows = [counts({name}) for name in shown] + [counts(rest)]
    total = counts(set(everyone))
    columns = [protect([row[c] for row in rows], total[c], k) for c in range(4)]
    roles = []
    for r, name in enumerate([*shown, "Other schools combined"]):
        cells = [columns[c][0][r] for c in range(4)]
        role = _role(cells[0], cells[2], r < len(shown))
        roles.append(SchoolRole(name, cells[0], cells[1], cells[2], cells[3], role))
    sums = [columns[c][1] or Cell(None) for c in range(4)]
    return roles[:-1], roles[-1], SchoolRole("All schools", sums[0], sums[1], sums[2], sums[3], "")


def _role(designed: Cell, took_up: Cell, named: bool) -> str:
    """What a school mostly does; only from figures that are shown."""
    if not named or designed.value is None or took_up.value is None:
        return ""
    if designed.value and took_up.value:
        return "designs and adopts"
    return "designs" if designed.value else ("adopts" if took_up.value else "")
