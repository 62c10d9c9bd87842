"""private preparation, ready to share, the guide's closed parts; feedback both ways in a new installation's default questions

Revision ID: e8b3f61a2c7d
Revises: e7a41c9d3f20
Create Date: 2026-12-03 04:20:00

The feedback questions are added to the default template only on a new installation
(nobody signed up yet): an existing organisation's templates are never changed.
"""
from alembic import op
import sqlalchemy as sa

import voortgang.database


# revision identifiers, used by Alembic.
revision = 'e8b3f61a2c7d'
down_revision = 'e7a41c9d3f20'
branch_labels = None
depends_on = None

# Feedback both ways: to the manager and to the organisation, asked of both sides.
FEEDBACK_QUESTIONS = [
    ("Wat kan de leidinggevende anders doen om de werknemer beter te ondersteunen?",
     "What could the manager do differently to support the employee better?"),
    ("Wat kan de organisatie beter doen, voor de werknemer en voor het werk?",
     "What could the organisation do better, for the employee and for the work?"),
]


def upgrade():
    op.create_table('preparations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', voortgang.database.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_preparations_author_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['question_id'], ['conversation_questions.id'], name=op.f('fk_preparations_question_id_conversation_questions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_preparations')),
    sa.UniqueConstraint('question_id', 'author_id', name='uq_preparations_question_author')
    )
    with op.batch_alter_table('preparations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_preparations_author_id'), ['author_id'], unique=False)

    op.create_table('preparation_shares',
    sa.Column('conversation_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('ready_at', voortgang.database.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], name=op.f('fk_preparation_shares_conversation_id_conversations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_preparation_shares_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('conversation_id', 'user_id', name=op.f('pk_preparation_shares'))
    )
    op.create_table('guide_dismissals',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('part', sa.String(length=30), nullable=False),
    sa.Column('at', voortgang.database.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_guide_dismissals_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'part', name=op.f('pk_guide_dismissals'))
    )
    _add_feedback_questions_on_a_new_installation()


def _add_feedback_questions_on_a_new_installation():
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT COUNT(*) FROM users")).scalar():
        return  # an organisation already uses it: its templates stay as they are
    template_id = bind.execute(sa.text("SELECT id FROM templates WHERE is_default")).scalar()
    if template_id is None:
        return
    # At the end of "looking back": how the collaboration went, from both sides.
    last = bind.execute(sa.text(
        "SELECT COALESCE(MAX(position), 0) FROM template_questions"
        " WHERE template_id = :t AND phase = 'looking_back'"), {"t": template_id}).scalar()
    questions = sa.table(
        "template_questions",
        sa.column("template_id", sa.Integer), sa.column("phase", sa.String),
        sa.column("phase_order", sa.Integer), sa.column("position", sa.Integer),
        sa.column("text_nl", sa.Text), sa.column("text_en", sa.Text),
    )
    op.bulk_insert(questions, [
        {"template_id": template_id, "phase": "looking_back", "phase_order": 1, "position": last + i,
         "text_nl": text_nl, "text_en": text_en}
        for i, (text_nl, text_en) in enumerate(FEEDBACK_QUESTIONS, start=1)
    ])


def downgrade():
    # The feedback questions stay: they are ordinary template questions by now.
    op.drop_table('guide_dismissals')
    op.drop_table('preparation_shares')
    with op.batch_alter_table('preparations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_preparations_author_id'))
    op.drop_table('preparations')
