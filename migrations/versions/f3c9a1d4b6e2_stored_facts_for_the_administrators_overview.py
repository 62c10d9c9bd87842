"""stored facts for the administrator's overview: person_facts, agreements.is_current

Revision ID: f3c9a1d4b6e2
Revises: 2c5b2b297096
Create Date: 2026-12-02 06:30:00

Each person's facts (last completed conversation, the latest open one, their current
open agreements) and whether an agreement is a current open one are stored, kept by
voortgang/records/facts.py: refresh_facts in the writes that move them. This migration
creates them and fills them from the conversations with the same definitions, in plain
SQL that runs on SQLite and PostgreSQL (`voortgang facts rebuild` recomputes them with
the app's own queries).
"""
from alembic import op
import sqlalchemy as sa

import voortgang.database


# revision identifiers, used by Alembic.
revision = 'f3c9a1d4b6e2'
down_revision = '2c5b2b297096'
branch_labels = None
depends_on = None

OPEN = "('planned', 'in_progress', 'awaiting_signatures')"

CURRENT = """
UPDATE agreements SET is_current = true
WHERE status = 'open' AND conversation_id IN (
    SELECT c.id FROM conversations c
    WHERE c.status = 'completed' AND NOT EXISTS (
        SELECT 1 FROM conversations f WHERE f.follows_id = c.id AND f.status = 'completed'))
"""


def _latest(column, statuses):
    return (f"(SELECT c.{column} FROM conversations c WHERE c.employee_id = u.id AND c.status IN {statuses} "
            "ORDER BY c.scheduled_at DESC, c.id DESC LIMIT 1)")


def _agreements(aggregate):
    return (f"(SELECT {aggregate} FROM agreements a JOIN conversations c ON c.id = a.conversation_id "
            "WHERE c.employee_id = u.id AND a.is_current = true)")


FACTS = f"""
INSERT INTO person_facts (employee_id, last_completed_at, next_evaluation, current_id, open_agreements, first_due)
SELECT u.id, {_latest('scheduled_at', "('completed')")}, {_latest('next_evaluation', "('completed')")},
       {_latest('id', OPEN)}, {_agreements('count(a.id)')}, {_agreements('min(a.due)')}
FROM users u
WHERE EXISTS (SELECT 1 FROM conversations c WHERE c.employee_id = u.id)
"""


def upgrade():
    op.create_table('person_facts',
    sa.Column('employee_id', sa.Integer(), nullable=False),
    sa.Column('last_completed_at', voortgang.database.UTCDateTime(), nullable=True),
    sa.Column('next_evaluation', sa.Date(), nullable=True),
    sa.Column('current_id', sa.Integer(), nullable=True),
    sa.Column('open_agreements', sa.Integer(), server_default='0', nullable=False),
    sa.Column('first_due', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['current_id'], ['conversations.id'], name=op.f('fk_person_facts_current_id_conversations')),
    sa.ForeignKeyConstraint(['employee_id'], ['users.id'], name=op.f('fk_person_facts_employee_id_users')),
    sa.PrimaryKeyConstraint('employee_id', name=op.f('pk_person_facts'))
    )
    with op.batch_alter_table('agreements', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_current', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.create_index('ix_agreements_current_due', ['is_current', 'due', 'owner', 'conversation_id'], unique=False)
    op.execute(CURRENT)
    op.execute(FACTS)


def downgrade():
    with op.batch_alter_table('agreements', schema=None) as batch_op:
        batch_op.drop_index('ix_agreements_current_due')
        batch_op.drop_column('is_current')
    op.drop_table('person_facts')
