"""Wiring of the embedded runtime: settings in, a ready pipeline with its sinks out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console

from stormwatch.alerts.sinks import ConsoleAlertSink, JsonlAlertSink, NewEventsOnly
from stormwatch.config import Settings, pseudonym_key
from stormwatch.detectors.enrich import Enricher
from stormwatch.detectors.negativity import MultilingualScorer, build_scorer
from stormwatch.detectors.topics import TopicTagger, load_vocabulary
from stormwatch.ingest.dead_letters import JsonlDeadLetters
from stormwatch.ingest.pseudonym import Pseudonymizer
from stormwatch.pipeline import Pipeline
from stormwatch.ports import AlertSink, PipelineObserver


def build_pipeline(
    settings: Settings,
    *,
    alerts_jsonl: Path | None = None,
    dead_letter: Path | None = None,
    console: Console | None = None,
    observer: PipelineObserver | None = None,
    config_path: Path | None = None,
    env: Mapping[str, str] | None = None,
    delivery_sinks: Sequence[AlertSink] | None = None,
) -> Pipeline:
    """`config_path` is the TOML file whose `[slack]` and `[oncall]` sections configure
    delivery (default: `STORMWATCH_CONFIG`); `env` the environment (default: os.environ).
    With `SLACK_BOT_TOKEN` set, incidents are posted through the outbox; without it, a
    console run prints what it would have posted. `delivery_sinks` replace the store and
    outbox sinks built here (`stormwatch serve` records into its own store and delivers
    from its own loop)."""
    shown: list[AlertSink] = []  # what a person or a file sees of each event
    if console is not None:
        shown.append(ConsoleAlertSink(console))
    if alerts_jsonl is not None:
        # Appended to, as by a worker: a run resumed after a crash continues the file
        # instead of wiping the alerts the killed run wrote.
        shown.append(
            JsonlAlertSink(alerts_jsonl, append=True, skip_known=bool(settings.database_url))
        )
    tagger = TopicTagger(load_vocabulary(settings.topics_file)) if settings.topics_file else None
    playbook_for = None
    playbooks = None
    try:
        from stormwatch.playbooks.loader import load_playbooks
    except ImportError:  # pragma: no cover - playbooks are part of the package
        load_playbooks = None  # type: ignore[assignment]
    if load_playbooks is not None:
        playbooks = load_playbooks(Path(settings.playbooks_dir) if settings.playbooks_dir else None)

        def playbook_for(*, topics, severity, platform, brand):  # type: ignore[no-untyped-def]
            return playbooks.match(
                topics=topics, severity=severity, platform=platform, brand=brand
            ).id

    if delivery_sinks is None:
        # The metrics observer also counts deliveries (stormwatch_deliveries_total).
        metrics = getattr(observer, "metrics", None)
        delivery_sinks = _delivery_sinks(
            settings,
            console,
            config_path,
            env,
            playbooks,
            on_outcome=getattr(metrics, "delivery", None),
        )
    sinks = _store_first(shown, list(delivery_sinks), persistent=bool(settings.database_url))
    pseudonymize = None
    if settings.pseudonymize_authors:
        pseudonymize = Pseudonymizer(pseudonym_key())
    pipeline = Pipeline(
        settings,
        sinks=sinks,
        dead_letters=JsonlDeadLetters(dead_letter) if dead_letter else None,
        enricher=Enricher(negativity_scorer(settings), tagger=tagger),
        playbook_for=playbook_for,
        pseudonymize=pseudonymize,
        observer=observer,
    )
    if settings.database_url:
        load_verdicts(pipeline, settings.database_url)
        load_negativity_labels(pipeline.enricher, settings.database_url)
    return pipeline


def load_negativity_labels(enricher: Enricher, url: str) -> int:
    """Teaches `enricher` the comments people marked negative or not negative (Slack,
    `stormwatch feedback --comment`), per brand; returns how many it learned."""
    from stormwatch.alerts.store import IncidentStore

    with IncidentStore.open(url) as store:
        labels = store.negativity_labels()
    return enricher.corrections.learn_labels(labels, enricher.enrich)


def negativity_scorer(settings: Settings) -> MultilingualScorer:
    """The negativity backends the settings choose per language (`negativity_en`,
    `negativity_de`, `negativity_model`): what `run`, `serve` and `worker` enrich with."""
    model = Path(settings.negativity_model) if settings.negativity_model else None
    return build_scorer({"en": settings.negativity_en, "de": settings.negativity_de}, model)


def _store_first(
    shown: list[AlertSink], delivery: list[AlertSink], *, persistent: bool
) -> list[AlertSink]:
    """The sinks in the order they see an event. With a store that outlives the run
    (`--db`), its sink records first and the others see only what it recorded for the
    first time (`NewEventsOnly`): a run resumed from its checkpoint emits the events
    after it again, and its appended alerts file and console showed them twice."""
    recorder = next((s for s in delivery if hasattr(s, "last_new")), None)
    if not persistent or recorder is None:
        return [*shown, *delivery]
    others = [s for s in delivery if s is not recorder]
    return [recorder, *(NewEventsOnly(s, recorder) for s in [*shown, *others])]


def _delivery_sinks(
    settings: Settings,
    console: Console | None,
    config_path: Path | None,
    env: Mapping[str, str] | None,
    playbooks: Any,
    *,
    on_outcome: Any = None,
) -> list[AlertSink]:
    """The store, and Slack/on-call delivery through its outbox when configured."""
    from stormwatch.alerts.escalation_policy import load_oncall_config
    from stormwatch.alerts.slack_config import load_slack_config

    slack = load_slack_config(config_path, env=env)
    oncall = load_oncall_config(config_path, env=env)
    live = slack.enabled or bool(oncall.policies)
    sinks: list[AlertSink] = []
    if not slack.enabled and console is not None:
        from stormwatch.alerts.outbox_sink import DryRunSlackSink

        sinks.append(DryRunSlackSink(console, slack))
    if not live:
        if settings.database_url:
            from stormwatch.alerts.store_sink import StoreSink

            sinks.append(StoreSink.open(settings.database_url))
        return sinks
    import time

    from stormwatch.alerts.delivery import OutboxWorker
    from stormwatch.alerts.escalation import Escalator
    from stormwatch.alerts.notifiers import build_notifiers
    from stormwatch.alerts.outbox_sink import OutboxSink
    from stormwatch.alerts.store import IncidentStore

    # Without --db the outbox lives in memory for the run: enough to post the demo.
    store = IncidentStore.open(settings.database_url or "sqlite:///:memory:")
    notifiers = build_notifiers(
        store, slack=slack, oncall=oncall, playbooks=playbooks, clock=time.time
    )
    escalator = Escalator(store, oncall, notify_slack=slack.enabled) if oncall.policies else None
    targets = ["slack"] if slack.enabled else []
    sinks.append(
        OutboxSink(
            store,
            OutboxWorker(store, notifiers, on_outcome=on_outcome),
            targets=targets,
            escalator=escalator,
        )
    )
    return sinks


def load_verdicts(pipeline: Pipeline, url: str) -> int:
    """Feeds the verdicts people gave on earlier incidents (Slack buttons, `stormwatch
    feedback`) into the pipeline's detectors; returns how many it read."""
    verdicts = read_verdicts(url)
    remember_verdicts(pipeline, verdicts)
    return len(verdicts)


