"""Insights: scrubbed questions and topics, sign-in links, page views, privacy log, sends.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('insight_clusters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=255), nullable=False),
    sa.Column('centroid', sa.LargeBinary(), nullable=False),
    sa.Column('members', sa.Integer(), nullable=False),
    sa.Column('terms', sa.JSON(), nullable=False),
    sa.Column('dirty', sa.Boolean(), nullable=False),
    sa.Column('model', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_insight_clusters'))
    )
    op.create_table('insight_questions',
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('week', sa.Date(), nullable=False),
    sa.Column('asker', sa.BigInteger(), nullable=False),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('good_match', sa.Boolean(), nullable=False),
    sa.Column('grade_band', sa.String(length=16), nullable=True),
    sa.Column('subject', sa.String(length=32), nullable=True),
    sa.Column('cluster_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['cluster_id'], ['insight_clusters.id'], name=op.f('fk_insight_questions_cluster_id_insight_clusters'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['question_id'], ['questions.id'], name=op.f('fk_insight_questions_question_id_questions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('question_id', name=op.f('pk_insight_questions'))
    )
    op.create_index(op.f('ix_insight_questions_created_at'), 'insight_questions', ['created_at'], unique=False)
    op.create_index(op.f('ix_insight_questions_asker'), 'insight_questions', ['asker'], unique=False)
    op.create_index('ix_insight_questions_week_cluster', 'insight_questions', ['week', 'cluster_id'], unique=False)
    op.create_index('ix_insight_questions_cluster_week', 'insight_questions', ['cluster_id', 'week'], unique=False)
    op.create_table('insight_answers',
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.String(length=255), nullable=False),
    sa.Column('moment_start', sa.Integer(), nullable=True),
    sa.Column('week', sa.Date(), nullable=False),
    sa.Column('asker', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['question_id'], ['insight_questions.question_id'], name=op.f('fk_insight_answers_question_id_insight_questions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('question_id', 'rank', name=op.f('pk_insight_answers'))
    )
    op.create_index(op.f('ix_insight_answers_session_id'), 'insight_answers', ['session_id'], unique=False)
    op.create_index('ix_insight_answers_week_session', 'insight_answers', ['week', 'session_id'], unique=False)
    op.create_table('insight_sign_ins',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('platform', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.String(length=128), nullable=False),
    sa.Column('user_name', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_insight_sign_ins'))
    )
    op.create_index(op.f('ix_insight_sign_ins_expires_at'), 'insight_sign_ins', ['expires_at'], unique=False)
    op.create_table('insight_page_views',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('viewed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('platform', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.String(length=128), nullable=False),
    sa.Column('user_name', sa.String(length=255), nullable=False),
    sa.Column('method', sa.String(length=8), nullable=False),
    sa.Column('path', sa.String(length=512), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_insight_page_views'))
    )
    op.create_index(op.f('ix_insight_page_views_viewed_at'), 'insight_page_views', ['viewed_at'], unique=False)
    op.create_table('privacy_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('subject', sa.String(length=64), nullable=False),
    sa.Column('requested_by', sa.String(length=255), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_privacy_log'))
    )
    op.create_index(op.f('ix_privacy_log_created_at'), 'privacy_log', ['created_at'], unique=False)
    op.create_table('insight_sends',
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ref', sa.String(length=255), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('kind', 'key', name=op.f('pk_insight_sends'))
    )


def downgrade() -> None:
    op.drop_table('insight_sends')
    op.drop_index(op.f('ix_privacy_log_created_at'), table_name='privacy_log')
    op.drop_table('privacy_log')
    op.drop_index(op.f('ix_insight_page_views_viewed_at'), table_name='insight_page_views')
    op.drop_table('insight_page_views')
    op.drop_index(op.f('ix_insight_sign_ins_expires_at'), table_name='insight_sign_ins')
    op.drop_table('insight_sign_ins')
    op.drop_index('ix_insight_answers_week_session', table_name='insight_answers')
    op.drop_index(op.f('ix_insight_answers_session_id'), table_name='insight_answers')
    op.drop_table('insight_answers')
    op.drop_index('ix_insight_questions_cluster_week', table_name='insight_questions')
    op.drop_index('ix_insight_questions_week_cluster', table_name='insight_questions')
    op.drop_index(op.f('ix_insight_questions_asker'), table_name='insight_questions')
    op.drop_index(op.f('ix_insight_questions_created_at'), table_name='insight_questions')
    op.drop_table('insight_questions')
    op.drop_table('insight_clusters')
