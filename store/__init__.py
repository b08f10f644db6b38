"""Staffroom's database: typed SQLAlchemy models, Alembic migrations and session-first helpers.

Usage: ``db = Database.from_url(url)``; ``store.migrate.upgrade(url)`` once at deploy; then one
``with db.session() as s:`` per unit of work (commit at the end, rollback on error) around
helpers such as ``claim_event(s, "slack:Ev01", "slack")``, which never commit themselves.
"""

from store.base import Base, clean_text, utcnow
from store.conversations import (
    OpenEvent,
    claim_event,
    clear_state,
    event_result,
    finish_event,
    get_conversation_ref,
    get_question,
    get_state,
    list_gaps,
    log_question,
    prune_events,
    record_feedback,
    record_gap,
    save_conversation_ref,
    save_state,
    set_reply_ref,
    take_stale_events,
)
from store.db import Database, make_engine, make_sessionmaker, normalize_url
from store.idea_models import Comment, DesignQuestion, Idea, IdeaEvent, PitchDraft, Vote
from store.llm_usage import LLMUsage, add_llm_usage, llm_tokens_on
from store.models import (
    ContentGap,
    ConversationRef,
    ConversationState,
    Feedback,
    Lock,
    ProcessedEvent,
    Question,
    ReindexRun,
)
from store.ops import (
    acquire_lock,
    finish_reindex_run,
    get_lock,
    latest_reindex_run,
    release_lock,
    start_reindex_run,
)

__all__ = [
    "Base",
    "Comment",
    "ContentGap",
    "ConversationRef",
    "ConversationState",
    "Database",
    "DesignQuestion",
    "Feedback",
    "Idea",
    "IdeaEvent",
    "LLMUsage",
    "Lock",
    "OpenEvent",
    "PitchDraft",
    "ProcessedEvent",
    "Question",
    "ReindexRun",
    "Vote",
    "acquire_lock",
    "add_llm_usage",
    "claim_event",
    "clean_text",
    "clear_state",
    "event_result",
    "finish_event",
    "finish_reindex_run",
    "get_conversation_ref",
    "get_lock",
    "get_question",
    "get_state",
    "latest_reindex_run",
    "list_gaps",
    "llm_tokens_on",
    "log_question",
    "make_engine",
    "make_sessionmaker",
    "normalize_url",
    "prune_events",
    "record_feedback",
    "record_gap",
    "release_lock",
    "save_conversation_ref",
    "save_state",
    "set_reply_ref",
    "start_reindex_run",
    "take_stale_events",
    "utcnow",
]
