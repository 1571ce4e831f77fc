"""what became of a released topic suggestion: taken up on a day, or not now with a reason

Revision ID: e2a7c0de0006
Revises: e2a7c0de0005
Create Date: 2026-12-03 18:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e2a7c0de0006'
down_revision = 'e2a7c0de0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('feedback_responses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('topic_status', sa.Enum(
            'open', 'taken_up', 'not_now', name='topicstatus', native_enum=False, length=20),
            nullable=False, server_default='open'))
        batch_op.add_column(sa.Column('topic_taken_up_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('topic_note', sa.Text(), nullable=False,
                                      server_default=''))


def downgrade():
    with op.batch_alter_table('feedback_responses', schema=None) as batch_op:
        batch_op.drop_column('topic_note')
        batch_op.drop_column('topic_taken_up_on')
        batch_op.drop_column('topic_status')
