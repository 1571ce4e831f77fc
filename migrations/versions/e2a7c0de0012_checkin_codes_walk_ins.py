"""mails carry the check-in code of a confirmed place; registrations made at the door

Revision ID: e2a7c0de0012
Revises: e2a7c0de0011
Create Date: 2026-12-04 03:50:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'e2a7c0de0012'
down_revision = 'e2a7c0de0011'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('checkin_code', sa.String(length=20), nullable=True))
    with op.batch_alter_table('registrations', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('walk_in', sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade():
    with op.batch_alter_table('registrations', schema=None) as batch_op:
        batch_op.drop_column('walk_in')
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_column('checkin_code')
