"""The Slack message of an incident, in Block Kit: what a community manager needs to act.

Pure functions from the incident's latest alert (contract JSON) and its playbook to
blocks; nothing here talks to Slack. Comment texts and account names are user content:
they are escaped so they can neither format the message nor mention anyone
(`escape_user`).

Under each shown comment are buttons that mark it negative or not negative (a label
that teaches the brand's negativity correction); they stay once the incident is
resolved, because a false alarm is when a misread comment is worth marking.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import orjson

from stormwatch.alerts.content import AUTHORS_UNKNOWN_MOST, cut_text, rate_text, ratio_text
from stormwatch.alerts.curve import sparkline
from stormwatch.playbooks.model import Playbook

SEVERITY_ICON = {"low": "🟡", "medium": "🟠", "high": "🔴", "critical": "🚨"}
STATUS_LABEL = {
    "open": "Open",
    "acknowledged": "Acknowledged",
    "snoozed": "Snoozed",
    "resolved": "Resolved",
}
ACTIONS: tuple[tuple[str, str], ...] = (
    ("acknowledge", "Acknowledge"),
    ("snooze_1h", "Snooze 1 h"),
    ("resolve", "Resolve"),
    ("false_alarm", "False alarm"),
    ("escalate", "Escalate"),
)
ACTION_PREFIX = "stormwatch:"
# A comment's reading: "stormwatch:comment:<reading>:<position>" (unique per message),
# the value names the incident and the comment (`comment_reference`).
COMMENT_ACTION_PREFIX = ACTION_PREFIX + "comment:"
READINGS: tuple[tuple[str, str], ...] = (("negative", "Negative"), ("not_negative", "Not negative"))
_VALUE_LIMIT = 2000  # Slack's limit for a button's value
SAMPLES_SHOWN = 3
STEPS_SHOWN = 3
LESSONS_SHOWN = 2
_SECTION_LIMIT = 2900  # Slack allows 3000 characters per section text
_FIELD_LIMIT = 1900  # and 2000 per field; over either the whole message is refused
_TERM_LIMIT = 40  # a term is a word or two of comments: a 2,500-letter "word" is spam
_MENTION = re.compile(r"<@[UW][A-Z0-9]{2,20}>")  # a Slack user, as `who` names people

# Where a platform's thread id makes a stable public URL. Others get no link: a wrong
# link is worse than none in the first minutes of a storm.
_LINKS: dict[str, tuple[re.Pattern[str], str]] = {
    "youtube": (re.compile(r"[A-Za-z0-9_-]{11}"), "https://www.youtube.com/watch?v={id}"),
    "twitter": (re.compile(r"\d{5,25}"), "https://x.com/i/status/{id}"),
    "x": (re.compile(r"\d{5,25}"), "https://x.com/i/status/{id}"),
    "facebook": (re.compile(r"\d{5,25}(_\d{5,25})?"), "https://www.facebook.com/{id}"),
    "reddit": (re.compile(r"[a-z0-9]{5,10}"), "https://www.reddit.com/comments/{id}"),
}


def escape(text: str) -> str:
    """Slack mrkdwn control characters; `<!channel>` and links cannot be smuggled in."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# Slack's mrkdwn has no escape for its formatting marks, so in people's text they become
# look-alikes that format nothing: `*bold claim*` stays as written, not bold. An
# underscore inside a word formats nothing, and user names keep theirs.
_FORMAT_MARK = re.compile(r"[*~`]|(?<!\w)_|_(?!\w)")
_LOOKALIKE = {"*": "\u2217", "~": "\u223c", "`": "\u02cb", "_": "\uff3f"}


def escape_user(text: str) -> str:
    """People's text (comments, account and thread ids, terms): escaped, and its
    formatting marks made inert.

    >>> escape_user("*bold* _it_ ~x~ `c` <!here> a_b")
    '∗bold∗ ＿it＿ ∼x∼ ˋcˋ &lt;!here&gt; a_b'
    """
    return _FORMAT_MARK.sub(lambda m: _LOOKALIKE[m[0]], escape(text))


def thread_link(platform: str | None, thread_id: str | None) -> str | None:
    """A URL of the thread when its platform's ids map to one, else None.

    >>> thread_link("youtube", "dQw4w9WgXcQ")
    'https://www.youtube.com/watch?v=dQw4w9WgXcQ'
    >>> thread_link("instagram", "p-17") is None
    True
    """
    if not platform or not thread_id:
        return None
    found = _LINKS.get(platform.casefold())
    if found is None or not found[0].fullmatch(thread_id):
        return None
    return found[1].format(id=thread_id)


