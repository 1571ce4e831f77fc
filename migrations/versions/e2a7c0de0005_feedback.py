"""feedback after sessions: open invitations, anonymous responses, addresses that want no
feedback mail; the round's times on sessions, the settings on formats

Revision ID: e2a7c0de0005
Revises: e2a7c0de0004
Create Date: 2026-12-03 15:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e2a7c0de0005'
down_revision = 'e2a7c0de0004'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('formats', schema=None) as batch_op:
        batch_op.add_column(sa.Column('feedback_audience', sa.Enum(
            'attended', 'confirmed', 'nobody', name='feedbackaudience', native_enum=False,
            length=20), nullable=False, server_default='attended'))
        batch_op.add_column(sa.Column('feedback_delay_hours', sa.Integer(), nullable=False,
                                      server_default='3'))
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('feedback_invited_at', sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('feedback_reminded_at', sa.DateTime(timezone=True),
                                      nullable=True))
    op.create_table(
        'feedback_invitations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('session_id', sa.Integer(), nullable=False),
        sa.Column('registration_id', sa.Integer(), nullable=False),
        sa.Column('token_nonce', sa.String(length=64), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['registration_id'], ['registrations.id'],
                                name=op.f('fk_feedback_invitations_registration_id_registrations'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['session_id'], ['sessions.id'],
                                name=op.f('fk_feedback_invitations_session_id_sessions')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback_invitations')),
        sa.UniqueConstraint('registration_id',
                            name=op.f('uq_feedback_invitations_registration_id')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_feedback_invitations_token_hash')),
        sa.UniqueConstraint('token_nonce', name=op.f('uq_feedback_invitations_token_nonce')),
    )
    op.create_index(op.f('ix_feedback_invitations_session_id'), 'feedback_invitations',
                    ['session_id'], unique=False)
    op.create_table(
        'feedback_responses',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('session_id', sa.Integer(), nullable=False),
        sa.Column('round_on', sa.Date(), nullable=False),
        sa.Column('respect', sa.SmallInteger(), nullable=True),
        sa.Column('fair', sa.SmallInteger(), nullable=True),
        sa.Column('explain', sa.SmallInteger(), nullable=True),
        sa.Column('learned', sa.SmallInteger(), nullable=True),
        sa.Column('recommend', sa.SmallInteger(), nullable=True),
        sa.Column('topics', sa.Text(), nullable=False),
        sa.Column('other', sa.Text(), nullable=False),
        sa.Column('texts_state', sa.Enum('new', 'released', 'hidden', name='textsstate',
                                         native_enum=False, length=20), nullable=False),
        sa.Column('texts_reason', sa.Text(), nullable=False),
        sa.Column('texts_decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['session_id'], ['sessions.id'],
                                name=op.f('fk_feedback_responses_session_id_sessions')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback_responses')),
        sqlite_with_rowid=False,
    )
    op.create_index(op.f('ix_feedback_responses_session_id'), 'feedback_responses',
                    ['session_id'], unique=False)
    op.create_table(
        'feedback_opt_outs',
        sa.Column('address_key', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('address_key', name=op.f('pk_feedback_opt_outs')),
        sqlite_with_rowid=False,
    )


def downgrade():
    op.drop_table('feedback_opt_outs')
    op.drop_index(op.f('ix_feedback_responses_session_id'), table_name='feedback_responses')
    op.drop_table('feedback_responses')
    op.drop_index(op.f('ix_feedback_invitations_session_id'), table_name='feedback_invitations')
    op.drop_table('feedback_invitations')
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.drop_column('feedback_reminded_at')
        batch_op.drop_column('feedback_invited_at')
    with op.batch_alter_table('formats', schema=None) as batch_op:
        batch_op.drop_column('feedback_delay_hours')
        batch_op.drop_column('feedback_audience')
