"""outbox messages: what a deferred mail must know of the moment it was queued;
organisations: the language of mail to their contact address

Revision ID: e2a7c0de0002
Revises: e2a7c0de0001
Create Date: 2026-12-03 10:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e2a7c0de0002'
down_revision = 'e2a7c0de0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('context', sa.JSON(), nullable=True))
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=8), nullable=False,
                                      server_default='de'))


def downgrade():
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_column('language')
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_column('context')
