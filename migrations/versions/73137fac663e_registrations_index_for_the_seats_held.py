"""registrations index for the seats held

Revision ID: 73137fac663e
Revises: 24a3b01cb475
Create Date: 2026-11-27 14:56:47.622460

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '73137fac663e'
down_revision = '24a3b01cb475'
branch_labels = None
depends_on = None


def upgrade():
    # The seats held, read under the seat lock without walking the waitlist.
    held = sa.text("status IN ('pending', 'confirmed')")
    with op.batch_alter_table('registrations', schema=None) as batch_op:
        batch_op.create_index('ix_registrations_seats_held', ['session_id', 'contingent_id'],
                              unique=False, sqlite_where=held, postgresql_where=held)


def downgrade():
    with op.batch_alter_table('registrations', schema=None) as batch_op:
        batch_op.drop_index('ix_registrations_seats_held')
