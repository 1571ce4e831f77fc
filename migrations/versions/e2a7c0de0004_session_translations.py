"""sessions: a date's own texts (interpreting, note, reason for calling off, practical
details) in further languages

Revision ID: e2a7c0de0004
Revises: e2a7c0de0003
Create Date: 2026-12-03 12:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e2a7c0de0004'
down_revision = 'e2a7c0de0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('translations', sa.JSON(), nullable=False,
                                      server_default='{}'))


def downgrade():
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.drop_column('translations')
