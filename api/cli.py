"""The `diplo` command line: a thin layer of click over the library functions."""

import json
import signal
import sqlite3
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from .loader import WAIT, LoadResult, Options, load_seeds, remove_sources, validate_seeds
from .models import SEED_FILE_MAX_BYTES
from .rules import MAX_ERRORS, SeedErrors
from .store import DAMAGED, StoreError
from .store import problem as problem_of

DEFAULT_SEEDS = Path("seeds")
SHOWN = 10  # keys per line of a change report in text; --format json has more


@click.group()
@click.version_option(package_name="diplo")
def cli() -> None:
    """Diplo: diplomatic meetings from news articles, as validated seeds, SQLite and GraphQL."""


# Exit codes, as the README documents them.
EXIT_SEED_ERRORS = 1  # the seeds break rules: every error is printed
EXIT_DATABASE = 3  # the database cannot be used: not found, not Diplo's, locked, read-only, full, damaged
# (2 is click's: the command line itself is wrong)


class DatabaseProblem(click.ClickException):
    exit_code = EXIT_DATABASE


def _report(errors: SeedErrors, output_format: str) -> None:
    more = f"; {errors.more} more not shown (raise --max-errors to see them)" if errors.more else ""
    if output_format == "json":
        body = {"errors": [e.as_dict() for e in errors.errors], "more": errors.more}
        click.echo(json.dumps(body, ensure_ascii=False, indent=2))
    else:
        for error in errors.errors:
            click.echo(str(error))
        click.echo(f"{len(errors.errors) + errors.more} error(s){more}", err=True)


@contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM (a service manager, `kill`) unwinds like Ctrl-C, so a load rolls back and cleans up after itself
    instead of dying mid-write."""

    def stop(signum: int, _: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    except KeyboardInterrupt:
        click.echo("interrupted: nothing was written", err=True)
        sys.exit(130)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _changes(target: str, result: LoadResult, output_format: str) -> None:
    """The change report: added, changed and removed records per type, with their keys."""
    if output_format == "json":
        click.echo(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
        return
    click.echo(f"{target}: {result.added} added, {result.changed} changed, {result.removed} removed")
    for change, kinds in result.changes.items():
        for kind, keys in kinds.items():
            if keys.count:
                shown = keys.keys[:SHOWN]
                more = f", and {keys.count - len(shown)} more" if keys.count > len(shown) else ""
                click.echo(f"  {change} {kind} ({keys.count}): {', '.join(shown)}{more}")


def _run(target: str, output_format: str, action: Callable[[], LoadResult]) -> None:
    """Run a load, a removal or a validation and report it, with the exit codes above."""
    try:
        with _terminate_as_interrupt():
            result = action()
    except SeedErrors as errors:
        _report(errors, output_format)
        sys.exit(EXIT_SEED_ERRORS)
    except StoreError as error:
        raise DatabaseProblem(f"{target}: {error}") from None
    _changes(target, result, output_format)


_FORMAT = click.option(
    "--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True
)
_WAIT = click.option(
    "--wait", type=click.FloatRange(0), default=WAIT, show_default=True,
    help="Seconds to wait for another load writing to the same database.",
)  # fmt: skip
_MAX_ERRORS = click.option(
    "--max-errors", type=click.IntRange(1), default=MAX_ERRORS, show_default=True,
    help="Errors to print; past them they are only counted.",
)  # fmt: skip
_MAX_FILE_MB = click.option(
    "--max-file-mb", type=click.IntRange(1), default=SEED_FILE_MAX_BYTES >> 20, show_default=True,
    help="The largest seed file read, in MiB.",
)  # fmt: skip


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--db",
    "db_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Check together with what this database holds, and report what a load would change.",
)
@_FORMAT
@_WAIT
@_MAX_ERRORS
@_MAX_FILE_MB
def validate(
    paths: tuple[Path, ...], db_path: Path | None, output_format: str, wait: float, max_errors: int, max_file_mb: int
) -> None:
    """Check seed files against every rule and report every error; write nothing.

    PATHS are seed files or directories (default: seeds/). Without --db the files are checked on their own,
    each file's records as the only reports of them. Exit 0 when valid, 1 otherwise; each error is printed as
    FILE: record.path: rule.code: message. When valid, prints what loading them would change.

    Example:

        diplo validate seeds/ --db diplo.db --format json
    """
    target = f"valid with {db_path}; a load would give" if db_path else "valid; a load would give"
    options = Options(wait=wait, max_errors=max_errors, max_file_bytes=max_file_mb << 20)
    _run(target, output_format, lambda: validate_seeds(list(paths) or [DEFAULT_SEEDS], db_path, options=options))


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--db",
    "db_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="SQLite database file to create or update.",
)
@click.option("--prune", is_flag=True, help="Also remove the sources that none of PATHS reports.")
@click.option("--dry-run", is_flag=True, help="Report what would change; write nothing.")
@_FORMAT
@_WAIT
@_MAX_ERRORS
@_MAX_FILE_MB
def load(
    paths: tuple[Path, ...], db_path: Path, prune: bool, dry_run: bool, output_format: str, wait: float,
    max_errors: int, max_file_mb: int,
) -> None:  # fmt: skip
    """Load seed files: each replaces everything its source reported before, and nothing else.

    All or nothing, in one transaction: on any error the database file is left unchanged (and a new one is not
    created). Loading the same seeds twice changes nothing. Ends with the change report: records added, changed
    and removed, per type, with their keys.

    Example:

        diplo load seeds/ --db diplo.db --prune
    """
    bars: list[Any] = []

    def progress(done: int, total: int) -> None:
        if not bars:
            bars.append(click.progressbar(length=total, label="loading", file=sys.stderr))
        bars[0].update(1)

    options = Options(wait=wait, max_errors=max_errors, max_file_bytes=max_file_mb << 20)
    target = f"{db_path} (dry run, nothing written)" if dry_run else str(db_path)
    try:
        _run(target, output_format, lambda: load_seeds(
            db_path, list(paths) or [DEFAULT_SEEDS], prune=prune, dry_run=dry_run,
            progress=progress if sys.stderr.isatty() else None, options=options,
        ))  # fmt: skip
    finally:
        for bar in bars:
            bar.render_finish()


@cli.command()
@click.argument("source_keys", nargs=-1, required=True)
@click.option("--db", "db_path", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Report what would change; write nothing.")
@_FORMAT
@_WAIT
def remove(source_keys: tuple[str, ...], db_path: Path, dry_run: bool, output_format: str, wait: float) -> None:
    """Remove sources and everything only they reported, in one transaction.

    Refused, with every record that still refers to something removed, while other sources refer to it.

    Example:

        diplo remove koran-jakarta-2025-03-01-as-russia --db diplo.db --dry-run
    """
    target = f"{db_path} (dry run, nothing written)" if dry_run else str(db_path)
    options = Options(wait=wait)
    _run(target, output_format, lambda: remove_sources(db_path, list(source_keys), dry_run=dry_run, options=options))


@cli.command()
@click.option("--db", "db_path", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("outdir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--replace", is_flag=True, help="Replace OUTDIR when it exists and is not empty.")
def export(db_path: Path, outdir: Path, replace: bool) -> None:
    """Write each source's report back out as its own seed file, into OUTDIR.

    Loading the files gives the same database. All or nothing: the files are written beside OUTDIR and renamed
    into place, so a failure leaves either the complete export or nothing.

    Example:

        diplo export --db diplo.db exported/
    """
    from .export import ExportError, export_seeds

    try:
        written = export_seeds(db_path, outdir, replace=replace)
    except ExportError as error:
        raise click.ClickException(str(error)) from None
    except (StoreError, sqlite3.Error, OSError) as error:
        problem = error if isinstance(error, StoreError) else problem_of(error)
        raise DatabaseProblem(f"{db_path} -> {outdir}: {problem}; nothing was exported") from None
    click.echo(f"wrote {len(written)} seed file(s) to {outdir}")


@cli.command()
@click.argument("db_path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def check(db_path: Path) -> None:
    """Check a database file: SQLite's quick_check of every page, and Diplo's schema, table by table.

    A load does not do this (so that small loads into big files stay fast); run it on a file you did not build,
    or after a crash of the machine. Exit 0 when sound, 3 when not.

    Example:

        diplo check diplo.db
    """
    from .store import check_database

    problems = check_database(db_path)
    for line in problems:
        click.echo(line)
    if problems:
        raise DatabaseProblem(f"{db_path}: {len(problems)} problem(s): {DAMAGED}")
    click.echo(f"{db_path}: ok")


@cli.command("seed-schema")
def seed_schema() -> None:
    """Print the JSON Schema of a seed file (committed as schema/seed.schema.json, for editors).

    Example:

        diplo seed-schema > schema/seed.schema.json
    """
    from .models import seed_json_schema

    click.echo(json.dumps(seed_json_schema(), indent=2, ensure_ascii=False))


@cli.command()
@click.option(
    "--db",
    "db_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A database built by `diplo load`. Default: the bundled seeds, built and cached.",
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Worker processes; each opens the database read-only.",
)
@click.option(
    "--graphiql/--no-graphiql",
    default=True,
    show_default=True,
    help="Serve GraphiQL in browsers; off also hides field suggestions in errors.",
)
@click.option("--cors-origin", "cors_origins", multiple=True, help="An origin allowed by CORS (repeatable).")
@click.option("--limit", "limits", multiple=True, metavar="NAME=VALUE", help="Override a request limit.")
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Log lines as text or as JSON objects (one per line), access lines included.",
)
def serve(
    db_path: Path | None,
    host: str,
    port: int,
    workers: int,
    graphiql: bool,
    cors_origins: tuple[str, ...],
    limits: tuple[str, ...],
    log_format: str,
) -> None:
    """Serve the GraphQL API (read-only) at /graphql, with GraphiQL in a browser.

    Example:

        diplo serve --db diplo.db --workers 2 --no-graphiql --cors-origin https://app.example
    """
    from .app import Settings
    from .limits import Limits
    from .serve import bundled_database, serve
    from .store import check_served

    try:
        parsed = Limits.parse(list(limits))
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--limit") from None
    if db_path is None:
        db_path = bundled_database()
        click.echo(f"serving the bundled seeds from {db_path}", err=True)
    try:
        check_served(db_path)
    except (StoreError, sqlite3.Error) as error:
        raise DatabaseProblem(f"{db_path}: {error}") from None
    settings = Settings(
        db_path=db_path, graphiql=graphiql, cors_origins=cors_origins, limits=parsed, log_format=log_format
    )
    serve(settings, host, port, workers)


@cli.command()
@click.option("--check", is_flag=True, help="Compare with the committed schema/schema.graphql; exit 1 on any change.")
def schema(check: bool) -> None:
    """Print the GraphQL SDL, or check it against the committed contract.

    With --check, every difference is listed as BREAKING, DANGEROUS (graphql-core's classification) or SAFE.

    Example:

        diplo schema > schema/schema.graphql && diplo schema --check
    """
    from .contract import check_committed
    from .schema import print_sdl

    if not check:
        click.echo(print_sdl(), nl=False)
        return
    changes = check_committed()
    for change in changes:
        click.echo(str(change))
    if changes:
        click.echo(f"{len(changes)} difference(s) from schema/schema.graphql", err=True)
        sys.exit(1)
    click.echo("schema/schema.graphql is current")


@cli.command()
@click.option("--meetings", default=1000, show_default=True, type=click.IntRange(1))
@click.option("--statements-per-meeting", default=10, show_default=True, type=click.IntRange(0))
@click.option("--seed", default=0, show_default=True, help="Same seed, same files.")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path))
def synth(meetings: int, statements_per_meeting: int, seed: int, out: Path) -> None:
    """Write a large synthetic dataset of valid seed files (JSON), deterministically.

    Example:

        diplo synth --meetings 100000 --out /tmp/synthetic && diplo load /tmp/synthetic --db big.db
    """
    from .synth import write_synthetic

    statements = write_synthetic(out, meetings, statements_per_meeting, seed)
    click.echo(f"wrote {meetings} meetings and {statements} statements to {out}")
