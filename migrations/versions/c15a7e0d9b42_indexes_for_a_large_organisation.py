"""indexes for a large organisation: current open agreements, follow-ups, a manager's conversations

Revision ID: c15a7e0d9b42
Revises: 67ca63aa3e28
Create Date: 2026-12-02 03:40:00

The overview, the open agreements and the home page ask, per conversation, whether a
completed follow-up exists and how many open (and overdue) agreements it holds; both
are answered from these indexes alone. migrations/env.py gathers SQLite's planner
statistics (ANALYZE) after this runs.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'c15a7e0d9b42'
down_revision = '67ca63aa3e28'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('agreements', schema=None) as batch_op:
        batch_op.create_index('ix_agreements_conversation_status_due', ['conversation_id', 'status', 'due'], unique=False)

    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.create_index('ix_conversations_follows_status', ['follows_id', 'status'], unique=False)
        batch_op.create_index('ix_conversations_manager_status', ['manager_id', 'status', 'scheduled_at'], unique=False)


def downgrade():
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_index('ix_conversations_manager_status')
        batch_op.drop_index('ix_conversations_follows_status')

    with op.batch_alter_table('agreements', schema=None) as batch_op:
        batch_op.drop_index('ix_agreements_conversation_status_due')