def headline(alert: Mapping[str, Any]) -> str:
    """One line: severity, brand, what. Also the notification text of the message."""
    severity = str(alert["severity"])
    what = (
        f"thread {alert['thread_id']}"
        if alert.get("thread_id")
        else ("brand-wide" if alert.get("kind") == "spreading" else "brand")
    )
    return f"{SEVERITY_ICON.get(severity, '')} {severity.upper()} · {alert['brand']} · {what}"


def notification_text(alert: Mapping[str, Any]) -> str:
    """The message's top-level text: the headline, escaped. Slack reads mentions in it
    (the notification is built from it), and a brand or thread named `<!channel>` must
    not ping anyone."""
    return escape_user(headline(alert))


def _figures(drivers: Mapping[str, Any]) -> list[str]:
    out = []
    now, base = drivers.get("negative_per_min_now"), drivers.get("negative_per_min_baseline")
    span, in_span = drivers.get("rate_span_minutes"), drivers.get("negative_comments_in_span")
    ratio = drivers.get("ratio_to_baseline")
    if span and in_span is not None and base is not None:
        # The span the summary reports (a small brand's few negatives over half an hour
        # or more), in the summary's units: its five-minute rate read "0 (normal
        # 0.005, 0x)" beside a summary of "10.0/hour, 32x the normal 7.4/day".
        rate = in_span / span
        times = f", *{ratio_text(rate / base)}*" if base > 0 else ""
        text = (
            f"*Negative rate*\n{in_span} in {span} min: {rate_text(rate)} "
            f"(normal {rate_text(base)}{times})"
        )
        if ratio is not None:
            # Severity reads the span's rate against the brand's calm normal, capped
            # by the last five minutes' (`Assessment.severity_basis`).
            text += f"\nseverity at {ratio:g}x"
        out.append(text)
    elif now is not None and base is not None:
        # The ratio of the two rates shown; a post's card then gives its brand's, which
        # its severity reads (beside a post's rate and normal, the brand's ratio read
        # "1 (normal 0.035, 9.6x)").
        times = f", *{ratio_text(now / base)}*" if base > 0 else ""
        text = f"*Negative rate*\n{rate_text(now, like=base)} (normal {rate_text(base)}{times})"
        brand = drivers.get("negative_per_min_brand_baseline")
        if ratio is not None and brand is not None and brand != base:
            text += f"\n{ratio:g}x the brand's normal {rate_text(brand)}"
        out.append(text)
    doubling = drivers.get("doubling_minutes")
    if doubling:
        out.append(f"*Growth*\ndoubling every {doubling:g} min")
    share, usual = drivers.get("negative_share"), drivers.get("negative_share_baseline")
    comments = drivers.get("comments_in_span")
    if span and in_span is not None and comments:
        share = in_span / comments  # of the span the rate is read over, as the summary
    if share is not None and usual is not None:
        out.append(f"*Negative share*\n{share:.0%} (usually {usual:.0%})")
    accounts = drivers.get("distinct_accounts_30min")
    if accounts is not None:
        comments = drivers.get("negative_comments_30min")
        extra = f", {comments} comments" if comments is not None else ""
        if (drivers.get("authors_unknown_share") or 0.0) > AUTHORS_UNKNOWN_MOST:
            accounts = "unknown (no author ids)"  # each comment counted as its own
        out.append(f"*Accounts (30 min)*\n{accounts}{extra}")
    volume, vbase = drivers.get("volume_per_min_now"), drivers.get("volume_per_min_baseline")
    if volume is not None and vbase is not None:
        out.append(f"*Volume/min*\n{volume:g} (normal {vbase:g})")
    topics = drivers.get("topics") or drivers.get("top_terms")
    if topics:
        terms = (_cut(str(t), _TERM_LIMIT) for t in topics[:5])
        out.append(f"*Topics*\n{escape_user(', '.join(terms))}")
    # Block Kit: at most 10 fields per section, 2,000 characters each.
    return [_cut(field, _FIELD_LIMIT) for field in out[:10]]


def _cut(text: str, limit: int) -> str:
    """At most `limit` characters, never inside a grapheme or an escaped `&amp;`."""
    if len(text) <= limit:
        return text
    return _PARTIAL_ENTITY.sub("", cut_text(text, limit)[:-1]) + "…"


