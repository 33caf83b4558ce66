"""surveys after an event: a survey per event, its questions, one response per registration, answers as rows

Revision ID: 0013
Revises: 0014
"""
import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0014'
branch_labels = None
depends_on = None

KINDS = ('scale5', 'single', 'multi', 'text', 'come_again', 'nps')

def upgrade():
    op.create_table(
        'survey',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('event_id', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('intro', sa.Text(), server_default='', nullable=False),
        sa.Column('opens_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('closes_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_survey_event_id_event'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_survey')),
        sa.UniqueConstraint('event_id', name=op.f('uq_survey_event_id')),
        sqlite_autoincrement=True,
    )
    op.create_table(
        'survey_question',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('survey_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('kind', sa.Enum(*KINDS, name='surveykind', native_enum=False, length=16), nullable=False),
        sa.Column('label', sa.String(length=300), nullable=False),
        sa.Column('label_en', sa.String(length=300), server_default='', nullable=False),
        sa.Column('required', sa.Boolean(), nullable=False),
        sa.Column('choices', sa.JSON(), nullable=False),
        sa.Column('choices_en', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['survey_id'], ['survey.id'], name=op.f('fk_survey_question_survey_id_survey'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_question')),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f('ix_survey_question_survey_id'), 'survey_question', ['survey_id'])
    op.create_table(
        'survey_response',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('survey_id', sa.Integer(), nullable=False),
        sa.Column('registration_id', sa.Integer(), nullable=False),
        sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('version', sa.Integer(), server_default='1', nullable=False),
        sa.Column('language', sa.String(length=5), server_default='ja', nullable=False),
        sa.ForeignKeyConstraint(['registration_id'], ['registration.id'],
                                name=op.f('fk_survey_response_registration_id_registration'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['survey_id'], ['survey.id'], name=op.f('fk_survey_response_survey_id_survey'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_response')),
        sa.UniqueConstraint('survey_id', 'registration_id', name='uq_survey_response_once'),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f('ix_survey_response_registration_id'), 'survey_response', ['registration_id'])
    op.create_table(
        'survey_answer',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('response_id', sa.Integer(), nullable=False),
        sa.Column('question_id', sa.Integer(), nullable=False),
        sa.Column('value_number', sa.Integer(), nullable=True),
        sa.Column('value_text', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['question_id'], ['survey_question.id'],
                                name=op.f('fk_survey_answer_question_id_survey_question'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['response_id'], ['survey_response.id'],
                                name=op.f('fk_survey_answer_response_id_survey_response'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_answer')),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f('ix_survey_answer_response_id'), 'survey_answer', ['response_id'])
    op.create_index('ix_survey_answer_question', 'survey_answer', ['question_id', 'value_number'])

def downgrade():
    op.drop_index('ix_survey_answer_question', table_name='survey_answer')
    op.drop_index(op.f('ix_survey_answer_response_id'), table_name='survey_answer')
    op.drop_table('survey_answer')
    op.drop_index(op.f('ix_survey_response_registration_id'), table_name='survey_response')
    op.drop_table('survey_response')
    op.drop_index(op.f('ix_survey_question_survey_id'), table_name='survey_question')
    op.drop_table('survey_question')
    op.drop_table('survey')
