"""organisations list the websites that may frame their dates widget

Revision ID: e2a7c0de0011
Revises: e2a7c0de0010
Create Date: 2026-12-04 03:40:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'e2a7c0de0011'
down_revision = 'e2a7c0de0010'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('embed_origins', sa.Text(), nullable=False, server_default=''))


def downgrade():
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_column('embed_origins')
