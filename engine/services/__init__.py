"""The service API used by web, CLI and tests. Every function opens one unit of work and commits once."""

from . import effect_handlers  # noqa: F401 - registers the effect handlers
from .admin import (
    admin_add_user,
    is_read_only,
    list_tokens,
    record_refusal,
    refuse_if_read_only,
    require_admin,
    revoke_token,
    set_active,
    set_roles,
)
from .auditing import chain_head, export_audit, verify_audit
from .awareness import awareness_figures, case_receipt, sees_receipt_only
from .deployments import can_start, deploy, get_form, list_processes
from .diagrams import instance_diagram
from .instances import get_instance, instance_history, list_instances, start_instance
from .messages import deliver_pending_messages
from .my_requests import list_my_requests
from .notifications_read import count_notifications, list_notifications
from .outbox import send_pending_notifications
from .replays import instance_ids, replay_instance
from .reports import dashboard_report, ofs_report, sharing_log
from .staging import deploy_staged, review_staged, stage_upload
from .tasks import claim_task, complete_task, get_task, list_tasks, unclaim_task
from .throttling import check_login_allowed, clear_login_failures, record_login_failure
from .timers import fire_due_timers
from .training import import_training_records, training_register
from .users import add_user, authenticate_password, authenticate_token, get_actor, issue_token, list_users
from .worker import run_worker_once

__all__ = [
    "awareness_figures", "case_receipt", "sees_receipt_only", "import_training_records", "training_register",
    "add_user", "authenticate_password", "authenticate_token", "can_start", "chain_head", "claim_task",
    "complete_task", "deliver_pending_messages", "run_worker_once", "send_pending_notifications",
    "count_notifications", "deploy", "fire_due_timers", "get_actor", "get_form",
    "get_instance", "get_task", "instance_diagram", "instance_history", "issue_token", "list_instances",
    "list_my_requests", "list_notifications", "list_processes", "list_tasks", "list_users",
    "start_instance", "unclaim_task", "verify_audit", "export_audit", "replay_instance", "instance_ids",
    "admin_add_user", "is_read_only", "require_admin", "list_tokens", "record_refusal", "refuse_if_read_only",
    "revoke_token", "set_active", "set_roles",
    "deploy_staged", "review_staged", "stage_upload", "check_login_allowed", "clear_login_failures",
    "record_login_failure",
    "dashboard_report", "ofs_report", "sharing_log",
]
