"""Streams whose volume is NAB's real tweet counts and whose texts are review snippets
people rated (`stormwatch evaluate real-volume`): sparse real traffic loses nothing to
the event-time rules, and storms on real volume are caught once each, with no incident
elsewhere."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import orjson
import pytest

from stormwatch.alerts.event import AlertEvent
from stormwatch.evaluation.nab import REALTWEETS_DIR
from stormwatch.evaluation.real_volume import (
    BENIGN_KINDS,
    Snippets,
    build_stream,
    run_stream,
)
from stormwatch.evaluation.scenario import EVIDENCE_NEGATIVES
from stormwatch.ingest.decode import Decoder
from stormwatch.key_window import MINUTE
from stormwatch.model import Comment
from stormwatch.windows import WindowStore

DATA = REALTWEETS_DIR / "realTweets"


@functools.cache
def snippets() -> Snippets:
    return Snippets.load()


def comments(lines: list[bytes]) -> list[Comment]:
    decoder = Decoder()
    out = [decoder.decode(raw) for raw in lines]
    assert all(isinstance(c, Comment) for c in out)
    return out  # type: ignore[return-value]


def assert_each_storm_opens_once(brand: str, seed: int, storm: int) -> None:
    """A brand's stream to an hour after its `storm`-th storm (1-based): each of its
    storms so far opened one incident, and nothing else opened."""
    lines, labels, _, _ = build_stream(DATA / f"Twitter_volume_{brand}.csv", snippets(), seed=seed)
    until = labels[storm - 1].end + 3600
    lines = [raw for raw in lines if orjson.loads(raw)["created_at"] < until]
    figures = run_stream(lines, labels[:storm])
    assert [s["incidents"] for s in figures["storms"]] == [1] * storm
    assert figures["false_alarms"] == []


@pytest.mark.parametrize("brand", ["CVS", "PFE"])  # 104 and 250 comments a day
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_small_brands_real_traffic_in_time_order_loses_nothing(brand: str, seed: int) -> None:
    # Nights of several hours without a comment: each morning's first records are far
    # ahead of the stream and held until a run of them confirms the jump. Measured
    # before: CVS lost 19 records as timestamp_outlier and had 58 come late.
    lines, _, _, _ = build_stream(DATA / f"Twitter_volume_{brand}.csv", snippets(), seed=seed)
    store = WindowStore(lateness=120.0)
    added = 0

    def add(c: Comment) -> None:
        nonlocal added
        assert not store.add(c, False), f"{c.id} came late"
        added += 1
        for m in store.closable():
            for window in store.brands.values():
                window.close(m)

    stream = comments(lines)
    for c in stream:
        if store.admit(c):
            add(c)
        while store.released:
            add(store.released.popleft())
    store.end_of_input()
    while store.released:
        add(store.released.popleft())
    store.reject_held()
    letters = store.take_rejected()
    assert not letters, letters[0].detail
    assert added == len(stream)
    assert (
        store.next_minute is not None and store.next_minute * MINUTE > stream[-1].created_at - 600
    )


def test_a_storms_label_says_when_its_tenth_negative_came() -> None:
    lines, labels, _, _ = build_stream(
        DATA / "Twitter_volume_IBM.csv", snippets(), seed=1, max_days=26.0
    )
    rows = [orjson.loads(line) for line in lines]
    for k, label in enumerate(labels, start=1):
        negatives = sorted(r["created_at"] for r in rows if r["author_id"].startswith(f"s{k}-"))
        assert label.evidence_at is not None
        assert label.evidence_at == pytest.approx(negatives[EVIDENCE_NEGATIVES - 1], abs=1e-3)
        assert label.onset < label.evidence_at < label.end
    # Doubling every 5 minutes from 0.3x the mean negative rate, a storm at IBM
    # (1,264 a day) runs at ten times it before ten of its negatives are in; doubling
    # every hour, long after.
    fast, slow = labels[0], labels[4]
    assert (fast.doubling_minutes, slow.doubling_minutes) == (5.0, 60.0)
    assert fast.evidence_at is not None and fast.evidence_at > fast.breakout
    assert slow.evidence_at is not None and slow.evidence_at < slow.breakout - 3600


def test_storms_on_real_volume_are_caught_once_and_nothing_else_opens() -> None:
    # Brands of 104 and 1,264 comments a day, 26 days, five storms each. Measured at
    # 913a0c1+ and to 7ab4943: nine of the ten caught, one incident each, nothing else
    # opened; the miss was IBM's storm with 40-minute doublings, peaking at 20x the
    # brand's mean negative rate, which the guards took for a launch: it rose with the
    # morning's traffic, and the model flags about half of the strongly negative
    # snippets, so the brand's extra comments looked mostly not negative. Caught since
    # a post whose own excursion is a storm's is not held back by its brand's.
    caught = 0
    for brand in ("CVS", "IBM"):
        lines, labels, _, _ = build_stream(
            DATA / f"Twitter_volume_{brand}.csv", snippets(), seed=1, max_days=26.0
        )
        assert len(labels) == 5
        figures = run_stream(lines, labels)
        assert (figures["dead_lettered"], figures["late"]) == (0, 0)
        assert figures["false_alarms"] == [], brand
        assert all(s["incidents"] <= 1 for s in figures["storms"]), brand
        caught += sum(s["caught"] for s in figures["storms"])
    assert caught == 10


def test_storms_on_a_busy_day_of_real_traffic_are_caught() -> None:
    # CRM (965 comments a day) runs at two to three times its normal on many days. A
    # key's last hour, the busy morning in it, was under a third negative over normal
    # while the storm's own excursion was 36-44 %, and held back storm 1 of seed 5 for
    # the whole of it (before the hour was held to the first half hour of an
    # excursion; seed 2's storm 6 and seed 6's were held the same way).
    lines, labels, _, _ = build_stream(DATA / "Twitter_volume_CRM.csv", snippets(), seed=5)
    figures = run_stream(lines, labels)
    assert len(figures["storms"]) == 11
    missed = [s["name"] for s in figures["storms"] if not s["caught"]]
    assert not missed, missed
    assert all(s["incidents"] == 1 for s in figures["storms"])
    assert len(figures["false_alarms"]) <= 1  # seed 5: one, on 2015-03-13 at 05:48


def test_real_volume_without_storms_opens_nothing() -> None:
    # Real bursts, with a negative share that never changes: UPS (1,571 a day) has 209
    # comments in the five minutes at 2015-03-10T18:02 among its first 20 days.
    for brand in ("CRM", "UPS"):
        lines, labels, _, _ = build_stream(
            DATA / f"Twitter_volume_{brand}.csv", snippets(), seed=2, storms=False, max_days=20.0
        )
        figures = run_stream(lines, labels)
        assert figures["false_alarms"] == [], brand
        assert (figures["dead_lettered"], figures["late"]) == (0, 0)


def test_a_brand_alert_waits_only_for_a_post_a_guard_held_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # CVS (104 comments a day), its first six days: a storm with five-minute doublings,
    # most of it on one new post. Found on seed 1: the brand's tests alerted at 19:00
    # while that post carried most of the excess; the post's rate test alone was over
    # its threshold (its share test was not: a count-only detector would page, no guard
    # objected), and the brand waited for the post for 17 minutes. A brand waits only
    # for a post that a guard or a person's verdict held back. (Seed 1's brand now
    # alerts 27 minutes earlier, its last hour mostly negative, with no post in the
    # case; seed 6 has it: the brand alerted at 21:11 while its post, left alone for
    # its share test, carried most of the excess.)
    from stormwatch.alerts.decisions import IncidentDecisions
    from stormwatch.config import Settings
    from stormwatch.evaluation.scenario_run import replay

    lines, labels, _, _ = build_stream(
        DATA / "Twitter_volume_CVS.csv", snippets(), seed=6, max_days=6.0
    )
    (storm,) = labels
    first: list[tuple[int, bool, list[tuple[str, int, int]]]] = []
    decide = IncidentDecisions.decide_brand

    def spy(self, minute, verdict):  # type: ignore[no-untyped-def]
        if verdict.brand == storm.brand and verdict.assessment.alerting and not first:
            posts = [
                (s.thread_id, s.last_minute, s.held_minute)
                for s in self.suppressing.values()
                if s.brand == storm.brand and s.thread_id is not None
            ]
            first.append((minute, verdict.dominated, posts))
        return decide(self, minute, verdict)

    monkeypatch.setattr(IncidentDecisions, "decide_brand", spy)
    pipeline, _, _ = replay(lines, Settings())
    minute, dominated, posts = first[0]
    assert dominated, "the case: one post carried most of the brand's excess"
    # The post was left alone at that minute, only for its share test.
    assert any(last == minute and held < minute for _, last, held in posts), posts
    (incident,) = [i for i in pipeline.tracker.history if i.brand == storm.brand]
    assert incident.opened_minute == minute


@pytest.mark.parametrize(("brand", "seed", "storm"), [("FB", 19, 4), ("IBM", 20, 11)])
def test_a_posts_storm_inside_a_real_news_burst_is_not_taken_for_the_burst(
    brand: str, seed: int, storm: int
) -> None:
    # To an hour after the storm: a storm on one post while the brand's real traffic
    # surged, the brand's excursion about 30 % negative over normal (a launch's is like
    # that). FB (5,130 comments a day), seed 19, 40-minute doublings: the post's own
    # excursion held 103 negatives in 226 comments where 199 comments and 26 negatives
    # were expected. IBM (1,264 a day), seed 20, 5-minute doublings: 31 negatives in 67
    # comments where 21 and 3 were expected, both its tests over their thresholds, and
    # more talk that is not negative than its normal (the model reads half of the
    # storm's texts as not negative). Measured at 7ab4943: the brand's surge held each
    # post back as "not negative" to the end, and both storms were missed; IBM's also
    # at 6975acc, whose release asked for no more other talk than normal.
    assert_each_storm_opens_once(brand, seed, storm)


@pytest.mark.parametrize(("brand", "seed", "storm"), [("CVS", 19, 6), ("PFE", 17, 3)])
def test_a_storm_that_is_most_of_a_small_brands_talk_is_caught(
    brand: str, seed: int, storm: int
) -> None:
    # CVS (104 comments a day) and PFE (250), to an hour after the storm: the storm's
    # comments were most of the brand's talk, so the brand's comments surged, which
    # keeps the rate test from leading a share test half-way. The model reads about
    # half of these strongly negative snippets as negative, so the share test stopped
    # just short (CVS: 0.97 of its threshold) while the rate test stood over its own
    # for two hours. The key's last hour was about half negative over normal; a
    # launch's is a third (see the family's launch regressions). Measured at 7ab4943:
    # both storms missed.
    assert_each_storm_opens_once(brand, seed, storm)


def test_the_report_pools_the_lead_over_brands_of_500_a_day_or_more(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The aggregation alone: each file's run replaced by fixed figures. The brand of 104
    # a day stays out of the pooled median; its lead of -60 would pull it down.
    from rich.console import Console

    import stormwatch.evaluation.real_volume as real_volume

    def storm(lead: float | None, *, by_escalation: bool = False) -> dict[str, object]:
        return {"caught": lead is not None, "lead_minutes": lead, "incidents": 1,
                "evidence_lead_minutes": None, "after_evidence_minutes": None,
                "said_campaign": False, "by_escalation": by_escalation}  # fmt: skip

    runs = {
        "SMALL": (104.0, [storm(-60.0), storm(-50.0)]),
        "MID": (1_264.0, [storm(2.0), storm(None)]),
        "BIG": (16_000.0, [storm(20.0), storm(30.0, by_escalation=True)]),
    }

    longest = {"SMALL": None, "MID": 5.5, "BIG": 7.0}

    def fake_run(csv_path, seed, storms, benign, campaigns, settings, snippets):  # noqa: ANN001, ANN202
        brand = csv_path.stem.removeprefix("Twitter_volume_")
        per_day, brand_storms = runs[brand]
        look_alikes = [{"name": f"{brand}-bot3", "kind": "bot_burst", "incidents": 0},
                       {"name": f"{brand}-angry4", "kind": "angry_customer",
                        "incidents": int(brand == "MID")}]  # fmt: skip
        campaign = {**storm(5.0 if brand == "MID" else None), "said_campaign": brand == "MID"}
        return {"brand": brand, "per_day": per_day, "days": 55.0, "storms": brand_storms,
                "campaigns": [campaign], "benign": look_alikes, "false_alarms": [],
                "dead_lettered": 0, "late": 0,
                "longest_incident_hours": longest[brand]}  # fmt: skip

    monkeypatch.setattr(real_volume, "_run_file", fake_run)
    (tmp_path / "realTweets").mkdir()
    for brand in runs:
        (tmp_path / "realTweets" / f"Twitter_volume_{brand}.csv").write_text("")
    figures = real_volume.evaluate_real_volume(tmp_path, console=Console(file=None, quiet=True))
    assert figures["lead_median_from_500"] == 20.0  # of 2, 20 and 30
    assert figures["by_band"]["<500"]["lead_median"] == -55.0
    # The look-alikes: one opened, at the brand of 1,264 a day.
    assert figures["benign_by_kind"]["angry_customer"] == {"events": 3, "opened": 1}
    assert figures["benign_by_kind"]["bot_burst"] == {"events": 3, "opened": 0}
    assert figures["by_band"]["500-5,000"]["benign_opened"] == 1
    assert figures["by_band"][">5,000"]["benign"] == 2
    # Campaigns apart from the storms: one caught, at 1,264 a day, and it said so.
    mid = figures["by_band"]["500-5,000"]
    assert (mid["campaigns"], mid["campaigns_caught"], mid["campaigns_said_campaign"]) == (1, 1, 1)
    assert mid["campaign_lead_median"] == 5.0 and mid["storms"] == 2
    assert figures["by_band"][">5,000"]["campaigns_caught"] == 0
    assert figures["by_band"]["<500"]["longest_incident_hours"] is None
    assert figures["by_band"][">5,000"]["longest_incident_hours"] == 7.0
    assert figures["by_band"][">5,000"]["caught_by_escalation"] == 1


def ibm_with(**extra: bool) -> tuple[list[bytes], list[bytes], list[Any], list[Any]]:
    """IBM's stream of seed 3 without and with `extra` events (`benign`, `campaigns`):
    both streams' lines, all labels with them, and the extra ones, after checking that
    the storms' labels come first and are those without them."""
    path = DATA / "Twitter_volume_IBM.csv"
    plain, storms, _, _ = build_stream(path, snippets(), seed=3)
    lines, labels, _, _ = build_stream(path, snippets(), seed=3, **extra)
    assert labels[: len(storms)] == storms
    return plain, lines, labels, labels[len(storms) :]


