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

from .ingest.models import SEED_FILE_MAX_BYTES
from .ingest.rules import MAX_ERRORS, SeedError, SeedErrors
from .ingest.session import WAIT, LoadResult, Options, load_seeds, remove_sources, validate_seeds
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


def _annotation(level: str, file: str, line: int | None, column: int | None, title: str, message: str) -> str:
    """A GitHub Actions workflow command, which shows a problem on its line of a pull request's diff."""

    def escape(text: str, *also: str) -> str:
        for character in ("%", "\r", "\n", *also):
            text = text.replace(character, f"%{ord(character):02X}")
        return text

    where = [f"file={escape(file, ':', ',')}"]
    if line:
        where += [f"line={line}", f"col={column}"]
    return f"::{level} {','.join(where)},title={escape(title, ':', ',')}::{escape(message)}"


def _github(error: SeedError) -> str:
    message = f"{error.path}: {error.message}" if error.path else error.message
    return _annotation(error.severity, error.file, error.line, error.column, error.code, message)


def _lines(errors: list[SeedError], output_format: str) -> None:
    for error in errors:
        click.echo(_github(error) if output_format == "github" else str(error))


def _report(errors: SeedErrors, output_format: str) -> None:
    more = f"; {errors.more} more not shown (raise --max-errors to see them)" if errors.more else ""
    if output_format == "json":
        body = {"errors": [e.as_dict() for e in errors.errors], "more": errors.more,
                "warnings": [w.as_dict() for w in errors.warnings]}  # fmt: skip
        click.echo(json.dumps(body, ensure_ascii=False, indent=2))
    else:
        _lines(errors.errors + errors.warnings, output_format)
        warned = f" and {len(errors.warnings)} warning(s)" if errors.warnings else ""
        click.echo(f"{len(errors.errors) + errors.more} error(s){warned}{more}", err=True)


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
    _lines(result.notices, output_format)
    _lines(result.warnings, output_format)
    if result.warnings:
        click.echo(f"{len(result.warnings)} warning(s) (--strict makes them errors)", err=True)
    click.echo(f"{target}: {result.added} added, {result.changed} changed, {result.removed} removed")
    for change, kinds in result.changes.items():
        for kind, keys in kinds.items():
            if keys.count:
                shown = keys.keys[:SHOWN]
                more = f", and {keys.count - len(shown)} more" if keys.count > len(shown) else ""
                click.echo(f"  {change} {kind} ({keys.count}): {', '.join(shown)}{more}")
    for line in result.diff_lines():
        click.echo(f"    {line}")
    for file, coverage in result.evidence.items():
        click.echo(f"{file}: {coverage}")


def _run(target: str, output_format: str, action: Callable[[], LoadResult], db_path: Path | None) -> None:
    """Run a load, a removal or a validation and report it, with the exit codes above."""
    try:
        with _terminate_as_interrupt():
            result = action()
    except SeedErrors as errors:
        _report(errors, output_format)
        sys.exit(EXIT_SEED_ERRORS)
    except StoreError as error:
        raise DatabaseProblem(f"{db_path}: {error}" if db_path else str(error)) from None
    _changes(target, result, output_format)