def read_verdicts(url: str) -> list[dict[str, Any]]:
    """The verdicts stored in the incident store at `url`, oldest first per brand, each as
    the keyword arguments of `IncidentDecisions.remember_verdict`: what the incident was
    about, where and who, from its opening event (as a live surge is compared at its
    start), and its peak over all its events. Verdicts on an incident whose opening event
    is not stored are left out."""
    from stormwatch.alerts.store import IncidentStore

    out: list[dict[str, Any]] = []
    with IncidentStore.open(url) as store:
        brands = sorted({i.brand for i in store.list_incidents()})
        for brand in brands:
            for verdict in sorted(store.feedback_for(brand), key=lambda f: f.at):
                events = [e.payload for e in store.events(verdict.incident)]
                opened = next((e for e in events if e["event"] == "opened"), None)
                if opened is None:
                    continue
                drivers = opened.get("drivers", {})
                out.append(
                    {
                        "brand": brand,
                        # One post's storm: a thread's, or a brand-wide surge one
                        # post carried (opened as "firestorm"), as a live one compares.
                        "thread_level": opened.get("thread_id") is not None
                        or opened.get("kind") == "firestorm",
                        "topics": tuple(drivers.get("topics", ())),
                        "terms": tuple(drivers.get("top_terms", ())),
                        "label": verdict.label,
                        "peak_ratio": max(_peak_rate_ratio(e) for e in events),
                        **_where_and_who(opened),
                    }
                )
    return out


def _peak_rate_ratio(event: Mapping[str, Any]) -> float:
    """The ratio a verdict is remembered with; events stored before `peak_rate_ratio`
    was sent carried it as `peak_ratio_to_baseline`."""
    drivers = event.get("drivers", {})
    return drivers.get("peak_rate_ratio", drivers.get("peak_ratio_to_baseline", 0.0))


def _where_and_who(opened: Mapping[str, Any]) -> dict[str, Any]:
    """The platform, loudest accounts and posts of a stored opening event, as a live
    surge's signature has them (`IncidentDecisions._dismissed`): a thread storm's own
    thread, a brand-wide surge's top threads. What the event lacks (an older event, or
    accounts emptied by `purge`) is None, so it is left out of the comparison."""
    drivers = opened.get("drivers", {})
    thread_id = opened.get("thread_id")
    if thread_id is not None:
        threads = [thread_id]
    else:
        threads = [t["thread_id"] for t in drivers.get("top_threads") or ()]
    accounts = [a["author_id"] for a in drivers.get("top_accounts") or ()]
    return {
        "platform": drivers.get("platform"),
        "accounts": tuple(accounts) or None,
        "threads": tuple(threads) or None,
    }


def remember_verdicts(pipeline: Pipeline, verdicts: Sequence[Mapping[str, Any]]) -> None:
    """Feeds verdicts read by `read_verdicts` into `pipeline`'s detectors."""
    for verdict in verdicts:
        pipeline.decisions.remember_verdict(**verdict)
