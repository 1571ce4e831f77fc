"""practical information for attendees: per format, with a session's own overrides

Revision ID: e2a7c0de0001
Revises: c14a0a7b0001
Create Date: 2026-12-03 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e2a7c0de0001'
down_revision = 'c14a0a7b0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('formats', schema=None) as batch_op:
        batch_op.add_column(sa.Column('what_happens', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('what_to_bring', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('meeting_point', sa.String(length=300), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('accessibility_note', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('step_free', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('hearing_loop', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('accessible_toilet', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('contact_name', sa.String(length=120), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('contact_phone', sa.String(length=40), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('contact_email', sa.String(length=254), nullable=False, server_default=''))
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('practical', sa.JSON(), nullable=False, server_default='{}'))


def downgrade():
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.drop_column('practical')
    with op.batch_alter_table('formats', schema=None) as batch_op:
        for name in ('contact_email', 'contact_phone', 'contact_name', 'accessible_toilet',
                     'hearing_loop', 'step_free', 'accessibility_note', 'meeting_point',
                     'what_to_bring', 'what_happens'):
            batch_op.drop_column(name)
