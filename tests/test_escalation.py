"""On-call escalation: levels page after their delays on an injected clock, within business
hours and outside quiet hours; an acknowledgement stops it and acknowledges downstream."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from stormwatch.alerts.actions import IncidentActions
from stormwatch.alerts.delivery import Backoff, OutboxWorker
from stormwatch.alerts.escalation import Escalator
from stormwatch.alerts.escalation_policy import load_oncall_config
from stormwatch.alerts.pagerduty import PagerDutyNotifier
from stormwatch.alerts.store import IncidentStore
from stormwatch.exceptions import ConfigError
from tests.fake_pagerduty import FakePagerDuty
from tests.test_pagerduty import KEY, opened

BERLIN = ZoneInfo("Europe/Berlin")
# Tuesday 2026-03-03 10:00 in Berlin: business hours
TUESDAY_10 = datetime(2026, 3, 3, 10, 0, tzinfo=BERLIN).timestamp()
CONFIG = """
[oncall]
timezone = "Europe/Berlin"
business_hours = "mon-fri 09:00-18:00"
quiet_hours = "22:00-07:00"
quiet_hours_override = "critical"

[oncall.targets.primary]
type = "pagerduty"
routing_key_env = "PD_PRIMARY"
url = "{url}"

[oncall.targets.secondary]
type = "pagerduty"
routing_key_env = "PD_SECONDARY"
url = "{url}"