def test_look_alikes_come_between_the_storms_and_leave_them_as_they_were() -> None:
    plain, lines, labels, look_alikes = ibm_with(benign=True)
    kinds = [label.kind for label in look_alikes]
    # Every five days from day 5.5 of 55: ten, the four kinds in turn.
    assert len(look_alikes) == 10
    assert all(kinds[i] != kinds[i + 1] for i in range(9))
    assert set(kinds) == set(BENIGN_KINDS)
    assert not any(label.must_alert for label in look_alikes)
    windows = sorted((label.onset, label.end) for label in labels)
    assert all(end < onset for (_, end), (onset, _) in zip(windows, windows[1:], strict=False))
    rows = [orjson.loads(line) for line in lines]
    assert len({r["id"] for r in rows}) == len(rows)

    # The storms' comments are the same with and without the look-alikes.
    def storm_rows(raw: list[bytes]) -> list[tuple[float, str, str]]:
        out = []
        for line in raw:
            r = orjson.loads(line)
            if r["author_id"][0] in "sd" and "-" in r["author_id"]:
                out.append((r["created_at"], r["text"], r["author_id"]))
        return out

    assert storm_rows(lines) == storm_rows(plain)
    for label in look_alikes:
        mine = [r for r in rows if label.onset <= r["created_at"] <= label.end and
                r["author_id"].startswith(label.kind[0] if label.kind != "product_launch"
                                          else "l")]  # fmt: skip
        accounts = {r["author_id"] for r in mine}
        if label.kind == "bot_burst":
            assert 100 <= len(mine) <= 400 and 2 <= len(accounts) <= 6
        elif label.kind == "angry_customer":
            assert 12 <= len(mine) <= 35 and len(accounts) == 1
        else:  # a crowd of new accounts
            assert len(accounts) > 50, label


