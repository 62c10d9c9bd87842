"""reminders sent once

Revision ID: 5e1c0a7d2b91
Revises: df418ea12c4c
Create Date: 2026-11-28 00:35:00

"""
from alembic import op
import sqlalchemy as sa

import voortgang.database


# revision identifiers, used by Alembic.
revision = '5e1c0a7d2b91'
down_revision = 'df418ea12c4c'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sent_reminders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('object_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('sent_at', voortgang.database.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_sent_reminders_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sent_reminders')),
    sa.UniqueConstraint('kind', 'object_id', 'user_id', name='uq_sent_reminders_once')
    )


def downgrade():
    op.drop_table('sent_reminders')