[[oncall.policies]]
min_severity = "medium"
levels = [
  {{ after_minutes = 15, targets = ["primary"] }},
  {{ after_minutes = 30, targets = ["secondary"] }},
]
"""
ENV = {"PD_PRIMARY": "P" * 32, "PD_SECONDARY": "S" * 32}


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def pagerduty() -> Iterator[FakePagerDuty]:
    with FakePagerDuty() as server:
        yield server


def oncall_setup(tmp_path: Path, pagerduty: FakePagerDuty, config_text: str = CONFIG):  # type: ignore[no-untyped-def]
    """A store, an escalator and an outbox worker paging the fake PagerDuty, on a clock
    set to a Tuesday morning in Berlin."""
    path = tmp_path / "stormwatch.toml"
    path.write_text(config_text.format(url=pagerduty.url))
    config = load_oncall_config(path, env=ENV)
    clock = Clock(TUESDAY_10)
    store = IncidentStore.open(tmp_path / "incidents.sqlite3", clock=clock)
    escalator = Escalator(store, config, clock=clock, notify_slack=False)
    notifiers = {
        t.outbox_target: PagerDutyNotifier(routing_key=t.secret or "", url=t.url, timeout=2)
        for t in config.targets.values()
    }
    worker = OutboxWorker(store, notifiers, clock=clock, backoff=Backoff(base=0.01, jitter=0))
    return store, escalator, worker, clock


@pytest.fixture
def setup(tmp_path: Path, pagerduty: FakePagerDuty):  # type: ignore[no-untyped-def]
    store, escalator, worker, clock = oncall_setup(tmp_path, pagerduty)
    yield store, escalator, worker, clock
    store.close()


def run(escalator: Escalator, worker: OutboxWorker) -> None:
    escalator.tick()
    assert worker.drain(timeout=5)


def test_levels_page_after_their_delays_and_ack_stops_them(setup, pagerduty) -> None:
    store, escalator, worker, clock = setup
    store.record(opened())
    run(escalator, worker)
    assert pagerduty.events == []  # the Slack message is level 0
    clock.now += 15 * 60
    run(escalator, worker)
    assert [(e["routing_key"][0], e["event_action"]) for e in pagerduty.events] == [
        ("P", "trigger")
    ]
    run(escalator, worker)  # nothing new: a level pages once
    assert len(pagerduty.events) == 1
    IncidentActions(store, escalator=escalator, notify_slack=False).apply(
        "acknowledge", KEY, who="alice"
    )
    assert worker.drain(timeout=5)
    clock.now += 60 * 60
    run(escalator, worker)  # secondary is never paged: someone has it
    assert [(e["routing_key"][0], e["event_action"]) for e in pagerduty.events] == [
        ("P", "trigger"),
        ("P", "acknowledge"),
    ]
    IncidentActions(store, escalator=escalator, notify_slack=False).apply(
        "resolve", KEY, who="alice"
    )
    assert worker.drain(timeout=5)
    assert pagerduty.state == {KEY: "resolved"}
    assert {e["dedup_key"] for e in pagerduty.events} == {KEY}


def test_an_incident_that_reopens_pages_its_levels_again(setup, pagerduty) -> None:
    """A storm back after its incident resolved (the pipeline reopens it with an
    escalation) is paged as the first time: level by level from its reopening, not at
    once by the time since it first opened, and not left unpaged because its levels
    fired before."""
    from dataclasses import replace

    store, escalator, worker, clock = setup
    first = opened()
    store.record(first)
    clock.now += 15 * 60
    run(escalator, worker)
    store.record(replace(first, event="resolved", at=first.at + 3600))
    run(escalator, worker)
    assert pagerduty.state == {KEY: "resolved"}
    run(escalator, worker)  # all told: the incident is settled
    clock.now += 3 * 3600
    store.record(replace(first, event="escalated", at=first.at + 4 * 3600))
    run(escalator, worker)
    pages = lambda: [(e["routing_key"][0], e["event_action"]) for e in pagerduty.events]  # noqa: E731
    assert pages() == [("P", "trigger"), ("P", "resolve")]  # nothing due yet
    clock.now += 15 * 60
    run(escalator, worker)
    assert pages() == [("P", "trigger"), ("P", "resolve"), ("P", "trigger")]
    assert pagerduty.state == {KEY: "triggered"}
    clock.now += 15 * 60
    run(escalator, worker)
    assert pages()[-1] == ("S", "trigger")


def test_a_storm_that_goes_on_after_a_person_resolved_it_pages_from_its_reopening(
    setup, pagerduty
) -> None:
    """Resolved by a person five minutes in, before any level paged, and reopened by the
    pipeline an hour later: its levels count from the reopening. Counted from its first
    opening (nothing had told on-call it resolved), both levels paged at once."""
    from dataclasses import replace

    store, escalator, worker, clock = setup
    first = opened()
    store.record(first)
    clock.now += 5 * 60
    IncidentActions(store, escalator=escalator, notify_slack=False).apply(
        "resolve", KEY, who="alice"
    )
    run(escalator, worker)
    clock.now += 55 * 60
    store.record(replace(first, event="updated", at=first.at + 3600))
    assert store.get_incident(KEY).status == "open"
    run(escalator, worker)
    pages = lambda: [(e["routing_key"][0], e["event_action"]) for e in pagerduty.events]  # noqa: E731
    assert pages() == []
    clock.now += 15 * 60
    run(escalator, worker)
    assert pages() == [("P", "trigger")]
    clock.now += 15 * 60
    run(escalator, worker)
    assert pages() == [("P", "trigger"), ("S", "trigger")]


def test_escalate_button_pages_the_next_level_now(setup, pagerduty) -> None:
    store, escalator, worker, clock = setup
    store.record(opened())
    actions = IncidentActions(store, escalator=escalator, notify_slack=False)
    assert "paging primary" in actions.apply("escalate", KEY, who="bob").note
    clock.now += 30
    assert "paging secondary" in actions.apply("escalate", KEY, who="bob").note
    clock.now += 30
    assert "already" in actions.apply("escalate", KEY, who="bob").note
    assert worker.drain(timeout=5)
    assert [e["routing_key"][0] for e in pagerduty.events] == ["P", "S"]


def test_escalate_on_a_resolved_incident_pages_nobody(setup, pagerduty) -> None:
    """Two people press at once, or an older copy of the message still shows the button:
    the incident is resolved, and paging on-call for it woke someone for nothing."""
    store, escalator, worker, _ = setup
    store.record(opened())
    actions = IncidentActions(store, escalator=escalator, notify_slack=False)
    actions.apply("resolve", KEY, who="alice")
    assert "resolved" in actions.apply("escalate", KEY, who="bob").note
    assert worker.drain(timeout=5)
    assert [e for e in pagerduty.events if e["event_action"] == "trigger"] == []


def test_snooze_on_a_resolved_incident_leaves_it_resolved(setup, pagerduty) -> None:
    """Snoozing a resolved incident made it `snoozed`, and an hour later `open`: on-call
    was paged for a storm that was over, and nothing would resolve it again."""
    store, escalator, worker, clock = setup
    store.record(opened())
    actions = IncidentActions(store, escalator=escalator, notify_slack=False)
    actions.apply("resolve", KEY, who="alice")
    resolved_at = store.get_incident(KEY).resolved_at
    assert "resolved" in actions.apply("snooze_1h", KEY, who="bob").note
    clock.now += 61 * 60
    run(escalator, worker)
    incident = store.get_incident(KEY)
    assert (incident.status, incident.resolved_at) == ("resolved", resolved_at)
    assert [e for e in pagerduty.events if e["event_action"] == "trigger"] == []


def test_a_level_pages_all_its_targets_or_none(tmp_path: Path, pagerduty) -> None:
    """A level's pages went in one transaction each: when the second insert failed (a
    database locked by a purge), the level counted as paged and its second target was
    never paged, by any later pass or restart."""
    import sqlalchemy as sa

    two = CONFIG.replace(
        """  {{ after_minutes = 15, targets = ["primary"] }},
  {{ after_minutes = 30, targets = ["secondary"] }},""",
        """  {{ after_minutes = 15, targets = ["primary", "secondary"] }},""",
    )
    store, escalator, worker, clock = oncall_setup(tmp_path, pagerduty, two)
    inserts = []

    def second_insert_fails(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        if statement.startswith("INSERT INTO deliveries"):
            inserts.append(statement)
            if len(inserts) == 2:
                raise sa.exc.OperationalError(statement, {}, Exception("database is locked"))

    try:
        store.record(opened())
        clock.now += 15 * 60
        sa.event.listen(store._engine, "before_cursor_execute", second_insert_fails)
        with pytest.raises(Exception, match="locked"):
            escalator.tick()
        sa.event.remove(store._engine, "before_cursor_execute", second_insert_fails)
        clock.now += 60
        run(escalator, worker)
        assert sorted(e["routing_key"][0] for e in pagerduty.events) == ["P", "S"]
    finally:
        store.close()


def test_a_snoozed_acknowledged_incident_is_acknowledged_again_after_the_hour(
    setup, pagerduty
) -> None:
    """The end of a snooze set every incident `open`: one someone had taken paged the
    next level an hour later."""
    store, escalator, worker, clock = setup
    store.record(opened())
    clock.now += 15 * 60
    run(escalator, worker)
    actions = IncidentActions(store, escalator=escalator, notify_slack=False)
    actions.apply("acknowledge", KEY, who="alice")
    actions.apply("snooze_1h", KEY, who="alice")
    clock.now += 61 * 60
    run(escalator, worker)
    assert store.get_incident(KEY).status == "acknowledged"
    assert [(e["routing_key"][0], e["event_action"]) for e in pagerduty.events] == [
        ("P", "trigger"),
        ("P", "acknowledge"),
    ]


def test_a_pass_never_acts_on_a_status_a_person_is_changing(setup, pagerduty) -> None:
    """Acknowledge and Snooze come from the web server's threads, passes from the
    escalation thread: a pass that read "open" before an acknowledgement paged after it,
    and one between a snooze's status and its end time ended the snooze at once."""
    import threading

    store, escalator, worker, clock = setup
    store.record(opened())
    clock.now += 15 * 60
    actions = IncidentActions(store, escalator=escalator, notify_slack=False)
    real_set_status = store.set_status
    passes: list[threading.Thread] = []

    def set_status_while_a_pass_starts(*args, **kwargs):  # type: ignore[no-untyped-def]
        old = real_set_status(*args, **kwargs)
        passes.append(threading.Thread(target=escalator.tick))
        passes[-1].start()
        passes[-1].join(0.3)  # with the lock held by the action, the pass waits
        return old

    store.set_status = set_status_while_a_pass_starts  # type: ignore[method-assign]
    actions.apply("snooze_1h", KEY, who="bob")
    store.set_status = real_set_status  # type: ignore[method-assign]
    for thread in passes:
        thread.join(5)
    assert worker.drain(timeout=5)
    assert store.get_incident(KEY).status == "snoozed"
    assert pagerduty.events == []


