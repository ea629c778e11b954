"""The `casegate` command: serve, work, demo, migrate, inspect connectors and dead letters,
verify, anchor and export the audit trail, print a development token, convert messages."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import Coroutine
from datetime import datetime
from pathlib import Path
from typing import IO, Any, TypeVar

import click

from gateway.policy_cli import policy
from gateway.settings import Settings, SettingsError, load_settings


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None


@click.group()
def main() -> None:
    """casegate: a healthcare integration gateway."""


@main.command()
@click.option("--host", default=None, help="Bind address (default from settings).")
@click.option("--port", type=int, default=None, help="Port (default from settings).")
def serve(host: str | None, port: int | None) -> None:
    """Run the HTTP gateway (and, unless disabled, the workers in the same process)."""
    import uvicorn  # noqa: PLC0415 - only the serving command needs the server

    from gateway.app import create_app  # noqa: PLC0415

    settings = _settings()
    uvicorn.run(
        create_app(settings),
        host=host or settings.server.host,
        port=port if port is not None else settings.server.port,
        log_level="warning",
    )


@main.command()
def worker() -> None:
    """Run outbox workers alone, for scaled-out deployments."""
    from gateway.background import Background  # noqa: PLC0415
    from gateway.logs import configure_logging  # noqa: PLC0415
    from gateway.metrics import configure_metrics, gateway_metrics  # noqa: PLC0415
    from gateway.runtime import open_runtime  # noqa: PLC0415
    from gateway.telemetry import configure_tracing  # noqa: PLC0415

    settings = _settings()
    configure_logging(logging.getLevelNamesMapping()[settings.log_level])
    configure_tracing()
    configure_metrics()

    async def run() -> None:
        runtime = await open_runtime(settings)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            await Background(runtime, gateway_metrics(), with_workers=True).run(stop)
        finally:
            await runtime.close()

    asyncio.run(run())


@main.command()
@click.option("--cases", "count", type=int, default=500, show_default=True)
@click.option("--concurrency", type=int, default=32, show_default=True)
@click.option(
    "--trace-out",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=None,
    help="Write every span of the run to this file as OTLP/JSON, for a trace viewer.",
)
def demo(count: int, concurrency: int, trace_out: Path | None) -> None:
    """Run the gateway, workers and sandboxes on loopback and push a synthetic backlog through."""
    from gateway.demo.run import run_demo  # noqa: PLC0415

    lost = asyncio.run(run_demo(_settings(), count, concurrency, trace_out))
    sys.exit(1 if lost else 0)


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply migrations up to the newest (safe to run again)."""
    from gateway.store.migrate import upgrade  # noqa: PLC0415

    settings = _settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    upgrade(settings.resolved_database_url)
    click.echo("database schema is up to date")


@main.group()
def connectors() -> None:
    """Connector plugins."""


@connectors.command("list")
def connectors_list() -> None:
    """Installed connector kinds, and the instances settings configure."""
    from connectors.registry import ConnectorRegistry  # noqa: PLC0415

    registry = ConnectorRegistry()
    for name in registry.names():
        cls = registry.get(name)
        click.echo(f"{name}\t{cls.wire_format}\t{' '.join(sorted(cls.capabilities))}")
    for instance, spec in _settings().connectors.items():
        click.echo(f"instance {instance}: kind {spec.kind}")


@main.group()
def dlq() -> None:
    """Dead letters: jobs that failed for good, with their reason."""


@dlq.command("list")
@click.option("--limit", type=int, default=100, show_default=True)
def dlq_list(limit: int) -> None:
    from gateway.dlq import list_dead_letters  # noqa: PLC0415

    for line in asyncio.run(list_dead_letters(_settings(), limit)):
        click.echo(line)


@dlq.command("replay")
@click.argument("job_id", type=int, required=False)
@click.option("--all", "replay_all", is_flag=True, help="Replay every dead letter.")
def dlq_replay(job_id: int | None, replay_all: bool) -> None:
    """Put dead-lettered jobs back in the queue after a fix."""
    from gateway.dlq import replay_dead_letters  # noqa: PLC0415

    if (job_id is None) == (not replay_all):
        raise click.UsageError("give a job id or --all")
    count = asyncio.run(replay_dead_letters(_settings(), None if replay_all else job_id))
    click.echo(f"replayed {count} job(s)")


_T = TypeVar("_T")


@main.group()
def audit() -> None:
    """The tamper-evident audit trail: verify it, anchor it outside the database, export it."""


def _on_the_trail(work: Coroutine[Any, Any, _T]) -> _T:
    """Run an audit command; a bad anchor file is a bad parameter, a store failure one line."""
    from sqlalchemy.exc import SQLAlchemyError  # noqa: PLC0415

    from gateway.audit.anchor import AnchorFileError  # noqa: PLC0415

    try:
        return asyncio.run(work)
    except AnchorFileError as exc:
        raise click.BadParameter(str(exc)) from None
    except SQLAlchemyError as exc:
        raise click.ClickException(
            f"the audit trail could not be read ({type(exc).__name__}); "
            "a new database needs `casegate db upgrade` first"
        ) from None
    except OSError as exc:
        raise click.ClickException(f"the store: {exc.strerror or exc}") from None


@audit.command("verify")
@click.option(
    "--anchor",
    "anchor_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="An anchor written by `casegate audit anchor`: also finds a rewritten or cut tail.",
)
def audit_verify(anchor_file: Path | None) -> None:
    """Check the hash chain; exit 1 naming the first entry changed, removed or reordered."""
    from gateway.audit.admin import verify_audit_trail  # noqa: PLC0415

    verdict = _on_the_trail(verify_audit_trail(_settings(), anchor_file))
    if verdict.ok:
        anchored = " and matches the anchor" if anchor_file is not None else ""
        click.echo(f"audit trail intact: {verdict.entries} entries{anchored}")
        return
    where = f" at entry {verdict.first_bad_id}" if verdict.first_bad_id is not None else ""
    click.echo(f"audit trail BROKEN{where}: {verdict.reason}", err=True)
    click.echo(f"{verdict.entries} entries verified intact before it", err=True)
    sys.exit(1)


