"""task lists: a partial index on open tasks in inbox order (no due date last, then due date, then creation)

The inbox reads the first page of open tasks offered to a user's roles, in that order. Without an index in that
order PostgreSQL read every open task and sorted them for each page: 22 ms at 10k open tasks, growing with them
(bench/growth.py, 100k instances, one in ten running). With it, it walks the index and stops at the page: 3 ms.

SQLAlchemy does not reflect expression indexes on SQLite, so a later batch migration that rebuilds `tasks` there
must create this index again.

Revision ID: 0011
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

WHERE = "status = 'open'"


def upgrade() -> None:
    op.create_index("ix_tasks_open_queue", "tasks", [sa.text("(due_at IS NULL)"), "due_at", "created_at"],
                    postgresql_where=sa.text(WHERE), sqlite_where=sa.text(WHERE))


def downgrade() -> None:
    op.drop_index("ix_tasks_open_queue", table_name="tasks")