def test_a_double_click_on_escalate_pages_one_level(setup, pagerduty) -> None:
    """Two presses a second apart are two signed requests: they paged the first and the
    second level at once. A press ten seconds after the last one pages the next."""
    store, escalator, worker, clock = setup
    store.record(opened())
    actions = IncidentActions(store, escalator=escalator, notify_slack=False)
    assert "paging primary" in actions.apply("escalate", KEY, who="alice").note
    clock.now += 1
    assert "just now" in actions.apply("escalate", KEY, who="alice").note
    assert worker.drain(timeout=5)
    assert [e["routing_key"][0] for e in pagerduty.events] == ["P"]
    clock.now += 10
    assert "paging secondary" in actions.apply("escalate", KEY, who="alice").note
    assert worker.drain(timeout=5)
    assert [e["routing_key"][0] for e in pagerduty.events] == ["P", "S"]


def test_snooze_holds_pages_for_an_hour(setup, pagerduty) -> None:
    store, escalator, worker, clock = setup
    store.record(opened())
    IncidentActions(store, escalator=escalator, notify_slack=False).apply(
        "snooze_1h", KEY, who="carol"
    )
    clock.now += 59 * 60
    run(escalator, worker)
    assert pagerduty.events == [] and store.get_incident(KEY).status == "snoozed"
    clock.now += 2 * 60
    run(escalator, worker)
    assert store.get_incident(KEY).status == "open"
    assert [e["routing_key"][0] for e in pagerduty.events] == ["P", "S"]


