"""outbox_messages claim_token

Revision ID: c14a0a7b0001
Revises: d14b0acc0001
Create Date: 2026-11-28 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c14a0a7b0001'
down_revision = 'd14b0acc0001'
branch_labels = None
depends_on = None


def upgrade():
    # Who holds a "sending" row: outcomes are recorded only under the claim still held.
    # A row left "sending" by a worker of the previous version has none; it is taken over
    # after its lease like any other.
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claim_token', sa.String(length=32), nullable=True))


def downgrade():
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_column('claim_token')