_FORMAT = click.option(
    "--format", "output_format", type=click.Choice(["text", "json", "github"]), default="text", show_default=True,
    help="text: FILE:LINE:COL: code: path: message; json; github: GitHub Actions annotations.",
)  # fmt: skip
_STRICT = click.option("--strict", is_flag=True, help="Warnings (possible duplicates) are errors, as in CI.")
_REQUIRE_EVIDENCE = click.option(
    "--require-evidence",
    is_flag=True,
    help="Every fact has evidence or a basis (evidence.missing), for full provenance.",
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
@_STRICT
@_REQUIRE_EVIDENCE
@_WAIT
@_MAX_ERRORS
@_MAX_FILE_MB
def validate(
    paths: tuple[Path, ...], db_path: Path | None, output_format: str, strict: bool, require_evidence: bool,
    wait: float, max_errors: int, max_file_mb: int,
) -> None:  # fmt: skip
    """Check seed files against every rule and report every error; write nothing.

    PATHS are seed files or directories (default: seeds/). Without --db the files are checked on their own,
    each file's records as the only reports of them. Exit 0 when valid, 1 otherwise; each error is printed as
    FILE:LINE:COL: rule.code: record.path: message. When valid, prints the warnings and what loading them would
    change.

    Example:

        diplo validate seeds/ --db diplo.db --strict --format github
    """
    target = f"valid with {db_path}; a load would give" if db_path else "valid; a load would give"
    options = Options(
        wait=wait, max_errors=max_errors, max_file_bytes=max_file_mb << 20, strict=strict,
        require_evidence=require_evidence,
    )  # fmt: skip
    _run(
        target, output_format, lambda: validate_seeds(list(paths) or [DEFAULT_SEEDS], db_path, options=options), db_path
    )


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
@_STRICT
@_REQUIRE_EVIDENCE
@_WAIT
@_MAX_ERRORS
@_MAX_FILE_MB
def load(
    paths: tuple[Path, ...], db_path: Path, prune: bool, dry_run: bool, output_format: str, strict: bool,
    require_evidence: bool, wait: float, max_errors: int, max_file_mb: int,
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

    options = Options(
        wait=wait, max_errors=max_errors, max_file_bytes=max_file_mb << 20, strict=strict,
        require_evidence=require_evidence,
    )  # fmt: skip
    target = f"{db_path} (dry run, nothing written)" if dry_run else str(db_path)
    try:
        _run(target, output_format, lambda: load_seeds(
            db_path, list(paths) or [DEFAULT_SEEDS], prune=prune, dry_run=dry_run,
            progress=progress if sys.stderr.isatty() else None, options=options,
        ), db_path)  # fmt: skip
    finally:
        for bar in bars:
            bar.render_finish()


def _published_at(value: str) -> str:
    """A command-line publication time, checked as a seed's is: a bad one is a usage error (exit 2)."""
    from pydantic_core import PydanticCustomError

    from .ingest.models import check_published

    try:
        check_published(value)
    except PydanticCustomError as error:
        raise click.BadParameter(str(error)) from None
    return value


@cli.command()
@click.argument("text_file", type=click.File("rb"))
@click.option("--outlet", required=True, help="The publication, as it names itself.")
@click.option("--title", required=True, help="The article's title, verbatim.")
@click.option(
    "--published-at", required=True, callback=lambda _c, _p, value: _published_at(value),
    help="Publication time with its offset, 2025-03-01T01:20:00+07:00, or the day, 2025-03-01, when the source "
    "gives no time.",
)  # fmt: skip
@click.option("--language", required=True, help="The article's language, a BCP 47 tag: id, en, pt-BR.")
@click.option("--key", help="The source key (default: outlet, date and the title's first words).")
@click.option("--url", help="The article's http(s) URL.")
@click.option("--via", multiple=True, help="An agency the outlet quotes, nearest first (repeatable).")
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), help="Write the seed file here (default: stdout)."
)
def new(
    text_file: Any, outlet: str, title: str, published_at: str, language: str, key: str | None, url: str | None,
    via: tuple[str, ...], out: Path | None,
) -> None:  # fmt: skip
    """Start a seed file for one source from its text (a file, or - for stdin): the source block filled, the
    text verbatim, each record list empty with a commented example, and the editor's schema line on top. It
    validates as it is.

    Example:

    \b
        diplo new article.txt --outlet TASS --title "Lavrov on the talks" \\
            --published-at 2025-03-02T10:00:00+03:00 --language en --out seeds/tass-2025-03-02.yaml
    """
    from .ingest.scaffold import scaffold, schema_reference
    from .ingest.seeds import decode

    if out is not None and out.exists():
        raise click.BadParameter(f"{out} exists: choose another file", param_hint="--out")
    try:
        text = decode(text_file.read())
        content = scaffold(
            text, outlet=outlet, title=title, published_at=published_at, language=language, key=key, url=url,
            via=via, schema=schema_reference(out.parent if out is not None else Path.cwd()),
        )  # fmt: skip
    except ValueError as error:  # not UTF-8, or details that break the source's rules
        raise click.ClickException(str(error)) from None
    if out is None:
        click.echo(content, nl=False)
        return
    try:
        out.write_text(content, encoding="utf-8")
    except OSError as error:
        raise click.ClickException(f"cannot write {out}: {error.strerror}") from None
    click.echo(f"wrote {out}: add the records this source reports, then: diplo validate {out}", err=True)


