"""Follow-through: tries, scheduled check-ins and notices, reflections, idea followers, pilots.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('follow_people',
    sa.Column('platform', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.String(length=128), nullable=False),
    sa.Column('school', sa.String(length=255), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('stopped', sa.Boolean(), nullable=False),
    sa.Column('stopped_reason', sa.String(length=64), nullable=False),
    sa.Column('stopped_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_checkin_on', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('platform', 'user_id', name=op.f('pk_follow_people'))
    )
    op.create_table('follow_tries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.String(length=128), nullable=False),
    sa.Column('session_id', sa.String(length=255), nullable=False),
    sa.Column('title', sa.String(length=255), nullable=False),
    sa.Column('school', sa.String(length=255), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['question_id'], ['questions.id'], name=op.f('fk_follow_tries_question_id_questions'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_follow_tries')),
    sa.UniqueConstraint('platform', 'user_id', 'session_id', name=op.f('uq_follow_tries_platform_user_id_session_id'))
    )
    op.create_index('ix_follow_tries_session_outcome', 'follow_tries', ['session_id', 'outcome'], unique=False)
    op.create_index(op.f('ix_follow_tries_started_at'), 'follow_tries', ['started_at'], unique=False)
    op.create_table('follow_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.String(length=128), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('try_id', sa.Integer(), nullable=True),
    sa.Column('idea_id', sa.Integer(), nullable=True),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('snoozes', sa.Integer(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('lease_owner', sa.String(length=255), nullable=False),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('answer', sa.String(length=32), nullable=True),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['idea_id'], ['ideas.id'], name=op.f('fk_follow_messages_idea_id_ideas'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['try_id'], ['follow_tries.id'], name=op.f('fk_follow_messages_try_id_follow_tries'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_follow_messages'))
    )
    op.create_index(op.f('ix_follow_messages_idea_id'), 'follow_messages', ['idea_id'], unique=False)
    op.create_index('ix_follow_messages_person', 'follow_messages', ['platform', 'user_id'], unique=False)
    op.create_index('ix_follow_messages_state_due', 'follow_messages', ['state', 'due_at'], unique=False)
    op.create_index(op.f('ix_follow_messages_try_id'), 'follow_messages', ['try_id'], unique=False)
    op.create_table('follow_reflections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('try_id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.String(length=255), nullable=False),
    sa.Column('platform', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.String(length=128), nullable=False),
    sa.Column('school', sa.String(length=255), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('shared', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['try_id'], ['follow_tries.id'], name=op.f('fk_follow_reflections_try_id_follow_tries'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_follow_reflections'))
    )
    op.create_index(op.f('ix_follow_reflections_session_id'), 'follow_reflections', ['session_id'], unique=False)
    op.create_index(op.f('ix_follow_reflections_try_id'), 'follow_reflections', ['try_id'], unique=False)
    op.create_table('idea_followers',
    sa.Column('idea_id', sa.Integer(), nullable=False),
    sa.Column('platform', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.String(length=128), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['idea_id'], ['ideas.id'], name=op.f('fk_idea_followers_idea_id_ideas'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('idea_id', 'platform', 'user_id', name=op.f('pk_idea_followers'))
    )
    op.create_table('pilot_members',
    sa.Column('idea_id', sa.Integer(), nullable=False),
    sa.Column('platform', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.String(length=128), nullable=False),
    sa.Column('school', sa.String(length=255), nullable=False),
    sa.Column('joined_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('verdict', sa.String(length=16), nullable=True),
    sa.Column('evidence_url', sa.String(length=1024), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('verdict_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['idea_id'], ['ideas.id'], name=op.f('fk_pilot_members_idea_id_ideas'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('idea_id', 'platform', 'user_id', name=op.f('pk_pilot_members'))
    )


def downgrade() -> None:
    op.drop_table('pilot_members')
    op.drop_table('idea_followers')
    op.drop_index(op.f('ix_follow_reflections_try_id'), table_name='follow_reflections')
    op.drop_index(op.f('ix_follow_reflections_session_id'), table_name='follow_reflections')
    op.drop_table('follow_reflections')
    op.drop_index(op.f('ix_follow_messages_try_id'), table_name='follow_messages')
    op.drop_index('ix_follow_messages_state_due', table_name='follow_messages')
    op.drop_index('ix_follow_messages_person', table_name='follow_messages')
    op.drop_index(op.f('ix_follow_messages_idea_id'), table_name='follow_messages')
    op.drop_table('follow_messages')
    op.drop_index(op.f('ix_follow_tries_started_at'), table_name='follow_tries')
    op.drop_index('ix_follow_tries_session_outcome', table_name='follow_tries')
    op.drop_table('follow_tries')
    op.drop_table('follow_people')
