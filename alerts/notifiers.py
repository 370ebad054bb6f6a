"""The notifier behind every outbox target, built from the Slack and on-call configuration:
`slack`, and `oncall:<name>` for each target under `[oncall.targets]`."""

from __future__ import annotations

from collections.abc import Callable

from stormwatch.alerts.alertmanager import AlertmanagerNotifier
from stormwatch.alerts.delivery import Notifier
from stormwatch.alerts.escalation_policy import OncallConfig
from stormwatch.alerts.pagerduty import PagerDutyNotifier
from stormwatch.alerts.slack_config import SlackConfig
from stormwatch.alerts.slack_delivery import TARGET as SLACK_TARGET
from stormwatch.alerts.slack_delivery import SlackNotifier
from stormwatch.alerts.store import IncidentStore
from stormwatch.alerts.webhook import WebhookNotifier
from stormwatch.playbooks.matcher import PlaybookSet


def build_notifiers(
    store: IncidentStore,
    *,
    slack: SlackConfig | None,
    oncall: OncallConfig | None,
    playbooks: PlaybookSet | None = None,
    clock: Callable[[], float],
    timeout: float = 10.0,
) -> dict[str, Notifier]:
    notifiers: dict[str, Notifier] = {}
    if slack is not None and slack.enabled:
        notifiers[SLACK_TARGET] = SlackNotifier(store, slack, playbooks=playbooks, clock=clock)
    for target in oncall.targets.values() if oncall is not None else ():
        notifier: Notifier
        if target.type == "pagerduty":
            notifier = PagerDutyNotifier(
                routing_key=target.secret or "", url=target.url, timeout=timeout
            )
        elif target.type == "alertmanager":
            notifier = AlertmanagerNotifier(
                url=target.url, store=store, timeout=timeout, clock=clock
            )
        else:
            notifier = WebhookNotifier(
                url=target.url, secret=target.secret or "", timeout=timeout, clock=clock
            )
        notifiers[target.outbox_target] = notifier
    return notifiers