@cli.command()
@click.argument("source_keys", nargs=-1, required=True)
@click.option("--db", "db_path", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Report what would change; write nothing.")
@_FORMAT
@_WAIT
def remove(source_keys: tuple[str, ...], db_path: Path, dry_run: bool, output_format: str, wait: float) -> None:
    """Remove sources (or editorial files) and everything only they reported, in one transaction.

    Refused, with every record that still refers to something removed, while other sources refer to it; and
    with report.disagree when it would leave a dispute undecided (removing an editorial file, or a source whose
    report agreed with one side).

    Example:

        diplo remove koran-jakarta-2025-03-01-as-russia --db diplo.db --dry-run
    """
    target = f"{db_path} (dry run, nothing written)" if dry_run else str(db_path)
    options = Options(wait=wait)
    _run(
        target,
        output_format,
        lambda: remove_sources(db_path, list(source_keys), dry_run=dry_run, options=options),
        db_path,
    )


@cli.command()
@click.option("--db", "db_path", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("outdir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--replace", is_flag=True, help="Replace OUTDIR (and FILE) when it exists and is not empty.")
@click.option(
    "--annotations", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
    help="Also write every evidence quote as a W3C Web Annotation (JSON-LD) into FILE.",
)  # fmt: skip
def export(db_path: Path, outdir: Path, replace: bool, annotations: Path | None) -> None:
    """Write each source's report back out as its own seed file, into OUTDIR, with its evidence.

    Loading the files gives the same database. All or nothing: the files are written beside OUTDIR (and FILE) and
    renamed into place, so a failure leaves either the complete export or nothing. With --annotations, every quote
    of the evidence is also written as a Web Annotation of its source's text, in one AnnotationCollection.

    Example:

        diplo export --db diplo.db exported/ --annotations evidence.jsonld
    """
    from .ingest.export import ExportError, export_seeds

    try:
        written = export_seeds(db_path, outdir, replace=replace, annotations=annotations)
    except ExportError as error:
        raise click.ClickException(str(error)) from None
    except (StoreError, sqlite3.Error, OSError) as error:
        problem = error if isinstance(error, StoreError) else problem_of(error)
        raise DatabaseProblem(f"{db_path} -> {outdir}: {problem}; nothing was exported") from None
    also = f" and the annotations of their evidence to {annotations}" if annotations is not None else ""
    click.echo(f"wrote {len(written)} seed file(s) to {outdir}{also}")


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
    from .ingest.models import seed_json_schema

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
@click.option(
    "--cors-origin",
    "cors_origins",
    multiple=True,
    help="An origin allowed by CORS (repeatable); `*` in it stands for one DNS label: https://*.preview.example.",
)
@click.option(
    "--cors-header",
    "cors_headers",
    multiple=True,
    help="A request header allowed by CORS (repeatable); replaces the defaults (Apollo, urql, tracing).",
)
@click.option(
    "--cache-control",
    default="public, max-age=60",
    show_default=True,
    help="The Cache-Control of successful GET answers (they also carry an ETag).",
)
@click.option(
    "--trusted-documents",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Run only the operations in this folder's .graphql files (e.g. schema/operations).",
)
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
    cors_headers: tuple[str, ...],
    cache_control: str,
    trusted_documents: Path | None,
    limits: tuple[str, ...],
    log_format: str,
) -> None:
    """Serve the GraphQL API (read-only) at /graphql, with GraphiQL in a browser.

    Example:

        diplo serve --db diplo.db --workers 2 --no-graphiql --cors-origin https://app.example
    """
    from .graphql.limits import Limits
    from .ingest.bundled import bundled_database, cache_dir
    from .server.app import CORS_HEADERS, Settings
    from .server.http import TrustedDocuments
    from .server.serve import serve
    from .store import check_served

    try:
        parsed = Limits.parse(list(limits))
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--limit") from None
    try:  # read now, so that a mistake in them is a message before the server starts (each worker reads them)
        if trusted_documents is not None:
            TrustedDocuments(trusted_documents)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--trusted-documents") from None
    if db_path is None:
        try:
            db_path = bundled_database()
        except OSError as error:
            raise DatabaseProblem(
                f"cannot build the bundled seeds' database in {error.filename or cache_dir()}: {error.strerror}; "
                "pass --db, or set XDG_CACHE_HOME to a writable folder"
            ) from None
        click.echo(f"serving the bundled seeds from {db_path}", err=True)
    try:
        check_served(db_path)
    except (StoreError, sqlite3.Error) as error:
        raise DatabaseProblem(f"{db_path}: {error}") from None
    settings = Settings(
        db_path=db_path,
        graphiql=graphiql,
        cors_origins=cors_origins,
        cors_headers=tuple(h.lower() for h in cors_headers) or CORS_HEADERS,
        cache_control=cache_control,
        trusted_documents=trusted_documents,
        limits=parsed,
        log_format=log_format,
    )
    serve(settings, host, port, workers)


@cli.command()
@click.option("--check", is_flag=True, help="Compare with the committed schema/schema.graphql; exit 1 on any change.")
@click.option(
    "--operations",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Check a folder of consumer operations (.graphql) against the working schema; exit 1 if one fails or the "
    "folder has none.",
)
@click.option("--apollo", is_flag=True, help="Print the client kit's schema/client/apollo.json instead.")
@click.option(
    "--format", "output_format", type=click.Choice(["text", "json", "github"]), default="text", show_default=True,
    help="Of --check and --operations: text (FILE:LINE:COL: operation: message); json; github: GitHub Actions "
    "annotations.",
)  # fmt: skip
def schema(check: bool, operations: Path | None, apollo: bool, output_format: str) -> None:
    """Print the GraphQL SDL, or check it against the committed contract and against consumers' operations.

    With --check, every difference is listed as BREAKING, DANGEROUS (graphql-core's classification) or SAFE
    (additions, descriptions), and every deprecation as a NOTICE (not a difference). With --operations DIR, every
    problem of an operation that would not validate is listed at its FILE:LINE:COL with the operation's name, and a
    folder without any operation fails too. With --apollo, the client kit's schema/client/apollo.json is printed.

    Example:

        diplo schema > schema/schema.graphql && diplo schema --check --operations ../web-app/src/graphql --format github
    """
    from .contract import check_committed, check_operations, deprecations
    from .graphql.schema import print_sdl

    if apollo:
        from .clientkit import apollo_config
        from .graphql.schema import build_schema

        click.echo(json.dumps(apollo_config(build_schema()._schema), indent=2))
        return
    if not check and operations is None:
        click.echo(print_sdl(), nl=False)
        return
    failed, lines, summary = False, [], []
    found: dict[str, Any] = {}
    if check:
        changes = check_committed()
        notices = deprecations(print_sdl())
        found["changes"] = [{"severity": c.severity.upper(), "description": c.description} for c in changes]
        found["notices"] = [{"severity": c.severity.upper(), "description": c.description} for c in notices]
        levels = {"breaking": "error", "dangerous": "warning", "safe": "notice", "notice": "notice"}
        for change in [*changes, *notices]:
            sdl = "schema/schema.graphql"
            shown = _annotation(levels[change.severity], sdl, None, None, change.severity.upper(), change.description)
            lines.append(shown if output_format == "github" else str(change))
        failed = bool(changes)
        summary.append(f"{len(changes)} difference(s) from schema/schema.graphql" if changes
                       else "schema/schema.graphql is current")  # fmt: skip
    if operations is not None:
        report = check_operations(operations)
        found["operations"] = {"folder": str(operations), "count": report.operations,
                               "problems": [p.as_dict() for p in report.problems]}  # fmt: skip
        for problem in report.problems:
            title = problem.definition or "syntax"
            annotation = _annotation("error", problem.file, problem.line, problem.column, title, problem.message)
            lines.append(annotation if output_format == "github" else str(problem))
        if report.problems:
            summary.append(f"{len(report.problems)} problem(s) in the operations of {operations}")
        elif report.operations == 0:
            summary.append(f"no operation in {operations}: no .graphql file there holds a query")
        else:
            summary.append(f"{report.operations} operation(s) in {operations} valid against the working schema")
        failed = failed or bool(report.problems) or report.operations == 0
    if output_format == "json":
        click.echo(json.dumps(found, ensure_ascii=False, indent=2))
    else:
        for line in lines:
            click.echo(line)
    for line in summary:
        click.echo(line, err=failed or output_format != "text")
    if failed:
        sys.exit(1)


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
    from .ingest.synth import write_synthetic

    statements = write_synthetic(out, meetings, statements_per_meeting, seed)
    click.echo(f"wrote {meetings} meetings and {statements} statements to {out}")