def test_quiet_hours_hold_pages_unless_critical(setup, pagerduty) -> None:
    store, escalator, worker, clock = setup
    clock.now = datetime(2026, 3, 3, 23, 0, tzinfo=BERLIN).timestamp()
    store.record(opened())  # severity high
    clock.now += 20 * 60
    run(escalator, worker)
    assert pagerduty.events == []
    clock.now = datetime(2026, 3, 4, 7, 1, tzinfo=BERLIN).timestamp()
    run(escalator, worker)
    assert [e["routing_key"][0] for e in pagerduty.events] == ["P", "S"]


def test_a_critical_incident_pages_through_quiet_hours(setup, pagerduty) -> None:
    """`quiet_hours_override = "critical"`: a critical storm at 23:00 does not wait for
    the morning; its levels page after their delays as by day."""
    from dataclasses import replace

    store, escalator, worker, clock = setup
    clock.now = datetime(2026, 3, 3, 23, 0, tzinfo=BERLIN).timestamp()
    store.record(replace(opened(), severity="critical"))
    clock.now += 14 * 60
    run(escalator, worker)
    assert pagerduty.events == []  # the primary's 15 minutes have not passed
    clock.now += 2 * 60
    run(escalator, worker)
    assert [e["routing_key"][0] for e in pagerduty.events] == ["P"]
    clock.now += 15 * 60
    run(escalator, worker)
    assert [e["routing_key"][0] for e in pagerduty.events] == ["P", "S"]


@pytest.mark.parametrize(
    ("when", "hour", "pages"),
    [
        ("business_hours", 10, True),
        ("business_hours", 19, False),
        ("outside_business_hours", 10, False),
        ("outside_business_hours", 19, True),
    ],
)
def test_a_level_pages_only_when_its_condition_holds(
    tmp_path: Path, pagerduty: FakePagerDuty, when: str, hour: int, pages: bool
) -> None:
    """A level with `when` pages only inside (or outside) business hours, Tuesday 10:00
    or 19:00 in Berlin (not quiet hours either way)."""
    config = CONFIG.replace(
        '{{ after_minutes = 15, targets = ["primary"] }},',
        f'{{{{ after_minutes = 15, targets = ["primary"], when = "{when}" }}}},',
    )
    path = tmp_path / "stormwatch.toml"
    path.write_text(config.format(url=pagerduty.url))
    oncall = load_oncall_config(path, env=ENV)
    clock = Clock(datetime(2026, 3, 3, hour, 0, tzinfo=BERLIN).timestamp())
    store = IncidentStore.open(tmp_path / "incidents.sqlite3", clock=clock)
    try:
        escalator = Escalator(store, oncall, clock=clock, notify_slack=False)
        notifiers = {
            t.outbox_target: PagerDutyNotifier(routing_key=t.secret or "", url=t.url, timeout=2)
            for t in oncall.targets.values()
        }
        worker = OutboxWorker(store, notifiers, clock=clock, backoff=Backoff(base=0.01, jitter=0))
        store.record(opened())
        clock.now += 16 * 60
        run(escalator, worker)
        assert [e["routing_key"][0] for e in pagerduty.events] == (["P"] if pages else [])
    finally:
        store.close()