def _instant(_: click.Context, __: click.Parameter, value: str) -> datetime:
    from gateway.audit.export import parse_instant  # noqa: PLC0415

    try:
        return parse_instant(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@audit.command("export")
@click.option(
    "--since",
    required=True,
    callback=_instant,
    help="ISO 8601 date or date and time (UTC unless an offset is given).",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to write, replaced only once the export is complete (default: standard output).",
)
def audit_export(since: datetime, out: Path | None) -> None:
    """Write the entries recorded since a moment as FHIR R4B AuditEvent JSON lines."""
    from gateway.audit.admin import export_audit_trail  # noqa: PLC0415

    settings = _settings()

    def export_to(stream: IO[str]) -> int:
        def write_line(line: str) -> None:
            stream.write(line + "\n")

        return _on_the_trail(export_audit_trail(settings, since, write_line))

    if out is None:
        count = export_to(sys.stdout)
    else:
        try:
            target = click.open_file(str(out), "w", encoding="utf-8", atomic=True)
        except OSError as exc:
            raise click.BadParameter(f"{out}: {exc.strerror}", param_hint="--out") from None
        with target as stream:
            count = export_to(stream)
    click.echo(f"exported {count} audit event(s)", err=True)


@audit.command("anchor")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def audit_anchor(file: Path) -> None:
    """Verify the trail, then write its head (last id and hash) to FILE, outside the database."""
    from gateway.audit.admin import TrailBrokenError, anchor_audit_trail  # noqa: PLC0415

    try:
        anchor = _on_the_trail(anchor_audit_trail(_settings(), file))
    except TrailBrokenError as exc:
        click.echo(f"not anchored: the audit trail is broken: {exc.verdict.reason}", err=True)
        sys.exit(1)
    click.echo(f"anchored entry {anchor.last_id} (hash {anchor.hash[:16]}...) in {file}")


@main.group()
def messages() -> None:
    """Raw messages kept by the gateway; refused input can be replayed after a fix."""


@messages.command("list")
@click.option("--errors", is_flag=True, help="Only input that was refused, with its reason.")
@click.option("--limit", type=int, default=100, show_default=True)
def messages_list(errors: bool, limit: int) -> None:
    from gateway.runtime import open_runtime  # noqa: PLC0415
    from gateway.store import cases  # noqa: PLC0415

    async def run() -> list[str]:
        runtime = await open_runtime(_settings())
        try:
            async with runtime.store.connect() as conn:
                rows = await cases.list_messages(
                    conn, runtime.store.cipher, errors_only=errors, limit=limit
                )
        finally:
            await runtime.close()
        return [
            f"{m.id}\t{m.direction}\t{m.format}\tcase {m.case_id or '-'}\t"
            f"{'replayed' if m.replayed_at else m.error or 'ok'}"
            for m in rows
        ]

    for line in asyncio.run(run()):
        click.echo(line)


@messages.command("replay")
@click.argument("message_id")
def messages_replay(message_id: str) -> None:
    """Feed a refused message through intake again; still invalid: its errors, exit 1."""
    from gateway.audit.entries import operator_name  # noqa: PLC0415
    from gateway.replay import ReplayError, ReplayOutcome, replay_message  # noqa: PLC0415
    from gateway.runtime import open_runtime  # noqa: PLC0415

    async def run() -> ReplayOutcome:
        runtime = await open_runtime(_settings())
        try:
            return await replay_message(runtime, message_id, operator_name())
        finally:
            await runtime.close()

    try:
        outcome = asyncio.run(run())
    except ReplayError as exc:
        raise click.ClickException(str(exc)) from None
    if outcome.kind == "still_invalid":
        for pointer, problem in outcome.errors:
            click.echo(f"  {pointer}: {problem}", err=True)
        sys.exit(1)
    click.echo(f"{outcome.kind}: case {outcome.case_id}")


@main.command()
@click.option("--scope", default="cases:read cases:write", show_default=True)
def token(scope: str) -> None:
    """Print an access token for the embedded default's development client."""
    from gateway.auth.issuer import mint_token  # noqa: PLC0415
    from gateway.auth.keys import dev_client, load_or_create_issuer_key  # noqa: PLC0415

    settings = _settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    key = load_or_create_issuer_key(settings.home)
    click.echo(mint_token(key, settings.auth, dev_client(settings.home), scope.split()))


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@click.option("--from", "source", required=True, help="Input format, e.g. canonical.")
@click.option("--to", "target", required=True, help="Output format, e.g. canonical.")
def convert(file: str, source: str, target: str) -> None:
    """Convert one message; a located error (and the format's rejection document) exits 1."""
    from mappings.conversions import ConversionError  # noqa: PLC0415
    from mappings.conversions import convert as run_conversion  # noqa: PLC0415

    data = sys.stdin.buffer.read() if file == "-" else Path(file).read_bytes()
    try:
        sys.stdout.buffer.write(run_conversion(data, source, target))
    except ConversionError as exc:
        if exc.rejection is not None:
            sys.stdout.buffer.write(exc.rejection)
        click.echo(f"error: {exc.summary}", err=True)
        for error in exc.errors:
            click.echo(f"  {error.location}: {error.message}", err=True)
        sys.exit(1)


main.add_command(policy)


if __name__ == "__main__":
    main()
