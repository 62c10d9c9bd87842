"""record reads, deactivation and erasure dates

Revision ID: e7a41c9d3f20
Revises: c15a7e0d9b42
Create Date: 2026-12-03 09:00:00

People deactivated before this migration get the time of the migration as their
deactivation date (when they really left was never recorded), so the retention period
of their records starts now: nothing is erased earlier than it could have been.
"""
from alembic import op
import sqlalchemy as sa

import voortgang.database


# revision identifiers, used by Alembic.
revision = 'e7a41c9d3f20'
down_revision = 'c15a7e0d9b42'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deactivated_at', voortgang.database.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('erased_at', voortgang.database.UTCDateTime(timezone=True), nullable=True))
    users = sa.table('users', sa.column('active', sa.Boolean),
                     sa.column('deactivated_at', voortgang.database.UTCDateTime(timezone=True)))
    op.execute(users.update().where(users.c.active.is_(False))
               .values(deactivated_at=voortgang.database.utcnow()))

    op.create_table(
        'record_reads',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('conversation_id', sa.Integer(), nullable=False),
        sa.Column('reader_id', sa.Integer(), nullable=True),
        sa.Column('capacity', sa.String(length=20), nullable=False),
        sa.Column('form', sa.String(length=10), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('at', voortgang.database.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("form IN ('page', 'json', 'pdf')", name=op.f('ck_record_reads_form_valid')),
        sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'],
                                name=op.f('fk_record_reads_conversation_id_conversations'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['reader_id'], ['users.id'],
                                name=op.f('fk_record_reads_reader_id_users'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_record_reads')),
        sa.UniqueConstraint('conversation_id', 'reader_id', 'form', 'day', name='uq_record_reads_once_a_day'),
    )
    with op.batch_alter_table('record_reads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_record_reads_conversation_id'), ['conversation_id'], unique=False)


def downgrade():
    with op.batch_alter_table('record_reads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_record_reads_conversation_id'))
    op.drop_table('record_reads')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('erased_at')
        batch_op.drop_column('deactivated_at')
