"""instances: fillfactor 80 on PostgreSQL, so that the update at every step of a process stays on its page

Every step of a running process rewrites its instance row (state, summary, version). With full pages, 40% of
those updates in bench/complete_task.py (rows of 1.4 KB, the state compressed in place) moved the row to another
page, which adds an entry to each of the table's twelve indexes and leaves the old ones for VACUUM. With a fifth
of each new page kept free, 94% stay on their page as heap-only tuples: no index is touched. Rows too wide for
the free fifth (1.6-2 KB) gain nothing; wider states go to TOAST and leave a narrow row, which fits. Per task completion (900, instrumented): 2.46-2.54 -> 2.36-2.41 ms, PostgreSQL CPU
0.78-0.79 -> 0.70-0.71 ms.

The setting applies to pages written from now on; existing pages fill as before until rewritten (VACUUM FULL,
pg_repack), which finished instances, never updated again, do not need. The cost is the free fifth of each new
page: about 0.4 KB per instance. SQLite has no such setting.

Revision ID: 0013
Revises: 0012
"""
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE instances SET (fillfactor = 80)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE instances RESET (fillfactor)")
