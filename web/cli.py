"""The `campusflow` command: database, deploy, users, serve, worker, audit. Thin: parses, calls services."""

from __future__ import annotations

import atexit
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from engine import services
from engine.bootstrap import WorkflowEngine, bootstrap
from engine.catalog import load_catalog
from engine.config import Settings
from engine.errors import EngineError, ProcessDefinitionError
from engine.model import Actor


def _engine() -> WorkflowEngine:
    engine = bootstrap(Settings.from_env())
    atexit.register(engine.db.dispose)  # close pooled connections cleanly when the command ends
    return engine


@click.group(help="campusflow: Prevent-duty governance as executable BPMN.")
def main() -> None:
    """Entry point."""


@main.group(help="Database schema.")
def db() -> None:
    """Database commands."""


@db.command("upgrade", help="Create or migrate the database schema to the newest version.")
def db_upgrade() -> None:
    """Run the Alembic migrations."""
    from engine.migrate import upgrade

    settings = Settings.from_env()
    upgrade(settings.database_url)
    click.echo(f"database at {settings.database_url} is up to date")


@main.command(help="Validate processes/ and forms/ and register new process versions.")
@click.argument("directory", required=False, type=click.Path(path_type=Path))
@click.option("--forms", "forms_dir", type=click.Path(path_type=Path), help="The forms folder.")
def deploy(directory: Path | None, forms_dir: Path | None) -> None:
    """Deploy; on any problem print file, element and reason for each, exit 1, deploy nothing."""
    engine = _engine()
    processes_dir = directory or engine.settings.processes_dir
    try:
        catalog = load_catalog(processes_dir, forms_dir or engine.settings.forms_dir, engine.settings.roles)
    except ProcessDefinitionError as exc:
        for problem in exc.problems:
            click.echo(f"error: {problem}", err=True)
        click.echo(f"deploy failed: {len(exc.problems)} problem(s); nothing was deployed", err=True)
        sys.exit(1)
    result = services.deploy(engine, catalog, Actor("cli", frozenset({"admin"})))
    for key, version in result.deployed:
        click.echo(f"deployed {key} version {version}")
    for key in result.unchanged:
        click.echo(f"unchanged {key}")
    click.echo(f"{len(result.deployed)} process version(s) deployed, {len(result.unchanged)} unchanged, "
               f"{len(result.forms_deployed)} form version(s) deployed")


@main.group(help="Accounts and API tokens.")
def users() -> None:
    """User commands."""


@users.command("add", help="Add a user with one or more roles.")
@click.argument("name")
@click.option("--role", "roles", multiple=True, required=True, help="A role; repeat for several.")
@click.option("--password", default=None, help="Without one, a password is generated and printed.")
@click.option("--email", default=None)
@click.option("--display-name", default=None)
def users_add(name: str, roles: tuple[str, ...], password: str | None, email: str | None,
              display_name: str | None) -> None:
    """Create the account."""
    roles_list = [r.strip() for role in roles for r in role.split(",") if r.strip()]
    view, generated = _run(lambda: services.add_user(_engine(), name, roles_list, password=password, email=email,
                                                     display_name=display_name))
    click.echo(f"added {view.username} with roles {', '.join(view.roles)}")
    if generated:
        click.echo(f"password: {generated}")


@users.command("token", help="Print a new API token for NAME (the last line of output).")
@click.argument("name")
def users_token(name: str) -> None:
    """Issue a token."""
    click.echo(_run(lambda: services.issue_token(_engine(), name)))


DEMO_USERS = (
    ("olivia", "Olivia Reed (organiser)", ("organiser",)),
    ("evan", "Evan Price (events office)", ("events_office",)),
    ("sam", "Sam Okafor (security)", ("security",)),
    ("priya", "Priya Shah (Prevent lead)", ("prevent_lead",)),
    ("morgan", "Morgan Hale (senior officer)", ("senior_officer",)),
    ("alex", "Alex Byrne (appeal officer)", ("appeal_officer",)),
    ("dana", "Dana Cole (data protection officer)", ("dpo",)),
    ("audrey", "Audrey Lin (auditor)", ("auditor",)),
    ("ada", "Ada Min (administrator)", ("admin",)),
)


