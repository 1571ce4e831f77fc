"""sessions remember when they were called off or moved, and the start before the move

Revision ID: e2a7c0de0009
Revises: e2a7c0de0008
Create Date: 2026-12-04 04:00:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'e2a7c0de0009'
down_revision = 'e2a7c0de0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('previous_starts_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('rescheduled_at', sa.DateTime(timezone=True), nullable=True))
    # A date called off before this revision: its last change was the cancellation.
    op.execute("UPDATE sessions SET cancelled_at = updated_at WHERE status = 'cancelled'")


def downgrade():
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.drop_column('rescheduled_at')
        batch_op.drop_column('previous_starts_at')
        batch_op.drop_column('cancelled_at')
