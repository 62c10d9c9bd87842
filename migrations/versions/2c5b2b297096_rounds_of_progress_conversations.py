"""rounds of progress conversations

Revision ID: 2c5b2b297096
Revises: e8b3f61a2c7d
Create Date: 2026-12-02 06:00:08

A round (name, period, who is in it, the question list) and its people, taken in when it
starts. Each person's state, conversation and manager stay NULL while the round is open
(derived from the conversations) and are frozen when it closes.

"""
from alembic import op
import sqlalchemy as sa

import voortgang.database


# revision identifiers, used by Alembic.
revision = '2c5b2b297096'
down_revision = 'e8b3f61a2c7d'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('rounds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('period_start', voortgang.database.UTCDateTime(), nullable=False),
    sa.Column('period_end', voortgang.database.UTCDateTime(), nullable=False),
    sa.Column('scope', sa.String(length=10), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('template_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', voortgang.database.UTCDateTime(), nullable=False),
    sa.Column('closed_at', voortgang.database.UTCDateTime(), nullable=True),
    sa.Column('closed_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("scope IN ('everyone', 'team', 'chosen')", name=op.f('ck_rounds_scope_valid')),
    sa.CheckConstraint('starts_on <= ends_on', name=op.f('ck_rounds_period_in_order')),
    sa.ForeignKeyConstraint(['closed_by_id'], ['users.id'], name=op.f('fk_rounds_closed_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_rounds_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['team_id'], ['users.id'], name=op.f('fk_rounds_team_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['template_id'], ['templates.id'], name=op.f('fk_rounds_template_id_templates'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rounds'))
    )
    with op.batch_alter_table('rounds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rounds_team_id'), ['team_id'], unique=False)

    op.create_table('round_people',
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=True),
    sa.Column('conversation_id', sa.Integer(), nullable=True),
    sa.Column('manager_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("state IS NULL OR state IN ('to_plan', 'planned', 'in_progress', 'awaiting_signatures', 'completed')", name=op.f('ck_round_people_state_valid')),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], name=op.f('fk_round_people_conversation_id_conversations'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['manager_id'], ['users.id'], name=op.f('fk_round_people_manager_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['person_id'], ['users.id'], name=op.f('fk_round_people_person_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['round_id'], ['rounds.id'], name=op.f('fk_round_people_round_id_rounds'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('round_id', 'person_id', name=op.f('pk_round_people'))
    )
    with op.batch_alter_table('round_people', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_round_people_conversation_id'), ['conversation_id'], unique=False)
        batch_op.create_index('ix_round_people_person', ['person_id'], unique=False)

    # A person's latest conversation within a round's period.
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.create_index('ix_conversations_employee_scheduled', ['employee_id', 'scheduled_at'], unique=False)



def downgrade():
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_index('ix_conversations_employee_scheduled')

    with op.batch_alter_table('round_people', schema=None) as batch_op:
        batch_op.drop_index('ix_round_people_person')
        batch_op.drop_index(batch_op.f('ix_round_people_conversation_id'))

    op.drop_table('round_people')
    with op.batch_alter_table('rounds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rounds_team_id'))

    op.drop_table('rounds')
