"""registrations: the partner organisation a registration belongs to (made by its
coordinator or by a member for themselves); contingents: when the partner was told that
unused seats are about to be released; access links: the registration an address
correction moves

Revision ID: e2a7c0de0003
Revises: e2a7c0de0002
Create Date: 2026-12-03 12:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e2a7c0de0003'
down_revision = 'e2a7c0de0002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('registrations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('organisation_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_registrations_organisation_id_organisations'),
            'organisations', ['organisation_id'], ['id'])
        batch_op.create_index(
            batch_op.f('ix_registrations_organisation_id'), ['organisation_id'], unique=False)
    with op.batch_alter_table('contingents', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('release_notice_sent_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('access_links', schema=None) as batch_op:
        batch_op.add_column(sa.Column('registration_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_access_links_registration_id_registrations'),
            'registrations', ['registration_id'], ['id'], ondelete='CASCADE')


def downgrade():
    with op.batch_alter_table('access_links', schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f('fk_access_links_registration_id_registrations'), type_='foreignkey')
        batch_op.drop_column('registration_id')
    with op.batch_alter_table('contingents', schema=None) as batch_op:
        batch_op.drop_column('release_notice_sent_at')
    with op.batch_alter_table('registrations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_registrations_organisation_id'))
        batch_op.drop_constraint(
            batch_op.f('fk_registrations_organisation_id_organisations'), type_='foreignkey')
        batch_op.drop_column('organisation_id')
