"""Follow-up questions without an LLM: the last question, what it showed, the new turn → a search.

    plan = plan_turn("what about for 1st graders?", context)   # context: None on a first turn
    response = searcher.search(plan.query, k=3, prefer=plan.prefer, exclude=plan.exclude)
    context = plan.remember(shown_ids)                        # keep per thread, until it idles

A turn is one of
  new      no context, or a self-contained question on another topic: searched on its own;
  refine   narrows the last question ("for AP chemistry?", "in a co-taught class?", "shorter?"):
           its words are added to the last question and its grades/subjects replace the old;
  pronoun  asks about what was just shown ("does that work online?"): merged the same way;
  more     "another one" / "show me more": the last search again, minus every session shown.

``plan_turn_llm`` lets an optional ``QueryRewriter`` (an LLM) write the standalone question for
refine/pronoun/new turns, under the grounded answers' rules: on a timeout, an error or an empty
or over-long reply the rule-based plan stands, and "more" never reaches the model (it cannot
know what was shown). ``reads_as_question`` tells a question from a pitch step's answer.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Protocol

from retrieval.hints import Hints, read_hints, without_hints

log = logging.getLogger(__name__)

TurnKind = Literal["new", "refine", "pronoun", "more"]
KINDS: tuple[TurnKind, ...] = ("new", "refine", "pronoun", "more")

# How many follow-up phrases ride along with the topic's question; older ones drop off, so a
# long thread cannot grow the query without end.
MAX_EXTRAS = 2
MAX_REWRITE_CHARS = 300


@dataclass(frozen=True)
class Context:
    """What a conversation remembers between turns (per thread or DM; expire it when idle).

    ``topic`` is the question that opened the topic, ``extras`` the follow-up words merged into
    it since, ``hints`` the grades/subjects in force, ``shown`` every session shown on this
    topic, best first, so "another one" never repeats one, and ``answered``/``best`` whether the
    topic had a good match and its best score ("another one" shows what stays close to it).
    """

    topic: str
    extras: tuple[str, ...] = ()
    hints: Hints = field(default_factory=Hints)
    shown: tuple[str, ...] = ()
    answered: bool = False  # the library had a good match for this topic
    best: float = 0.0  # the score of the best session shown for the topic (when answered)

    @property
    def query(self) -> str:
        """The search text for this topic: its question plus the latest follow-up words."""
        return " ".join((self.topic, *self.extras[-MAX_EXTRAS:]))

    def to_json(self) -> dict[str, Any]:
        """Plain JSON data (for a conversation state kept in the database)."""
        return {
            "topic": self.topic,
            "extras": list(self.extras),
            "grades": sorted(self.hints.grades),
            "subjects": list(self.hints.subjects),
            "shown": list(self.shown),
            "answered": self.answered,
            "best": self.best,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Context:
        """The context ``to_json`` wrote."""
        return cls(
            topic=str(data["topic"]),
            extras=tuple(str(e) for e in data.get("extras", ())),
            hints=Hints(
                frozenset(int(g) for g in data.get("grades", ())),
                tuple(str(s) for s in data.get("subjects", ())),
            ),
            shown=tuple(str(s) for s in data.get("shown", ())),
            answered=bool(data.get("answered", False)),
            best=float(data.get("best", 0.0)),
        )


@dataclass(frozen=True)
class TurnPlan:
    """The search one turn asks for, and how it read the turn."""

    kind: TurnKind
    query: str
    prefer: Hints
    exclude: frozenset[str]
    context: Context  # the context this turn continues (or starts), before its results
    rewritten: bool = False  # True when an LLM wrote ``query``

    def remember(
        self, shown: Iterable[str], *, answered: bool | None = None, best: float | None = None
    ) -> Context:
        """The context for the next turn: the session ids this turn's answer showed, whether
        it was a good match and its best score (``None``: as before)."""
        seen = list(self.context.shown)
        seen += [sid for sid in shown if sid not in seen]
        return replace(
            self.context,
            shown=tuple(seen),
            answered=self.context.answered if answered is None else answered,
            best=self.context.best if best is None else best,
        )


# --- reading a turn ------------------------------------------------------------------------

_WORD = re.compile(r"[a-z0-9]+(?:['’-][a-z0-9]+)*")
# Function words and chat filler: what is left is a turn's own topic words.
_FILLER = frozenset(
    """a an the and or but so if then than as at by for from in into of on onto to with without
    about over under after before during while up out off just also too very really actually
    maybe like kinda sorta pretty quite still even only ever again already yet now here there
    i me my mine we us our ours you your yours he him his she her hers it its they them their
    theirs this that these those who whom whose which what whats what's when where why how hows
    how's is are was were be been being am do does did doing done have has had having can could
    should would will shall may might must ok okay k kk cool thanks thank thx ty great nice
    awesome perfect hmm hm um uh oh ah well yeah yes yep no nope nah wait hey hi hello pls please
    plz btw lol haha tho though anyway anyways sure right any some all each every one ones
    thing things stuff something anything else other others another more most less same
    kids kid students student class classes classroom kiddos teacher teachers school room
    get got go going make work works working try use using need want know think see say tell
    let show give find look help tips ideas idea way ways good best better
    don't doesn't didn't can't won't isn't aren't i'm i've i'd we're it's that's there's
    """.split()
)
# "that" as a pronoun for the last answer ("does that work", "try that"), not as a conjunction
# ("she emailed me that I ..."): only counts in short turns.
_ANAPHORA = re.compile(
    r"\b(?:it|its|that|this|those|these|them|they|same|one|ones|him|her|she|he)\b"
)
_MORE = re.compile(
    r"\b(?:another(?: one| session| idea| option)?|one more|(?:show|give|send)(?: me)? (?:some )?more"
    r"|more (?:like (?:this|that|these)|options|ideas|sessions|of (?:these|those|them)|please|pls)"
    r"|anything else|any(?:thing)? more|what else|something (?:else|different)|any others?"
    r"|other (?:ones|options|sessions|ideas)|next (?:one|ones|session)|(?:a )?different one"
    r"|not (?:that|this) one|got anything else|^more\b|\bmore\s*\??$|^next\b)"
)
_REFINE_START = re.compile(
    r"^(?:(?:ok(?:ay)?|and|but|so|also|hmm|cool|thanks)[,!.]*\s+)*"
    r"(?:what about|how about|what if|and for|and in|and with|and if|and when|for|in|with|"
    r"same for|same but|but for|but in|now for|specifically|especially|only|even)\b"
)
_SWITCH_CUE = re.compile(
    r"\b(?:different (?:question|topic|thing)|new (?:question|topic)|(?:totally |completely )?"
    r"unrelated|switching gears|change of topic|on another note|another question|separate "
    r"question|random question|also unrelated)\b"
)
# Comparatives that only make sense against the last answer, with the words that carry them
# into a keyword and vector search ("shorter?" after a 20-minute routine).
_MODIFIERS: dict[str, str] = {
    "shorter": "short quick few minutes",
    "quicker": "quick few minutes",
    "faster": "quick fast few minutes",
    "simpler": "simple easy",
    "easier": "simple easy",
    "cheaper": "free low cost",
    "longer": "longer deeper",
}


def topic_words(text: str) -> list[str]:
    """The words of ``text`` that say what it is about (no filler, grades or subjects)."""
    return _content_words(without_hints(text, read_hints(text)))


def _content_words(text: str) -> list[str]:
    return [
        w
        for w in _WORD.findall(text.lower())
        if w not in _FILLER and not w.isdigit() and len(w) > 1
    ]


def classify(text: str, previous: Context | None) -> TurnKind:
    """How a turn relates to the conversation (rules only; see the module docstring)."""
    if previous is None:
        return "new"
    low = " ".join(text.lower().split())
    if _SWITCH_CUE.search(low):
        return "new"
    words = topic_words(low)
    more = _MORE.search(low)
    if more:
        own = [w for w in words if w not in _WORD.findall(more.group(0))]
        if len(own) <= 3:
            return "more"
    if not words:
        return "refine"  # "what about for 1st graders?", "for AP chem?", "and in math?"
    if any(w in _MODIFIERS for w in words) and len(words) <= 6:
        return "refine"
    short = len(words) <= 4
    if _REFINE_START.search(low) and short:
        return "refine"
    if _ANAPHORA.search(low) and len(words) <= 5:
        return "pronoun"
    if len(words) <= 2:
        return "refine"  # "online?", "co-taught?", "with ELLs in the room?"
    return "new"


def plan_turn(text: str, previous: Context | None = None) -> TurnPlan:
    """The search for ``text`` given the conversation so far (``None``: a first message)."""
    text = " ".join(text.split())
    hints = read_hints(text)
    kind = classify(text, previous)
    if kind == "new" or previous is None:
        context = Context(topic=text, hints=hints)
        return TurnPlan("new", text, hints, frozenset(), context)
    prefer = previous.hints.then(hints)
    extra = _follow_up_words(text, hints)
    if kind == "more":
        context = replace(previous, hints=prefer)
        if extra and len(topic_words(extra)) > 0:
            context = replace(context, extras=(*previous.extras, extra))
        return TurnPlan("more", context.query, prefer, frozenset(previous.shown), context)
    extras = (*previous.extras, extra) if extra else previous.extras
    context = replace(previous, extras=extras, hints=prefer)
    return TurnPlan(kind, context.query, prefer, frozenset(), context)


def _follow_up_words(text: str, hints: Hints) -> str:
    """What a follow-up adds to the last question: its words minus the audience and the cue."""
    # Grades become a preference only; subject words also stay in the query ("in science
    # labs?", "does this work in science too?"): +0.02 follow-up nDCG@3 over dropping them.
    rest = without_hints(text, hints, keep_subjects=True)
    rest = _REFINE_START.sub("", rest.lower()).strip(" ,.!?")
    rest = _MORE.sub(" ", rest)
    words = _content_words(rest)
    if not words:
        return ""
    added = [_MODIFIERS[w] for w in words if w in _MODIFIERS]
    return " ".join([rest.strip(" ,.!?"), *added])


# --- a question, or a pitch step's answer? -------------------------------------------------

_QUOTED = re.compile(r"[\"“”][^\"“”]*[\"“”]|(?<!\w)'[^']*'(?!\w)")
_LEAD = re.compile(
    r"^(?:(?:wait|actually|hmm+|oh|ok(?:ay)?|sorry|also|btw|quick question|question|so|hey|"
    r"um+|and|but)[\s,:!.-]+)+"
)
_ASKING = re.compile(
    r"^(?:how (?:do|can|should|would|could|did|does|much|many|long|often|come)|"
    r"what(?:'s|s| is| are| do| does| did| should| can| could| would| about| if| else| kind)|"
    r"why|when (?:do|does|should|is|are|can|will)|where|who|which|whose|"
    r"can (?:i|you|we|someone|anyone)|could (?:i|you|we)|should (?:i|we)|would (?:it|this|that)|"
    r"is (?:it|there|this|that)|are (?:there|these|those)|do (?:i|you|we|they)|"
    r"does (?:it|this|that|anyone|anybody)|did (?:anyone|you)|any (?:ideas|tips|sessions|"
    r"suggestions|advice)|anyone|anybody|help(?: me)? (?:with|find)|ideas for|tips (?:for|on)|"
    r"looking for|need (?:ideas|help|tips|advice|a session)|find me|show me|search(?: for)?)\b"
)


def reads_as_question(text: str) -> bool:
    """True for a question to the library ("wait, how do I…?"), False for an answer to a pitch
    step ("Hallway greetings", "6-8, math", "Every day I ask 'what made you smile?'")."""
    low = " ".join(text.lower().split())
    unquoted = _QUOTED.sub(" ", low).strip()
    if unquoted.rstrip().endswith("?"):
        return True
    return bool(_ASKING.match(_LEAD.sub("", unquoted)))


# --- the optional LLM rewrite --------------------------------------------------------------


class QueryRewriter(Protocol):
    """Writes one standalone search question from the conversation so far (an LLM)."""

    async def rewrite(self, text: str, previous: Context) -> str | None:
        """The standalone question, or ``None`` when there is nothing better than the rules."""
        ...


async def plan_turn_llm(
    text: str,
    previous: Context | None,
    rewriter: QueryRewriter | None,
    *,
    timeout: float = 3.0,
) -> TurnPlan:
    """``plan_turn``, with the query written by ``rewriter`` when it answers in time.

    The turn's kind, grades/subjects and exclusions still come from the rules: "more" and first
    turns never call the model, and any failure (timeout, error, empty or over-long reply)
    keeps the rule-based plan, as a grounded answer keeps the extractive one.
    """
    plan = plan_turn(text, previous)
    if rewriter is None or previous is None or plan.kind == "more":
        return plan
    started = time.perf_counter()
    try:
        written = await asyncio.wait_for(rewriter.rewrite(text, previous), timeout)
    except TimeoutError:
        _log_rewrite_skip("timeout", started)
        return plan
    except Exception as err:  # the rewriter is optional: nothing it does may break a turn
        _log_rewrite_skip(type(err).__name__, started)
        return plan
    query = " ".join((written or "").split())
    if not query or len(query) > MAX_REWRITE_CHARS:
        _log_rewrite_skip("empty" if not query else "too_long", started)
        return plan
    if plan.kind == "new" and not _same_topic(query, previous):
        return plan  # the model agrees it is a new topic: the teacher's own words are best
    context = replace(previous, topic=query, extras=(), hints=plan.prefer)
    kind: TurnKind = plan.kind if plan.kind != "new" else "refine"
    return TurnPlan(kind, query, plan.prefer, frozenset(), context, rewritten=True)


def _same_topic(query: str, previous: Context) -> bool:
    """True when the rewritten question carries words of the previous topic."""
    before = set(topic_words(previous.query))
    return bool(before & set(topic_words(query)))


def _log_rewrite_skip(reason: str, started: float) -> None:
    log.warning(
        "llm rewrite not used: %s",
        reason,
        extra={
            "event": "llm_rewrite_fallback",
            "reason": reason,
            "latency_ms": round((time.perf_counter() - started) * 1000, 1),
        },
    )