_PARTIAL_ENTITY = re.compile(r"&[a-z]*$")


def _section(text: str, *, verbatim: bool = False) -> dict[str, Any]:
    """`verbatim` for what quotes people's comments: Slack then parses no "@here" or
    channel name in them and makes no link of a bare URL."""
    body: dict[str, Any] = {"type": "mrkdwn", "text": _cut(text, _SECTION_LIMIT)}
    if verbatim:
        body["verbatim"] = True
    return {"type": "section", "text": body}


class Mark(Protocol):
    """A person's reading of a comment (`alerts.store.negativity_labels.NegativityLabel`)."""

    negative: bool
    who: str


def comment_reference(incident: str, comment_id: str, platform: str | None = None) -> str:
    """The value of a comment's reading buttons: which comment (id and platform: ids
    are unique per platform only) of which incident.

    The text is not in it: it is read from the stored alert, so a purged comment cannot
    come back through a button.
    """
    reference = {"incident": incident, "comment": comment_id}
    if platform is not None:
        reference["platform"] = platform
    return orjson.dumps(reference).decode()


def _comment(sample: Mapping[str, Any], mark: Mark | None) -> str:
    text = _cut(" ".join(str(sample.get("text", "")).split()), 200)
    # One line: an author id with a newline forged a "Marked not negative by ..." line.
    who = _cut(" ".join(str(sample.get("author_id") or "unknown").split()), 100)
    followers = sample.get("followers")
    reach = f", {followers:,} followers" if followers else ""
    line = f">{escape_user(text)}\n— {escape_user(who)}{reach}"
    if mark is not None:
        reading = "negative" if mark.negative else "not negative"
        line += f"\n_Marked {reading} by {_person(mark.who)}_"
    return line


def _person(who: str) -> str:
    """Who marked a comment: a Slack user as a mention (shown as their name), anyone
    else (`stormwatch feedback --who`) as escaped text."""
    return who if _MENTION.fullmatch(who) else escape_user(who)


def _reading_buttons(
    incident: str, position: int, comment_id: str, platform: str | None, mark: Mark | None
) -> dict[str, Any] | None:
    value = comment_reference(incident, comment_id, platform)
    if len(value) > _VALUE_LIMIT:
        return None  # ids this long cannot be marked here; `stormwatch feedback` can
    elements = []
    for reading, label in READINGS:
        button: dict[str, Any] = {
            "type": "button",
            "action_id": f"{COMMENT_ACTION_PREFIX}{reading}:{position}",
            "text": {"type": "plain_text", "text": label},
            "value": value,
        }
        if mark is not None and mark.negative == (reading == "negative"):
            button["style"] = "primary"  # the reading it has now
        elements.append(button)
    return {"type": "actions", "block_id": f"stormwatch_comment_{position}", "elements": elements}


def _samples(
    incident: str, samples: Sequence[Mapping[str, Any]], marks: Mapping[str, Mark]
) -> list[dict[str, Any]]:
    """Each shown comment, and under it the buttons that mark it negative or not."""
    blocks: list[dict[str, Any]] = []
    for position, sample in enumerate(samples[:SAMPLES_SHOWN]):
        comment_id = sample.get("id")
        mark = marks.get(str(comment_id)) if comment_id is not None else None
        heading = "*Top comments*\n" if position == 0 else ""
        blocks.append(_section(heading + _comment(sample, mark), verbatim=True))
        if comment_id is not None and str(comment_id):
            platform = sample.get("platform")
            buttons = _reading_buttons(
                incident,
                position,
                str(comment_id),
                platform if isinstance(platform, str) else None,
                mark,
            )
            if buttons is not None:
                blocks.append(buttons)
    return blocks


def _accounts(accounts: Sequence[Mapping[str, Any]]) -> str | None:
    parts = [
        # Each id cut first: one of 512 "&" escaped to 2,560 characters filled the
        # section, and the others went.
        f"{escape_user(_cut(' '.join(str(a.get('author_id')).split()), 100))} "
        f"({a.get('comments', '?')}×"
        + (f", {a['followers']:,} followers)" if a.get("followers") else ")")
        for a in accounts[:5]
    ]
    return "*Loudest accounts*: " + ", ".join(parts) if parts else None


