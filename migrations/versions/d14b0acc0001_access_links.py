"""access links: mailed links for data, calendar and password, random and hashed

Revision ID: d14b0acc0001
Revises: 73137fac663e
Create Date: 2026-12-03 01:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd14b0acc0001'
down_revision = '73137fac663e'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('access_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.Enum('data', 'calendar', 'password', name='accesspurpose', native_enum=False, length=20), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_access_links_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_access_links')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_access_links_token_hash'))
    )
    with op.batch_alter_table('access_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_access_links_email'), ['email'], unique=False)


def downgrade():
    with op.batch_alter_table('access_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_access_links_email'))
    op.drop_table('access_links')
