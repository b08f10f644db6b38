"""The idea queue's rules: pitch drafts, submission, the status machine, votes and comments.

Depends on `store` only; no chat code. Functions take the session first and never commit.
"""

from ideas.engagement import (
    add_comment,
    comment_counts,
    get_idea_with_history,
    vote_counts,
    vote_tried,
    vote_try,
)
from ideas.export import export_csv
from ideas.permissions import (
    CachedGroup,
    GroupMembers,
    Roles,
    StaffDirectory,
    StaffRoster,
    check_staff,
    require_admin,
    require_staff,
)
from ideas.pitch import PITCH_STEPS, DraftView, PitchDraftService, PitchStep
from ideas.questions import (
    close_question,
    get_design_question,
    list_open_questions,
    open_question,
    set_announce_ref,
)
from ideas.records import Actor, IdeaDetail, VoteCounts, VoteResult
from ideas.service import (
    find_by_review_ref,
    get_idea,
    list_ideas,
    mark_review_failed,
    mark_review_posted,
    pending_review_posts,
    submit_idea,
    transition,
)
from ideas.similar import similar_ideas
from ideas.status import Action, Status, allowed_actions, next_status, status_label

__all__ = [
    "PITCH_STEPS",
    "Action",
    "Actor",
    "CachedGroup",
    "DraftView",
    "IdeaDetail",
    "PitchDraftService",
    "PitchStep",
    "Roles",
    "StaffDirectory",
    "StaffRoster",
    "GroupMembers",
    "check_staff",
    "Status",
    "VoteCounts",
    "VoteResult",
    "add_comment",
    "allowed_actions",
    "close_question",
    "comment_counts",
    "export_csv",
    "find_by_review_ref",
    "get_design_question",
    "get_idea",
    "get_idea_with_history",
    "list_ideas",
    "list_open_questions",
    "mark_review_failed",
    "mark_review_posted",
    "next_status",
    "open_question",
    "pending_review_posts",
    "require_admin",
    "require_staff",
    "set_announce_ref",
    "similar_ideas",
    "status_label",
    "submit_idea",
    "transition",
    "vote_counts",
    "vote_tried",
    "vote_try",
]