def _playbook(playbook: Playbook) -> str:
    lines = [f"*Playbook: {escape(playbook.title)}*"]
    for step in playbook.steps[:STEPS_SHOWN]:
        role = step.role.replace("_", " ")
        lines.append(f"• {role}: {escape(step.action)} (within {step.deadline_minutes} min)")
    if playbook.do:
        lines.append("*Do:* " + "; ".join(escape(d) for d in playbook.do[:LESSONS_SHOWN]))
    if playbook.dont:
        lines.append("*Don't:* " + "; ".join(escape(d) for d in playbook.dont[:LESSONS_SHOWN]))
    return "\n".join(lines)


def _buttons(incident: str) -> dict[str, Any]:
    elements: list[dict[str, Any]] = []
    for action, label in ACTIONS:
        button: dict[str, Any] = {
            "type": "button",
            "action_id": ACTION_PREFIX + action,
            "text": {"type": "plain_text", "text": label},
            "value": incident,
        }
        if action == "acknowledge":
            button["style"] = "primary"
        if action in ("resolve", "false_alarm"):
            button["confirm"] = {
                "title": {"type": "plain_text", "text": f"{label}?"},
                "text": {"type": "plain_text", "text": "This stops escalation to on-call."},
                "confirm": {"type": "plain_text", "text": label},
                "deny": {"type": "plain_text", "text": "Cancel"},
            }
        elements.append(button)
    return {"type": "actions", "block_id": "stormwatch_actions", "elements": elements}


def incident_blocks(
    alert: Mapping[str, Any],
    *,
    status: str = "open",
    status_note: str | None = None,
    playbook: Playbook | None = None,
    curve: Sequence[float] = (),
    curve_hours: float | None = None,
    marks: Mapping[str, Mark] | None = None,
) -> list[dict[str, Any]]:
    """The incident's message: `alert` is the contract JSON of its latest event; `marks`
    the readings people gave its comments, by comment id."""
    drivers: Mapping[str, Any] = alert.get("drivers") or {}
    link = thread_link(drivers.get("platform"), alert.get("thread_id"))
    title = headline(alert)
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": cut_text(title, 150), "emoji": True},
        },
    ]
    # People's words are in it (thread ids, topics, terms): inert, and `verbatim` below
    # so Slack parses no "@here" in it.
    summary = escape_user(str(alert.get("summary", "")))
    if link:
        summary += f"\n<{link}|Open the thread>"
    state = f"*{STATUS_LABEL.get(status, status)}*"
    if status_note:
        state += f" · {escape(status_note)}"
    blocks.append(_section(f"{summary}\n{state}", verbatim=True))
    fields = _figures(drivers)
    if fields:
        blocks.append(
            {"type": "section", "fields": [{"type": "mrkdwn", "text": f} for f in fields]}
        )
    if len(curve) >= 2:
        span = f" (last {curve_hours:.1f} h)" if curve_hours else ""
        blocks.append(_section(f"*Curve{span}* `{sparkline(curve)}` peak {max(curve):g}/min"))
    blocks.extend(_samples(str(alert["incident"]), alert.get("samples") or (), marks or {}))
    accounts = _accounts(drivers.get("top_accounts") or ())
    if accounts:
        blocks.append(_section(accounts, verbatim=True))
    if playbook is not None:
        blocks.append(_section(_playbook(playbook)))
    if status != "resolved":
        blocks.append(_buttons(str(alert["incident"])))
    blocks.append(
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": f"stormwatch · incident `{escape(str(alert['incident']))}` · "
                    f"{alert.get('kind', 'firestorm')} · event time {alert.get('at')}",
                }
            ],
        }
    )
    return blocks


def reply_text(alert: Mapping[str, Any]) -> str:
    """The thread reply for an escalation, update or resolution."""
    event = alert.get("event")
    summary = escape_user(str(alert.get("summary", "")))
    if event == "escalated":
        severity = str(alert["severity"]).upper()
        if (alert.get("drivers") or {}).get("new_thread_storms"):
            # Posts joined the storm (its summary names them), at the same severity or
            # a higher one: "escalated to HIGH" again would tell nothing.
            return f"⬆️ *{severity}*: {summary}"
        return f"⬆️ Escalated to *{severity}*: {summary}"
    if event == "resolved":
        return f"✅ Resolved: {summary}"
    if event == "opened":
        return f"🔁 Reopened: {summary}"
    return f"Update: {summary}"