@main.command(help="Create demo users, one per role (password: demo-<username>), and print their logins.")
def demo() -> None:
    """Idempotent: existing demo users are left as they are."""
    engine = _engine()
    existing = {u.username for u in services.list_users(engine)}
    click.echo("demo logins (user / password / roles):")
    for username, display_name, roles in DEMO_USERS:
        password = f"demo-{username}"
        if username not in existing:
            services.add_user(engine, username, list(roles), password=password, display_name=display_name,
                              email=f"{username}@example.ac.uk")
        click.echo(f"  {username:8} {password:14} {', '.join(roles)}")


@main.command(help="Serve the web UI and the JSON API.")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
@click.option("--workers", default=2, type=int, show_default=True, help="Worker processes.")
def serve(host: str, port: int, workers: int) -> None:
    """Run the app under gunicorn."""
    from web.server import serve as run_server

    click.echo(f"campusflow on http://{host}:{port} ({workers} workers); Ctrl+C to stop")
    run_server(host, port, workers)


@main.command(help="Fire due timers, deliver messages between processes, and send the notification outbox.")
@click.option("--once", is_flag=True, help="Handle everything due now, then exit.")
@click.option("--interval", default=5.0, type=float, help="Seconds between polls.")
def worker(once: bool, interval: float) -> None:
    """Poll for due work; several workers may run at once (each timer and message is handled once)."""
    import time

    engine = _engine()
    while True:
        done = services.run_worker_once(engine)
        if once:
            click.echo(f"fired timers in {done.timers} instance(s), delivered {done.messages} message(s), "
                       f"sent {done.notifications} notification(s)")
            return
        if not done.busy:
            time.sleep(interval)


@main.group(help="Audit trail.")
def audit() -> None:
    """Audit commands."""


@audit.command("verify", help="Check the hash chain; report the first bad sequence number.")
@click.option("--instance", "instance_id", type=int, default=None)
def audit_verify(instance_id: int | None) -> None:
    """Verify and exit 1 if anything was altered."""
    result = services.verify_audit(_engine(), instance_id)
    click.echo(json.dumps({"ok": result.ok, "events": result.events, "first_bad": result.first_bad,
                           "reason": result.reason}))
    sys.exit(0 if result.ok else 1)


@audit.command("head", help="Print the chain head (sequence number and hash) to record elsewhere.")
def audit_head() -> None:
    """Print the head."""
    seq, digest = services.chain_head(_engine())
    click.echo(f"{seq} {digest}")


@audit.command("export", help="Export the audit trail with its hashes (to standard output).")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True)
@click.option("--instance", "instance_id", type=int, default=None, help="Only this instance.")
@click.option("--since", type=click.DateTime(), default=None, help="From this time (UTC).")
@click.option("--until", type=click.DateTime(), default=None, help="Before this time (UTC).")
def audit_export(fmt: str, instance_id: int | None, since: datetime | None, until: datetime | None) -> None:
    """Stream the export."""
    utc = {k: v.replace(tzinfo=UTC) if v else None for k, v in (("since", since), ("until", until))}
    for line in services.export_audit(_engine(), fmt, instance_id=instance_id, **utc):
        click.echo(line, nl=False)


