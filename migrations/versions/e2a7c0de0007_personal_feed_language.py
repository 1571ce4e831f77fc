"""the language a personal calendar feed is written in

Revision ID: e2a7c0de0007
Revises: e2a7c0de0006
Create Date: 2026-12-03 22:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e2a7c0de0007'
down_revision = 'e2a7c0de0006'
branch_labels = None
depends_on = None


def upgrade():
    # Feeds set up so far were written in German, the site's default: they stay so until
    # the person renews theirs in another language.
    with op.batch_alter_table('personal_feeds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=8), nullable=False,
                                      server_default='de'))


def downgrade():
    with op.batch_alter_table('personal_feeds', schema=None) as batch_op:
        batch_op.drop_column('language')
