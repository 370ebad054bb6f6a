"""`stormwatch feedback` and `stormwatch purge`: what people write into the incident store,
and deleting what it keeps of comments and authors.

Plain typer command functions, registered by the main CLI (`stormwatch.cli`); the store
(SQLAlchemy) is imported when a command runs. Both refuse a SQLite path that does not
exist rather than create an empty database nobody reads.
"""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from stormwatch.alerts.exceptions import StoreUrlError
from stormwatch.command_arguments import (
    DATABASE_ENV,
    ConfigFile,
    StoreUrl,
    command_settings,
    fail,
)
from stormwatch.config import Settings
from stormwatch.exceptions import StormwatchError

__all__ = ["feedback", "purge"]


def _existing_store(url: str) -> None:
    """A SQLite store must exist already, and be one: a typo in the path would otherwise
    create an empty database and record the verdict where nobody reads it, and another
    application's database got stormwatch's tables added and a purge "done" in it."""
    from stormwatch.alerts.store.connection import _parse_url

    try:
        parsed = _parse_url(url)  # as the store reads it: `~` expanded
    except StormwatchError:  # the store reports a bad URL itself
        return
    if parsed.get_backend_name() != "sqlite":
        return
    database = parsed.database
    if not database or database == ":memory:":
        raise fail(
            f"an in-memory store holds nothing: give the --db of the run (or {DATABASE_ENV})"
        )
    path = Path(database)
    if not path.is_file():
        what = "is a directory" if path.is_dir() else "does not exist"
        raise fail(
            f"incident store {database} {what}: give the --db of the run "
            f"(or {DATABASE_ENV}) that recorded the incident"
        )
    try:
        with contextlib.closing(
            sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        ) as db:
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    except sqlite3.Error:
        return  # not a database at all: the store says so in its own words
    if "schema_version" not in tables:
        raise fail(
            f"{database} is not a stormwatch incident store (it holds no schema_version "
            "table): give the --db of the run that recorded the incident"
        )


def _store_failed(exc: StormwatchError) -> typer.Exit:
    """A wrong store URL is a wrong usage (2, as for `run`); a store that fails, 1."""
    return fail(exc, 2 if isinstance(exc, StoreUrlError) else 1)


def feedback(
    incident: Annotated[str | None, typer.Argument(help="Incident key.")] = None,
    false_alarm: Annotated[bool, typer.Option("--false-alarm", help="Not a crisis.")] = False,
    confirmed: Annotated[bool, typer.Option("--confirmed", help="A real crisis.")] = False,
    comment: Annotated[
        str | None,
        typer.Option("--comment", help="A comment's id (a sample of an alert) to label."),
    ] = None,
    negative: Annotated[
        bool | None,
        typer.Option("--negative/--not-negative", help="How the comment reads (with --comment)."),
    ] = None,
    text: Annotated[
        str | None, typer.Option(help="The comment's text, when it is no stored sample.")
    ] = None,
    brand: Annotated[
        str | None, typer.Option(help="The comment's brand, when it is no stored sample.")
    ] = None,
    lang: Annotated[str | None, typer.Option(help="The comment's language (ISO 639-1).")] = None,
    who: Annotated[str, typer.Option(help="Who says so.")] = "cli",
    db: StoreUrl = None,
    config: ConfigFile = None,
) -> None:
    """Record whether an incident was a real crisis, or how one comment reads.

    A verdict on an incident feeds detector tuning. With --comment ID
    --negative/--not-negative it teaches that brand's negativity: runs with --db learn it
    at start-up."""
    from stormwatch.alerts.feedback import record_feedback
    from stormwatch.alerts.store import IncidentStore

    settings = command_settings(config, database_url=db)
    if comment is not None:
        if incident is not None or false_alarm or confirmed:
            raise fail("--comment labels a comment: no incident, --false-alarm or --confirmed")
        if negative is None:
            raise fail("give --negative or --not-negative with --comment")
        if brand is not None and not brand.strip():
            raise fail("--brand is empty: give the comment's brand")
        _label_comment(settings, comment, negative, text=text, brand=brand, lang=lang, who=who)
        return
    if incident is None:
        raise fail("give an incident key, or --comment ID")
    if negative is not None or text is not None or brand is not None or lang is not None:
        # They were taken without a word: the verdict recorded, the reading lost.
        raise fail("--negative, --text, --brand and --lang go with --comment ID, not a verdict")
    if false_alarm == confirmed:
        raise fail("give exactly one of --false-alarm or --confirmed")
    if not settings.database_url:
        raise fail(f"needs --db or {DATABASE_ENV}")
    _existing_store(settings.database_url)
    try:
        with IncidentStore.open(settings.database_url) as store:
            label = "false_alarm" if false_alarm else "confirmed"
            record_feedback(store, incident, label, who=who)
    except StormwatchError as exc:
        raise _store_failed(exc) from None
    Console(soft_wrap=True).print(f"recorded {label} for {incident}")


def _label_comment(
    settings: Settings,
    comment: str,
    negative: bool,
    *,
    text: str | None,
    brand: str | None,
    lang: str | None,
    who: str,
) -> None:
    from stormwatch.alerts.store import IncidentStore

    if not settings.database_url:
        raise fail(f"needs --db or {DATABASE_ENV}")
    _existing_store(settings.database_url)
    try:
        with IncidentStore.open(settings.database_url) as store:
            if text is None:
                sample = store.find_sample(comment, brand)
                if sample is None:
                    raise fail(
                        f"no alert shows a comment {comment!r} as a sample: give its --text "
                        "and --brand"
                    )
                # The language the pipeline read it in, as the Slack button keeps it:
                # corrections are per brand and language.
                text, brand, lang = sample.text, sample.brand, lang or sample.lang
            elif brand is None:
                raise fail("--text needs --brand")
            store.add_negativity_label(
                brand=brand, comment_id=comment, text=text, lang=lang, negative=negative, who=who
            )
    except StormwatchError as exc:
        raise _store_failed(exc) from None
    reading = "negative" if negative else "not negative"
    Console(soft_wrap=True).print(
        f"recorded: comment {comment} of {brand} reads {reading}", markup=False
    )


def purge(
    older_than: Annotated[
        float,
        typer.Option(
            "--older-than", metavar="DAYS", help="Purge what was recorded before this many days."
        ),
    ],
    db: StoreUrl = None,
    config: ConfigFile = None,
) -> None:
    """Delete stored comment texts and author ids older than DAYS.

    Alert samples and loudest accounts go, and so do the comments people marked negative
    or not negative (`feedback --comment`, Slack) before then: they hold the comment's
    text. Incidents, their figures and verdicts stay."""
    from stormwatch.alerts.store import IncidentStore
    from stormwatch.alerts.store.retention import purge as purge_store

    if not older_than >= 0:
        raise fail(f"--older-than {older_than} is not >= 0 (days)")
    settings = command_settings(config, database_url=db)
    if not settings.database_url:
        raise fail(f"needs --db or {DATABASE_ENV}")
    _existing_store(settings.database_url)
    try:
        with IncidentStore.open(settings.database_url) as store:
            report = purge_store(store, older_than_days=older_than)
    except StormwatchError as exc:
        raise _store_failed(exc) from None
    Console(soft_wrap=True).print(
        f"purged comment texts and author ids older than {older_than:g} days: "
        f"{report.events} events, {report.incidents} incidents, "
        f"{report.deliveries} deliveries, {report.labels} negativity labels deleted"
    )
