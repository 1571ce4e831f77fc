"""a registration may carry a question or topic for the session ("questions ahead")

Revision ID: e2a7c0de0010
Revises: e2a7c0de0009
Create Date: 2026-12-04 03:30:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'e2a7c0de0010'
down_revision = 'e2a7c0de0009'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('registrations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('question', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(
            sa.Column('question_named', sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade():
    with op.batch_alter_table('registrations', schema=None) as batch_op:
        batch_op.drop_column('question_named')
        batch_op.drop_column('question')