@main.command(help="Re-execute an instance from its pinned version and recorded inputs; report divergences.")
@click.argument("instance_id", type=int, required=False)
@click.option("--all", "all_instances", is_flag=True, help="Replay every instance, with a progress bar.")
def replay(instance_id: int | None, all_instances: bool) -> None:
    """Exit 1 when any instance does not follow from its recorded inputs."""
    if instance_id is None and not all_instances:
        raise click.UsageError("give an instance ID or --all")
    engine = _engine()
    auditor = Actor("cli-replay", frozenset({"auditor"}))
    ids = services.instance_ids(engine) if all_instances else [instance_id]
    failures = 0
    with click.progressbar(ids, label="replaying", file=sys.stderr, hidden=not all_instances) as bar:
        for one in bar:
            report = _run(lambda one=one: services.replay_instance(engine, one, auditor))
            if not report.ok:
                failures += 1
                click.echo(f"instance {one}: DIVERGES at seq {report.first_divergence}: {report.reason}")
            elif not all_instances:
                click.echo(f"instance {one}: ok ({report.steps} inputs re-applied, "
                           f"{report.events_checked} recorded steps matched, final state identical)")
    if all_instances:
        click.echo(f"{len(ids) - failures} of {len(ids)} instances replay identically")
    sys.exit(1 if failures else 0)


@main.group(help="Reports: the OfS annual return.")
def report() -> None:
    """Report commands."""


@report.command("ofs", help="The OfS annual return for the academic year starting 1 Aug YEAR (JSON, or CSV).")
@click.option("--year", required=True, type=int, help="e.g. 2026 for 2026/27.")
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]), default="json", show_default=True)
def report_ofs(year: int, fmt: str) -> None:
    """Print the return."""
    from engine.reporting.ofs import ofs_csv
    from engine.services import reports

    data = _run(lambda: reports.ofs_report(_engine(), Actor("cli", frozenset({"auditor"})), year))
    click.echo(ofs_csv(data) if fmt == "csv" else json.dumps(data, indent=2), nl=fmt != "csv")


@main.command(help='Subject access: print everything held about a person ("<name or email>") as JSON.')
@click.argument("subject")
def sar(subject: str) -> None:
    """Print the export (the search is audited as the DPO acting through the CLI)."""
    from engine.services.subject_access import gather_subject_data

    data = _run(lambda: gather_subject_data(_engine(), Actor("cli-dpo", frozenset({"dpo"})), subject))
    click.echo(json.dumps(data, indent=2, default=str))


def _run(call):  # type: ignore[no-untyped-def]
    try:
        return call()
    except EngineError as exc:
        click.echo(f"error: {exc.message}", err=True)
        for name, messages in exc.fields.items():
            click.echo(f"  {name}: {'; '.join(messages)}", err=True)
        sys.exit(1)


@users.command("tokens", help="List API tokens (id, user, issued, revoked), optionally of one user.")
@click.argument("name", required=False)
def users_tokens(name: str | None) -> None:
    """List tokens; the secrets themselves are never stored."""
    for token in _run(lambda: services.list_tokens(_engine(), name)):
        revoked = token.revoked_at.isoformat() if token.revoked_at else "active"
        click.echo(f"{token.id}\t{token.username}\t{token.created_at.isoformat()}\t{revoked}")


@users.command("revoke-token", help="Revoke the API token with this id (see `users tokens`).")
@click.argument("token_id", type=int)
@click.option("--reason", required=True, help="Why (kept in the audit trail).")
def users_revoke_token(token_id: int, reason: str) -> None:
    """Revoke a token as the command-line administrator."""
    token = _run(lambda: services.revoke_token(_engine(), token_id, Actor("cli", frozenset({"admin"})), reason))
    click.echo(f"revoked token {token.id} of {token.username}")


@main.group(help="Prevent training register (SPEC §13).")
def training() -> None:
    """Training commands."""


@training.command("import", help="Import existing training records from a CSV FILE: every row or none; "
                                 "bad rows are listed by line number.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def training_import(file: Path) -> None:
    try:
        text = file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise click.ClickException(f"{file}: not UTF-8 text") from exc
    count = _run(lambda: services.import_training_records(_engine(), text, Actor("cli", frozenset({"admin"})),
                                                          file_name=file.name))
    click.echo(f"imported {count} training records from {file}")