def test_look_alikes_in_rated_texts_open_nothing() -> None:
    # Brands of 104 and 1,264 comments a day, 26 days: five storms and four look-alikes
    # each (praise on one post, a launch, a bot burst, an angry customer). Measured
    # when they were made, on seed 25, all ten brands of 55 days: none of the 100
    # opened (`stormwatch evaluate real-volume --seed 25`).
    for brand in ("CVS", "IBM"):
        lines, labels, _, _ = build_stream(
            DATA / f"Twitter_volume_{brand}.csv", snippets(), seed=4, max_days=26.0, benign=True
        )
        figures = run_stream(lines, labels)
        assert len(figures["benign"]) == 4, brand
        assert [b["incidents"] for b in figures["benign"]] == [0] * 4, figures["benign"]
        assert all(s["caught"] for s in figures["storms"]), brand
        assert figures["false_alarms"] == [], brand


def test_campaigns_are_copies_of_three_messages_from_many_accounts() -> None:
    _, lines, labels, campaigns = ibm_with(campaigns=True)
    # The day before each storm's, from day 7 of 55: ten, over before the storms' days.
    assert len(campaigns) == 10 and {c.kind for c in campaigns} == {"campaign"}
    assert all(c.must_alert and c.breakout is not None for c in campaigns)
    windows = sorted((label.onset, label.end) for label in labels)
    assert all(end < onset for (_, end), (onset, _) in zip(windows, windows[1:], strict=False))
    rows = [orjson.loads(line) for line in lines]
    rated = snippets().strong
    strong = [frozenset(s.lower().split()) for s in rated]  # in a fixed order: ties alike
    for c in campaigns:
        k = c.name.rsplit("campaign", 1)[1]
        copies = [r for r in rows if r["author_id"].startswith(f"c{k}-")]
        accounts = {r["author_id"] for r in copies}
        assert len(copies) / len(accounts) < 2.0  # one or two comments each
        assert len(accounts) >= 50

        # Each copy is nearest (by shared words) to one of three rated snippets, and
        # few are the snippet itself.
        def nearest(text: str) -> str:
            words = set(text.lower().split())
            return max(strong, key=lambda s: len(words & s) / len(words | s))

        assert len({nearest(r["text"]) for r in copies[:60]}) <= 3
        assert sum(r["text"] in rated for r in copies) < 0.5 * len(copies)