def test_business_hours_and_quiet_hours_ranges() -> None:
    from stormwatch.alerts.escalation_policy import parse_time_range

    business = parse_time_range("mon-fri 09:00-18:00", "x")
    quiet = parse_time_range("22:00-07:00", "x")
    assert business.contains(datetime(2026, 3, 3, 9, 0))
    assert not business.contains(datetime(2026, 3, 7, 10, 0))  # Saturday
    assert quiet.contains(datetime(2026, 3, 3, 23, 30)) and quiet.contains(datetime(2026, 3, 4, 6))
    assert not quiet.contains(datetime(2026, 3, 4, 7, 0))
    weekend_nights = parse_time_range("fri-sat 22:00-06:00", "x")
    assert weekend_nights.contains(datetime(2026, 3, 8, 5, 0))  # Sunday early = Saturday night
    assert not weekend_nights.contains(datetime(2026, 3, 9, 5, 0))  # Monday early


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[oncall]\nbusiness_hours = 'weekdays'\n", "business_hours must look like"),
        ("[oncall]\ntimezone = 'Mars/Olympus'\n", "unknown time zone"),
        ("[oncall.targets.x]\ntype = 'pager'\n", "oncall.targets.x.type must be one of"),
        (
            "[oncall.targets.x]\ntype = 'pagerduty'\nrouting_key_env = 'NOPE'\n",
            "NOPE is not set",
        ),
        ("[[oncall.policies]]\nlevels = [{after_minutes = 5, targets = ['ghost']}]\n", "ghost"),
        ("[oncall]\npager = 1\n", "unknown setting 'pager'"),
        # A URL that passed a prefix check, and every page then crashed in the outbox.
        ("[oncall.targets.x]\ntype = 'webhook'\nurl = 'http://[::1'\n", "url must be an"),
        ("[oncall.targets.x]\ntype = 'webhook'\nurl = 'http://h:x/'\n", "url must be an"),
        ("[oncall.targets.x]\ntype = 'webhook'\nurl = 'https://'\n", "url must be an"),
        # urllib took `user:pw@host` for the host name: every page retried for ever.
        (
            "[oncall.targets.x]\ntype = 'webhook'\nurl = 'https://u:pw@h/hook'\n",
            "must not hold a user or password",
        ),
        # NaN passed `>= minimum`: a level after NaN minutes paged at once.
        (
            "[oncall.targets.x]\ntype = 'alertmanager'\nurl = 'http://h/'\n"
            "[[oncall.policies]]\nlevels = [{after_minutes = nan, targets = ['x']}]\n",
            "after_minutes must be a finite number",
        ),
    ],
)
def test_config_errors_name_the_setting(tmp_path: Path, toml: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(toml)
    with pytest.raises(ConfigError, match=message):
        load_oncall_config(path, env={})


def test_hours_up_to_24_00_reach_the_end_of_the_day() -> None:
    """`00:00-24:00` is the whole day (it read as an empty range: weekend business hours
    written so never paged their level), and `18:00-24:00` runs to midnight."""
    from stormwatch.alerts.escalation_policy import parse_time_range

    weekend = parse_time_range("sat,sun 00:00-24:00", "business_hours")
    evening = parse_time_range("18:00-24:00", "quiet_hours")
    saturday, monday = datetime(2026, 12, 5), datetime(2026, 12, 7)
    for hour in (0, 12, 23):
        assert weekend.contains(saturday.replace(hour=hour, minute=59))
        assert not weekend.contains(monday.replace(hour=hour))
    assert evening.contains(monday.replace(hour=23, minute=59))
    assert evening.contains(monday.replace(hour=18))
    assert not evening.contains(monday.replace(hour=17, minute=59))
    assert not evening.contains(monday.replace(hour=0, minute=30))


def test_a_snooze_never_reopens_what_the_pipeline_resolved_meanwhile(setup) -> None:
    """The status is checked and changed in one transaction: a resolution recorded by the
    pipeline between a check and a change was snoozed, reopened an hour later, paged."""
    store, _, _, _ = setup
    store.record(opened())
    store.set_status(KEY, "resolved")
    assert store.set_status(KEY, "snoozed", unless=("resolved",)) == "resolved"
    assert store.get_incident(KEY).status == "resolved"
    store.record(replace(opened(), event="updated"))  # the storm came back: open
    assert store.set_status(KEY, "snoozed", unless=("resolved",)) == "open"
    assert store.get_incident(KEY).status == "snoozed"


def test_a_webhook_url_is_kept_as_written_and_the_others_lose_their_slash(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """`url = ".../hook/"` was posted to `/hook`: a receiver routed on `/hook/` answered
    with a redirect, and the page was dead."""
    path = tmp_path / "oncall.toml"
    path.write_text(
        "[oncall.targets.hook]\ntype = 'webhook'\nurl = 'https://ops.example.com/hook/'\n"
        "secret_env = 'HOOK'\n"
        "[oncall.targets.am]\ntype = 'alertmanager'\nurl = 'http://127.0.0.1:9093/'\n"
    )
    config = load_oncall_config(path, env={"HOOK": "s" * 32})
    assert config.targets["hook"].url == "https://ops.example.com/hook/"
    assert config.targets["am"].url == "http://127.0.0.1:9093"
