"""each session keeps the domain of its calendar UID, no longer read from the base URL

Revision ID: e2a7c0de0008
Revises: e2a7c0de0007
Create Date: 2026-12-03 22:40:00

"""
from urllib.parse import urlsplit

import sqlalchemy as sa
from alembic import op
from flask import current_app, has_app_context


# revision identifiers, used by Alembic.
revision = 'e2a7c0de0008'
down_revision = 'e2a7c0de0007'
branch_labels = None
depends_on = None


def _domain() -> str:
    """The host the UIDs of existing sessions were made with: EVENTSAPP_BASE_URL's now."""
    if not has_app_context():
        return 'localhost'
    return urlsplit(current_app.config.get('EVENTSAPP_BASE_URL') or '').hostname or 'localhost'


def upgrade():
    # Existing sessions keep the UID calendars already hold (session-<id>@<that host>).
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('uid_domain', sa.String(length=255), nullable=False,
                                      server_default=_domain()))
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.alter_column('uid_domain', existing_type=sa.String(length=255),
                              server_default=None)


def downgrade():
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.drop_column('uid_domain')