def first_26_days(brand: str, *, seed: int) -> dict[str, Any]:
    """`run_stream`'s figures for a brand's first 26 days with campaigns and
    look-alikes: five storms, four campaigns, four look-alikes."""
    lines, labels, _, _ = build_stream(
        DATA / f"Twitter_volume_{brand}.csv", snippets(), seed=seed, max_days=26.0,
        benign=True, campaigns=True,
    )  # fmt: skip
    return run_stream(lines, labels)


def test_a_campaign_the_model_reads_as_negative_is_caught_and_said_so() -> None:
    # IBM (1,264 a day), 26 days: four campaigns, their copies read 41-90 % negative by
    # the model. Measured when they were made: each caught, one incident each, each
    # alert saying "campaign"; the five storms caught and the four look-alikes quiet.
    figures = first_26_days("IBM", seed=6)
    assert len(figures["campaigns"]) == 4
    assert all(c["caught"] and c["said_campaign"] for c in figures["campaigns"])
    assert all(c["incidents"] == 1 for c in figures["campaigns"])
    assert all(s["caught"] and not s["said_campaign"] for s in figures["storms"])
    assert [b["incidents"] for b in figures["benign"]] == [0] * 4


def test_a_campaign_half_read_as_negative_at_a_small_brand_is_caught() -> None:
    # CVS (104 comments a day), seed 4, the first of its campaigns: 69 copies of three
    # messages from new accounts, 31 read as negative (the model reads all copies of a
    # message alike), the brand's comments surging with them. Its rate test stood over
    # its threshold for an hour and its share test at 0.71 of its own, but the
    # excursion was 40 % negative, under the half that lets the rate test lead a
    # crowd's storm. Measured at a3d22ab: never opened. Copies of a few messages from
    # many accounts may lead.
    figures = first_26_days("CVS", seed=4)
    first = figures["campaigns"][0]
    assert first["name"] == "CVS-campaign10"
    assert first["caught"] and first["said_campaign"] and first["incidents"] == 1
    assert all(s["caught"] for s in figures["storms"])
    assert [b["incidents"] for b in figures["benign"]] == [0] * 4
    assert figures["false_alarms"] == []


