"""The `voortgang` command group (also reachable as `flask --app voortgang ...`)."""
from __future__ import annotations

import os
import sqlite3
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext
from flask_migrate import upgrade as migrate_upgrade
from sqlalchemy.engine import make_url



def _create_app() -> Flask:
    from . import create_app

    return create_app()


def main() -> None:
    """Entry point of the `voortgang` command."""
    cli = FlaskGroup(
        create_app=_create_app,
        add_version_option=True,
        set_debug_flag=False,
        help="Voortgang: the voortgangsgesprek, an equal two-way progress conversation.",
    )
    from .config import ConfigError

    try:
        cli.main(prog_name="voortgang")
    except ConfigError as error:  # one clear line, no traceback
        click.echo(f"voortgang: configuration error: {error}", err=True)
        sys.exit(2)


@click.group("user")
def user_group() -> None:
    """Manage people."""


@user_group.command("add")
@click.option("--email", required=True, help="Email address (the sign-in name).")
@click.option("--name", required=True, help="Full name as shown to others.")
@click.option("--admin", is_flag=True, help="Make this person an administrator.")
@click.option("--manager", "manager_email", help="Email address of this person's manager.")
@click.option("--locale", help="Preferred language: nl or en.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@with_appcontext
def user_add(email, name, admin, manager_email, locale, password_stdin) -> None:
    """Create a person; without --password-stdin, print a one-time link to set the password."""
    from .auth.service import make_password_token
    from .database import writing
    from .errors import Invalid
    from .people.service import create_user

    password = None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    try:
        with writing():
            user = create_user(
                email=email,
                name=name,
                is_admin=admin,
                manager_email=manager_email,
                locale=locale,
                password=password,
            )
    except Invalid as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Created {user.name} <{user.email}> (id {user.id}).")
    if password is None:
        from .links import public_url

        link = public_url("auth.set_password_with_token", token=make_password_token(user))
        click.echo(f"Link to set the password (valid 7 days, once): {link}")


@click.command("serve")
@click.option("--host", default=lambda: os.environ.get("HOST", "127.0.0.1"), show_default="127.0.0.1")
@click.option("--port", type=int, default=lambda: int(os.environ.get("PORT", "5000")), show_default="5000")
@click.option("--workers", type=click.IntRange(min=1), default=lambda: default_workers(),
              show_default="2 per CPU, at most 8", help="Worker processes.")
@click.option("--threads", type=click.IntRange(min=1), default=1, show_default=True,
              help="Threads per worker process.")
@with_appcontext
def serve(host: str, port: int, workers: int, threads: int) -> None:
    """Run migrations, then serve the app (gunicorn's processes, each serving with waitress)."""
    from .auth.service import create_setup_token
    from .extensions import db

    migrate_upgrade()
    token = create_setup_token()
    db.session.remove()
    if token:
        from .links import public_url

        click.echo("")
        click.echo("  Voortgang has nobody yet. Open this one-time link to create the administrator:")
        click.echo(f"  {public_url('auth.setup', token=token, serve_host=host, serve_port=port)}")
        click.echo("")
    click.echo(f"Serving on http://{host}:{port} (stop with Ctrl+C)")
    from .server import run_server

    run_server(host, port, workers, threads)


def default_workers() -> int:
    """Two single-threaded processes per CPU (at most 8).

    The app's requests are short and CPU-bound: in one process, threads mostly wait for
    Python's GIL, and a thread that holds SQLite's write lock waits for it too, which
    makes every other writer wait (measured in docs/performance.md). Processes do not
    share a GIL; two per CPU keep the CPUs busy while one waits for the database.
    """
    return min(2 * (os.cpu_count() or 1), 8)


@click.command("backup")
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup(target: Path) -> None:
    """Write a consistent copy of the SQLite database to TARGET while the app keeps running."""
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() != "sqlite":
        raise click.ClickException(
            "this database is not SQLite: back up PostgreSQL with pg_dump (see the README)"
        )
    if not url.database or url.database == ":memory:":
        raise click.ClickException("the database is in memory: nothing to back up")
    if target.exists():
        raise click.ClickException(f"{target} exists already: choose a new file name")
    if not target.parent.is_dir():
        raise click.ClickException(f"folder {target.parent} does not exist")
    tmp = target.with_name(f".{target.name}.partial")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.close(fd)
    try:
        source = sqlite3.connect(f"file:{url.database}?mode=ro", uri=True)
        copy = sqlite3.connect(tmp)
        try:
            source.execute("PRAGMA busy_timeout = 10000")
            source.backup(copy)
            copy.execute("PRAGMA journal_mode = DELETE")
            result = copy.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            copy.close()
            source.close()
        if result != "ok":
            raise click.ClickException(f"the copy failed its integrity check: {result}")
        os.chmod(tmp, 0o600)
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()
    click.echo(f"Backed up to {target} (integrity check ok).")


@click.command("demo")
@with_appcontext
def demo() -> None:
    """Fill an empty database with a small bilingual demo organisation and print its accounts."""
    from .demo import NotEmpty, fill_demo

    try:
        accounts = fill_demo()
    except NotEmpty as error:
        raise click.ClickException(str(error)) from None
    click.echo("Demo organisation created. Sign in with any of these accounts:")
    click.echo("")
    width = max(len(email) for _name, email, _password, _role in accounts)
    for name, email, password, role in accounts:
        click.echo(f"  {email:<{width}}  {password}   {name} ({role})")
    click.echo("")


@click.command("remind")
@with_appcontext
def remind() -> None:
    """Send the reminders that are due (meant to run daily from cron); each goes out once."""
    from . import mail

    if not mail.enabled():
        click.echo("E-mail is not configured (VOORTGANG_SMTP_HOST): no reminders sent.")
        return
    queued = mail.due_reminders(mail.organisation_today())
    mail.courier(current_app).stop()  # woken by the commits above: let it finish its round
    mail.deliver_due()  # and deliver the rest here, before the command ends
    waiting = mail.waiting()
    click.echo(f"{queued} reminder(s) due and sent." if not waiting else
               f"{queued} reminder(s) due; {waiting} e-mail(s) wait for a retry: the mail server did not "
               "take them (see the log; the app's processes and the next run try again).")


def register_commands(app: Flask) -> None:
    from .records.facts import facts_cli
    from .records.retention import retention_command

    app.cli.add_command(retention_command)
    app.cli.add_command(facts_cli)
    app.cli.add_command(remind)
    app.cli.add_command(demo)
    app.cli.add_command(user_group)
    app.cli.add_command(serve)
    app.cli.add_command(backup)
