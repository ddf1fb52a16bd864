"""report indexes that cost next to nothing: escalations and tasks with a due date; drop instance indexes that
the composite (column, id) indexes of 0006 cover

Revision ID: 0008
Revises: 0007, 0006
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = ("0007", "0006")
branch_labels = None
depends_on = None

# Covered by ix_instances_started_by_id, ix_instances_process_key_id and ix_instances_status_id (0006).
REDUNDANT = ("started_by", "process_key", "status")


def upgrade() -> None:
    # Partial: escalations are rare, so the dashboard's count reads a tiny index, not every audit event.
    op.create_index("ix_audit_events_escalated_at", "audit_events", ["at"],
                    postgresql_where=sa.text("type = 'task_escalated'"), sqlite_where=sa.text("type = 'task_escalated'"))
    # Partial: only tasks with a due date can breach it (the yearly reports' SLA figures).
    op.create_index("ix_tasks_due_at", "tasks", ["due_at"],
                    postgresql_where=sa.text("due_at IS NOT NULL"), sqlite_where=sa.text("due_at IS NOT NULL"))
    for column in REDUNDANT:
        op.drop_index(f"ix_instances_{column}", table_name="instances")


def downgrade() -> None:
    for column in reversed(REDUNDANT):
        op.create_index(f"ix_instances_{column}", "instances", [column])
    op.drop_index("ix_tasks_due_at", table_name="tasks")
    op.drop_index("ix_audit_events_escalated_at", table_name="audit_events")