@functools.cache
def pfe_seed_31() -> tuple[list[bytes], list[Any]]:
    """PFE's whole stream of seed 31 with campaigns and look-alikes (two tests replay
    it), and its labels."""
    lines, labels, _, _ = build_stream(
        DATA / "Twitter_volume_PFE.csv", snippets(), seed=31, benign=True, campaigns=True
    )
    return lines, labels


def test_a_posts_incident_reopened_by_its_brand_resolves_when_the_brand_calms(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # PFE (250 comments a day), seed 31: a campaign's incident on one of the brand's
    # posts resolved, and 12 hours later the next storm's brand-wide alert reopened it.
    # Reopened on the post's key, calm and idle by then (its window gone with the idle
    # keys), nothing judged it again: it stayed open for the remaining six weeks, and
    # every later storm was an update of it, caught by no opening of its own (measured
    # at a3d22ab: 9 of the brand's 11 storms missed). It reopens on the brand's key.
    # The case needs the readings it was found with: since complaint reports are read
    # (`detectors/complaints.py`) nothing reopens here, nor in PFE seeds 1-24 or CRM
    # seeds 1-16 (to a day after the third storm; of CVS seeds 1-30, six reopen a brand's
    # incident, none a post's); nor since derision in set phrases is read (`reproach`).
    # What is tested, the tracker's reopening, reads no text.
    import stormwatch.detectors.negativity as negativity
    from stormwatch.config import Settings
    from stormwatch.evaluation.scenario_run import replay

    monkeypatch.setattr(negativity, "reports_failure", lambda tokens, lang: False)
    monkeypatch.setattr(negativity, "derides", lambda tokens: False)

    lines, labels = pfe_seed_31()
    # To a day after the third storm: the two after the reopening.
    until = labels[2].end + 86400
    lines = [raw for raw in lines if orjson.loads(raw)["created_at"] < until]
    pipeline, _, _ = replay(lines, Settings())
    reopened = [i for i in pipeline.tracker.history if i.reopened]
    assert reopened, "the case: a post's incident reopened by its brand's alert"
    assert reopened[0].thread_id is not None
    assert not pipeline.tracker.open
    figures = run_stream(lines, labels[:3])
    assert [s["caught"] for s in figures["storms"]] == [True] * 3
    assert figures["longest_incident_hours"] < 24.0


def test_a_campaign_after_a_day_of_other_evidence_is_judged_on_its_own_burst() -> None:
    # PFE (250 comments a day), seed 31, campaign 28: 79 copies read 37 % negative, its
    # rate test over its threshold for 90 minutes. The brand's share test had not been
    # back at zero for 29 hours (its slow design falls by a few hundredths a comment),
    # so its excursion held an angry customer's 35 comments 16 hours before (43 % of
    # the negatives of the last day: "single_account") and a day of everyday talk that
    # diluted the copies under "duplicated". Measured at b96526e: never opened. The
    # last half hour on its own is a campaign.
    figures = run_stream(*pfe_seed_31())
    by_name = {c["name"]: c for c in figures["campaigns"]}
    campaign = by_name["PFE-campaign28"]
    assert campaign["caught"] and campaign["said_campaign"] and campaign["incidents"] == 1
    assert all(s["caught"] and s["incidents"] == 1 for s in figures["storms"])
    assert all(b["incidents"] == 0 for b in figures["benign"])


def _campaign_then_storm(brand: str, seed: int, campaign_name: str, storm_name: str) -> AlertEvent:
    """Replays `brand`'s stream of `seed` until an hour after `storm_name`, a storm the
    day after `campaign_name`, and checks that each opened an incident of its own and
    the campaign's resolved before the storm began: the campaign's "opened" event."""
    from stormwatch.alerts.sinks import MemoryAlertSink
    from stormwatch.config import Settings
    from stormwatch.evaluation.scenario_run import replay

    lines, labels, _, _ = build_stream(
        DATA / f"Twitter_volume_{brand}.csv", snippets(), seed=seed, benign=True,
        campaigns=True,
    )  # fmt: skip
    by_name = {label.name: label for label in labels}
    campaign, storm = by_name[campaign_name], by_name[storm_name]
    assert campaign.end < storm.onset < campaign.end + 86400, "the case: a storm the next day"
    until = storm.end + 3600
    sink = MemoryAlertSink()
    replay([raw for raw in lines if orjson.loads(raw)["created_at"] < until], Settings(),
           sinks=[sink])  # fmt: skip
    opened = [e for e in sink.events if e.event == "opened" and e.at >= campaign.onset]
    assert [e.at < campaign.end for e in opened] == [True, False]  # the campaign's, the storm's
    first, second = opened
    assert storm.onset - 900 <= second.at <= storm.end
    resolved = [e for e in sink.events if e.incident == first.incident and e.event == "resolved"]
    assert resolved and resolved[0].at < storm.onset
    return first


def test_a_busy_day_after_a_campaign_lets_its_incident_resolve_before_the_next_storm() -> None:
    # CRM (965 comments a day), seed 42: after campaign 26 the brand's real mentions ran
    # 3-5x their normal for a day, its negatives with them, no more negative than usual
    # (the share test at zero, "not_negative"). Its incident waited for the negative
    # rate to come under twice the normal and stayed open 36 hours: the next morning's
    # storm only escalated it (measured at 132399b). The tests had let go of it: it
    # resolves that afternoon, and the storm opens one of its own.
    _campaign_then_storm("CRM", 42, "CRM-campaign26", "CRM-storm6")


@pytest.mark.slow
def test_a_busy_day_at_its_brand_lets_a_posts_incident_resolve_before_the_next_storm() -> None:
    # IBM (1,264 comments a day), seed 47: campaign 31's incident opened on one post.
    # The campaign over, the brand's negatives ran at twice their normal or more with
    # its comments, and a post's incident was held open while they did: it stayed
    # open 21 hours, and the next morning's storm only escalated it (measured at
    # db81ef6). The brand's busy minutes hold it no longer (`IncidentDecisions.hold_open`):
    # it resolves that afternoon, and the storm opens one of its own.
    campaign = _campaign_then_storm("IBM", 47, "IBM-campaign31", "IBM-storm11")
    assert campaign.thread_id is not None  # on one post


def test_a_brands_quiet_minutes_count_in_its_normal_when_its_rate_test_leads() -> None:
    # PFE (250 comments a day), seed 50, storm 2 (10-minute doublings): the brand's
    # rate test over its threshold 90 minutes in, its share test half-way, and its
    # excursion 25 comments, 14 negative, against a normal of 9.6 and 1.6 over all its
    # minutes. Counted over the minutes with comments alone, as a post's is, each of
    # them expects about a comment of normal talk given that it held one, the storm's
    # minutes too, and the lead came 12 minutes later (-43.0 -> -54.8, measured while
    # trying it). A brand's normal is its own: its quiet minutes count. Since complaint
    # reports are read, the brand's usual share is a little higher and storm 2's share
    # test reached half-way only later (-54.8 with its quiet minutes counted or not);
    # storm 3 is such a case now: -43.2 counted, -55.5 not (measured 2026-12-06 with
    # the brand's excursion read as a post's; storm 4 the other way, -30.7 and -23.8).
    lines, labels, _, _ = build_stream(
        DATA / "Twitter_volume_PFE.csv", snippets(), seed=50, benign=True, campaigns=True
    )
    storm = next(label for label in labels if label.name == "PFE-storm3")
    until = storm.end + 3600
    figures = run_stream(
        [raw for raw in lines if orjson.loads(raw)["created_at"] < until],
        [label for label in labels if label.onset < until],
    )
    (third,) = [s for s in figures["storms"] if s["name"] == "PFE-storm3"]
    assert third["caught"] and third["incidents"] == 1
    assert third["lead_minutes"] > -48.0


def test_labelled_texts_stand_in_for_the_snippets(tmp_path: Path) -> None:
    # `evaluate real-volume --texts`: a user's own labelled comments (or a rated set)
    # as the streams' texts. Storms draw from the negative ones, praise from the
    # positive ones, everyday talk from all.
    negatives = [f"still waiting for order {n}, nobody answers" for n in range(40)]
    positives = [f"love the new menu {n}" for n in range(20)]
    neutrals = [f"what time do you open on day {n}?" for n in range(40)]
    rows = [{"text": t, "label": "negative"} for t in negatives]
    rows += [{"text": t, "label": "positive"} for t in positives]
    rows += [{"text": t, "label": "neutral"} for t in neutrals]
    path = tmp_path / "labelled.jsonl"
    path.write_bytes(b"\n".join(orjson.dumps(r) for r in rows) + b"\n\n")
    texts = Snippets.from_labelled(path)
    assert set(texts.negative) == set(texts.strong) == set(negatives)
    assert set(texts.positive) == set(positives)
    assert set(texts.other) == set(positives) | set(neutrals)

    lines, labels, _, _ = build_stream(
        DATA / "Twitter_volume_IBM.csv", texts, seed=1, max_days=12.0, benign=True
    )
    comments = [orjson.loads(line) for line in lines]
    given = set(negatives) | set(positives) | set(neutrals)
    # All but the copies that campaigns and bots rewrite (`scenario.variation.rewrite`).
    assert sum(c["text"] in given for c in comments) > 0.9 * len(comments)
    storm = [c for c in comments if c["author_id"].startswith("s1-")]
    assert storm and {c["text"] for c in storm} <= set(negatives)
    assert any(label.kind == "storm" for label in labels)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"text": "fine", "label": "neutral"}\n', "needs texts labelled negative and positive"),
        (b'{"text": "bad", "label": "negative"}\nnot json\n', "line 2: expected JSON"),
        (b'{"label": "negative"}\n', "line 1: expected JSON with 'text' and 'label'"),
    ],
)
def test_unusable_labelled_texts_are_named(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "labelled.jsonl"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=message):
        Snippets.from_labelled(path)


def test_a_new_posts_storm_leads_with_its_share_test_a_quarter_of_the_way() -> None:
    # KO (3,282 comments a day), seed 52 as `evaluate real-volume` builds it, to an hour
    # after its third storm (20-minute doublings): the storm's new post had its share
    # test over its threshold from 7 minutes before the breakout, and its rate test,
    # against the brand's busiest post's normal, a quarter of the way 9 minutes after
    # it and half-way 17 minutes after. Measured at 9a99677, which asked for half-way:
    # the storm opened 18.5 minutes after its breakout; with a quarter, 11.6.
    lines, labels, _, _ = build_stream(
        DATA / "Twitter_volume_KO.csv", snippets(), seed=52, benign=True, campaigns=True
    )
    storm = next(label for label in labels if label.name == "KO-storm3")
    until = storm.end + 3600
    lines = [raw for raw in lines if orjson.loads(raw)["created_at"] < until]
    figures = run_stream(lines, [label for label in labels if label.onset < until])
    (outcome,) = [s for s in figures["storms"] if s["name"] == "KO-storm3"]
    assert outcome["incidents"] == 1, outcome
    assert outcome["lead_minutes"] > -15.0, outcome
    assert figures["false_alarms"] == []
