"""Family scenarios where a storm once opened a second incident, or a bot burst one.

Each replays one generated stream of the evaluation family (`build_family`) through
the pipeline and checks its labels; the comments say what went wrong before.
"""

from __future__ import annotations

from dataclasses import replace

from stormwatch.alerts.incidents import RETURN_MINUTES
from stormwatch.alerts.sinks import MemoryAlertSink
from stormwatch.evaluation.family import build_family
from stormwatch.evaluation.scenario import generate
from stormwatch.pipeline import Pipeline
from tests.seeded_runs import replay, result_of, run_spec


def test_a_storm_does_not_reopen_on_another_key_when_its_incident_resolves() -> None:
    """A campaign's brand-wide incident resolved and, the next minute, one of its
    threads (whose evidence was the same storm's) opened a second incident."""
    result = run_spec(build_family(107)[6])
    campaign = result.label("b06-campaign")
    assert campaign.incidents == 1, result
    assert not result.unexplained


def test_the_first_seconds_of_a_bot_burst_do_not_fire_early() -> None:
    """Deciding a minute early counted the first seconds of a bot burst (four accounts,
    one or two comments each so far: crowd-like) on a quiet thread, and opened it."""
    result = run_spec(build_family(5)[5])
    assert result.label("b08-bot").incidents == 0, result
    assert not result.unexplained


def test_a_bot_burst_after_hours_of_ordinary_negatives_is_judged_on_its_own() -> None:
    """A bot burst of five accounts at a brand of 168 a day came 139 minutes after the
    brand's share test had started rising on four ordinary negatives from four people:
    over the whole excursion, 16 negatives from 9 accounts looked like a crowd, and an
    early look opened a firestorm. Its own last half hour says bot burst."""
    result = run_spec(build_family(1110)[0])
    assert result.label("b04-bot").incidents == 0, result
    assert not result.unexplained


def test_a_cluster_of_complaints_in_a_launch_does_not_open_it() -> None:
    """A launch at a brand of 194 a day: 35 minutes in, 10 of 16 comments within three
    minutes were complaints, after its share test had been back at zero; its last hour
    was 29 % negative over normal, a launch's."""
    result = run_spec(build_family(1101)[4])
    assert result.label("b04-product").incidents == 0, result
    assert not result.unexplained


def test_a_launchs_first_complaints_while_its_brand_surges_do_not_lead() -> None:
    """A launch at a brand of 1,517 a day: 23 minutes in, the brand's last hour held 45
    comments over normal, 20 of them negative (44 %), while its comments surged, and its
    rate test over the threshold led a share test half-way. A lead while comments surge
    asks for half of them: at 40 % (a real storm of review snippets reads about 46 %)
    this opened a firestorm (fresh seed 3656)."""
    result = run_spec(build_family(3656)[4])
    assert result.label("b11-product").incidents == 0, result
    assert not result.unexplained


def test_a_cluster_of_complaints_on_a_launch_post_does_not_open_it() -> None:
    """A launch post at a brand of 489 a day: an hour in, 21 of 57 comments in twenty
    minutes were complaints (20 of 114 before them), and the post's share test had
    been back at zero before the cluster, so its excursion was the cluster's: a
    firestorm opened on the post. Its last hour was a launch's."""
    result = run_spec(build_family(1303)[2])
    assert result.label("b07-product").incidents == 0, result
    assert not result.unexplained


def test_a_bot_burst_beside_a_few_passers_by_is_left_alone() -> None:
    """Six accounts pasting a reworded accusation on one post of a brand of 9,139 a
    day: at the close of its first minute the post's last half hour held 24 negatives
    from ten accounts, the six bots and four passers-by, so the accounts were not
    fewer than ten, three of them wrote no more than half, and a firestorm opened.
    Five accounts that wrote 18 of the 24 are a few writing several."""
    result = run_spec(build_family(1509)[1])
    assert result.label("b16-bot").incidents == 0, result
    assert not result.unexplained


def test_a_bot_burst_over_three_posts_is_not_taken_for_a_campaign() -> None:
    """Six accounts pasting a reworded boycott call on three posts of a brand of 4,522
    a day (fresh seed 2108): two minutes in, one post's last half hour held 21
    negatives from eleven accounts, five of them passers-by, at 1.9 comments per
    account, so the copy-paste read as a campaign and a firestorm opened. Three bots
    writing more than two each had written 48 % of it."""
    result = run_spec(build_family(2108)[3])
    assert result.label("b14-bot").incidents == 0, result
    assert result.label("b02-slow-storm").incidents == 1, result
    assert not result.unexplained


def test_a_campaign_is_not_held_back_by_its_rate_over_a_quarter_of_an_hour() -> None:
    """A campaign at a brand of 3,475 a day: both tests over their thresholds and the
    negatives at 4.9x the brand's normal over five minutes, held back four minutes as
    `small_rise` because over a quarter of an hour (which lags a growing storm) they
    were under 3x."""
    result = run_spec(build_family(5)[6])
    campaign = result.label("b13-campaign")
    assert campaign.incidents == 1 and campaign.campaign, result
    assert campaign.lead_seconds is not None and campaign.lead_seconds > -3 * 60, result
    assert result.label("b17-viral").incidents == 0, result
    assert not result.unexplained


def test_a_campaign_at_a_large_brand_is_not_held_back_at_twice_its_normal() -> None:
    """A campaign at a brand of 13,815 a day (2.5 negatives a minute normal): both
    tests over their thresholds from 14 minutes before its breakout, its negatives
    2-3x the brand's normal, dozens of people over normal in five minutes; held back
    six minutes as `small_rise` while under 3x, it opened 5.7 minutes before its
    breakout. Twice is enough where it is a crowd."""
    result = run_spec(build_family(6)[2])
    campaign = result.label("b17-campaign")
    assert campaign.incidents == 1 and campaign.campaign, result
    assert campaign.lead_seconds is not None and campaign.lead_seconds > 10 * 60, result
    assert all(r.incidents == 0 for r in result.labels if not r.must_alert), result
    assert not result.unexplained


def test_a_post_storm_at_a_very_large_brand_need_not_carry_its_brands_whole_normal() -> None:
    """A fast storm on a post of a brand of 37,621 a day (5.9 negatives a minute
    normal, its busiest post's 0.73): the post's tests over their thresholds for eight
    minutes, held back as `small_rise` until it carried the brand's whole normal, and
    it opened 6.3 minutes before its breakout. Ten negatives over the post's own normal
    in five minutes are a crowd. (That brand's comments alone: the stream's others take
    as long again to replay.)"""
    scenario = generate(build_family(4)[0])
    scenario = replace(
        scenario,
        comments=[c for c in scenario.comments if c["brand"] == "b20"],
        labels=[label for label in scenario.labels if label.brand == "b20"],
    )
    result = result_of(replay(scenario.comments), scenario)
    storm = result.label("b20-fast-storm")
    assert storm.incidents == 1, result
    assert storm.lead_seconds is not None and storm.lead_seconds > 10 * 60, result
    assert all(r.incidents == 0 for r in result.labels if not r.must_alert), result
    assert not result.unexplained


def test_a_gust_in_a_storms_tail_does_not_open_a_second_incident() -> None:
    """A post's storm at a brand of 5,309 a day resolved five hours in; eleven minutes
    later a gust of its tail put the brand's negatives at 4x normal over five minutes,
    and with five minutes enough for a brand-wide storm a spreading incident opened.
    Within two hours of a storm the brand needs 3x over a quarter of an hour."""
    result = run_spec(build_family(2210)[5])
    assert result.label("b14-fast-storm").incidents == 1, result
    assert not result.unexplained


def test_a_spreading_storm_opens_once_its_rate_leads() -> None:
    """A storm over eight posts of a brand of 1,633 a day: the brand's rate test was
    over its threshold from 73 minutes in, its share test at 0.55-0.84 of its own for
    five minutes after (the storm's posts draw defenders too), and the brand waited for
    both: 9.2 minutes after breakout. Its comments over normal were mostly negative, so
    the rate test leads."""
    result = run_spec(build_family(4)[5])
    storm = result.label("b11-spreading")
    assert storm.incidents == 1, result
    assert storm.lead_seconds is not None and storm.lead_seconds > -6 * 60, result
    assert result.label("b17-bot").incidents == 0, result
    assert not result.unexplained


def test_a_slow_storm_opens_once_its_share_leads() -> None:
    """A slow storm on a post of a brand of 1,107 a day: the post's share test over its
    threshold from 13 minutes before the breakout, its rate test at half of its own,
    and the post waited for both until 3.7 minutes after the breakout. Its comments
    over normal were mostly negative, so the share test leads the rate test part of the
    way there (half-way when this was written, a quarter now), as the rate test leads
    the share test (fresh seed 3154, then run once)."""
    result = run_spec(build_family(3154)[4])
    storm = result.label("b10-slow-storm")
    assert storm.incidents == 1, result
    assert storm.lead_seconds is not None and storm.lead_seconds > 5 * 60, result
    assert not result.unexplained, result


def test_a_storm_on_a_quiet_post_leads_with_its_share_test() -> None:
    """A storm on a post of a brand of 2,175 a day that had drawn a complaint now and
    then for hours: the post's share test over its threshold from 9 minutes before the
    breakout, its rate test half-way, and its excursion 14 negatives of 38 comments.
    Each quiet minute of that excursion had counted its brand's busiest post's normal,
    15.5 negatives in all, so it was not "ten negatives over normal" and the post waited
    for both tests: 1.7 minutes before the breakout. Against the minutes with comments
    alone it is (tuning seed 3)."""
    result = run_spec(build_family(3)[3])
    storm = result.label("b12-fast-storm")
    assert storm.incidents == 1, result
    assert storm.lead_seconds is not None and storm.lead_seconds > 4 * 60, result
    assert not result.unexplained, result


def test_a_launch_whose_first_complaints_follow_a_quiet_excursion_stays_quiet() -> None:
    """A launch at a brand of 94 a day, 28 minutes in: the brand's rate test over its
    threshold, its share test at 0.55, and the share test's excursion eight hours long,
    so the launch's first complaints made it 75 % negative over normal. The rate test
    led and a spreading storm opened; the last hour was 34 % negative over normal, a
    launch's."""
    result = run_spec(build_family(2004)[4])
    assert result.label("b02-product").incidents == 0, result
    assert result.label("b04-fast-storm").incidents == 1, result
    assert not result.unexplained


def test_a_launchs_rate_evidence_does_not_lead_its_tail() -> None:
    """A launch at a brand of 184 a day, 7.5 hours long: its comments a little more
    negative than the brand's usual, so its share test never fell back to zero and the
    rate test's evidence, built while the brand's comments surged, was never spent. 31
    minutes after the launch the rate test still stood at its threshold, the share test
    half-way, and a gust of the next negatives let the rate test lead a firestorm (fresh
    seed 3193). Evidence the rate test holds while the brand's comments surge, its
    extra comments mostly not negative, is spent as more talk, as while the share test
    stands at zero."""
    result = run_spec(build_family(3193)[3])
    assert result.label("b04-product").incidents == 0, result
    assert not result.unexplained, result


def test_a_launchs_old_rate_evidence_does_not_lead_a_later_cluster() -> None:
    """A launch at a brand of 2,500 a day brought eight times the talk at about the
    usual share: the brand's slow rate design rose over its threshold and, at 1.5x
    falling by half the expected negatives a minute, stayed there for eleven hours, the
    share test at zero. Four hours after the launch ended, a cluster of complaints took
    the share test half-way, and the rate test, its evidence mostly the launch's, led
    it to a firestorm. Over its threshold while the share test stood at zero, the
    rate test's evidence was spent: it leads only on what it gains anew."""
    result = run_spec(build_family(3052)[0])
    assert result.label("b12-product").incidents == 0, result
    assert result.label("b10-spreading").incidents == 1, result
    assert not result.unexplained, result


def test_a_brand_alert_carried_by_one_thread_opens_without_waiting_for_it() -> None:
    """A campaign over a few posts: the brand's tests alerted for eight minutes while
    its busiest post carried most of the excess, and the brand waited for that post's
    own tests, which were not over their thresholds yet. The brand's alert opens the
    incident now, a firestorm in kind while that post carries it."""
    import orjson

    from stormwatch.alerts.decisions import IncidentDecisions
    from stormwatch.config import Settings
    from stormwatch.detectors.enrich import Enricher
    from stormwatch.evaluation.scenario import generate
    from stormwatch.pipeline import Pipeline
    from stormwatch.runtime import negativity_scorer

    scenario = generate(build_family(1)[1])
    (label,) = [lab for lab in scenario.labels if lab.name == "b10-campaign"]
    settings = Settings()
    pipeline = Pipeline(settings, enricher=Enricher(negativity_scorer(settings)))
    alerting: list[tuple[int, bool]] = []  # (minute, dominated) of the brand's alerts
    decisions = pipeline.decisions
    decide_brand, open_early = decisions.decide_brand, decisions.open_early

    def note(minute: int, verdicts: list) -> None:  # type: ignore[type-arg]
        for v in verdicts:
            if v.brand == label.brand and v.assessment.alerting and not alerting:
                alerting.append((minute, v.dominated))

    def spy_close(minute, verdict):  # type: ignore[no-untyped-def]
        note(minute, [verdict])
        return decide_brand(minute, verdict)

    def spy_early(minute, threads, brands, *rest):  # type: ignore[no-untyped-def]
        note(minute, brands)
        return open_early(minute, threads, brands, *rest)

    decisions.decide_brand = spy_close  # type: ignore[method-assign]
    decisions.open_early = spy_early  # type: ignore[method-assign]
    for comment in scenario.comments:
        pipeline.feed(orjson.dumps(comment))
    pipeline.finish()
    assert isinstance(decisions, IncidentDecisions)
    (incident,) = [i for i in pipeline.tracker.history if i.brand == label.brand]
    first_minute, dominated = alerting[0]
    assert dominated, "the case: one thread carried most of the brand's excess"
    assert incident.thread_id is None and incident.opened_minute == first_minute


def test_a_posts_storm_does_not_turn_brand_wide_in_its_tail() -> None:
    """Two posts' storms at brands of 1,178 and 1,653 a day (seed 10): hours later,
    with the brands' tests still up and their normal at night one negative an hour,
    one negative (b10) and three on three other posts (b11) passed for a brand-wide
    surge, and each post's incident escalated as spread; b03 of seed 2 (147 a day)
    had its brand-wide firestorm relabelled at its resolution, with no negatives left."""
    for seed, index, brands in ((10, 5, ("b10", "b11")), (2, 2, ("b03",))):
        scenario = generate(build_family(seed)[index])
        sink = MemoryAlertSink()
        replay(scenario.comments, pipeline=Pipeline(sinks=[sink]))
        for brand in brands:
            events = [(e.event, e.kind) for e in sink.events if e.brand == brand]
            assert events and {kind for _, kind in events} == {"firestorm"}, (brand, events)


def test_a_slow_storm_that_alerts_under_twice_its_brands_normal_stays_one_incident() -> None:
    """A slow storm on a post of a brand of 6,433 a day, in the brand's first hour
    (seed 6): its rate ran under twice the brand's normal while its tests alerted, so
    its incident counted those minutes as calm, resolved half an hour in, mid-storm,
    and the storm opened a second one."""
    result = run_spec(build_family(6)[3])
    assert result.label("b15-slow-storm").incidents == 1, result
    assert not result.unexplained


def test_a_small_brands_alert_reports_the_span_its_negatives_came_in() -> None:
    """A slow swell at a brand of 60 a day (seed 2603) opened `critical` on a summary of
    "0.0/min, 58x the normal 0.00/min; 0% of comments are negative, from 1 accounts":
    one negative in its last five minutes against a night-time normal of a few a day,
    while its tests had gathered their evidence over hours. Severity and summary now
    stand on the shortest span back holding five negatives."""
    scenario = generate(build_family(2603)[4])
    sink = MemoryAlertSink()
    replay(scenario.comments, pipeline=Pipeline(sinks=[sink]))
    (opened,) = [e for e in sink.events if e.brand == "b01" and e.event == "opened"]
    assert opened.severity != "critical", opened.summary
    assert opened.drivers["rate_span_minutes"] >= 30
    assert opened.drivers["negative_comments_in_span"] >= 5
    assert f"{opened.drivers['negative_comments_in_span']} in the last" in opened.summary
    assert "0.0/min" not in opened.summary and " 0% of" not in opened.summary
    # Every opening of the stream: its severity is what its card's ratio reads, and a
    # summary of the last minutes (no span) names a crowd, counted where its decision
    # counted (minutes still open included).
    from stormwatch.detectors.crisis import severity_for

    for event in (e for e in sink.events if e.event == "opened"):
        ratio = event.drivers["ratio_to_baseline"]
        assert event.severity in {severity_for(ratio - 0.05), severity_for(ratio + 0.05)}
        if "rate_span_minutes" not in event.drivers:
            assert event.drivers["distinct_accounts_30min"] >= 5, event.summary


def test_a_swell_back_after_hours_of_calm_reopens_its_incident() -> None:
    """A slow swell at a brand of 570 a day: its brand-wide incident opened on a gust
    seven hours before the breakout, resolved after half an hour of calm, and when the
    swell came back 140 minutes later a second incident opened (fresh seed 3214). The
    incident reopens instead, from the live stream's point of view too: its events are
    one incident's, and the store and Slack see it escalate from resolved. (Hours of
    calm: 140 minutes when found, 124 since the rate test's thresholds are exact.)"""
    from stormwatch.evaluation.label_matching import match_labels

    scenario = generate(build_family(3214)[5])
    pipeline = replay(scenario.comments, pipeline=Pipeline(sinks=[MemoryAlertSink()]))
    (swell,) = [lab for lab in scenario.labels if lab.name == "b08-swell"]
    mine = [i for i in pipeline.tracker.history if i.brand == swell.brand]
    assert len(mine) == 1 and mine[0].reopened, mine
    (memory,) = [s for s in pipeline.sinks if isinstance(s, MemoryAlertSink)]
    kinds = [e.event for e in memory.events if e.brand == swell.brand]
    back = kinds.index("resolved") + 1
    assert kinds[back] == "escalated" and "opened" not in kinds[back:], kinds
    reopening = [e for e in memory.events if e.drivers.get("reopened")]
    (calm,) = [e.drivers["calm_minutes"] for e in reopening]
    assert 120 <= calm < RETURN_MINUTES
    outcomes, unexplained = match_labels(pipeline.tracker.history, scenario.labels)
    assert not unexplained
    assert [len(o.incidents) for o in outcomes if o.label is swell] == [1]


def test_a_swells_post_storm_soon_after_its_brands_incident_stays_one_incident() -> None:
    """A swell at a brand of 23,549 a day: the brand's incident, a firestorm on one
    post, resolved while that post still stormed a little above the brand's normal,
    and 16 minutes later the post's own tests opened a second incident (tuning seed 4).
    The brand's incident then reopened instead, 15 calm minutes on, and took the post
    in. Since a post's excursion counts its normal over the minutes with comments
    (`KeyMonitor.excursion_read_mostly_negative`), the post's share test leads 3.3
    minutes before the brand's alert: the post's incident opens, spreads with the
    swell and stays open through it. Either way, one incident, opened once."""
    scenario = generate(build_family(4)[6])
    pipeline = replay(scenario.comments, pipeline=Pipeline(sinks=[MemoryAlertSink()]))
    mine = [i for i in pipeline.tracker.history if i.brand == "b19"]
    assert len(mine) == 1 and mine[0].kind == "spreading", mine
    (memory,) = [s for s in pipeline.sinks if isinstance(s, MemoryAlertSink)]
    opened = [e for e in memory.events if e.brand == "b19" and e.event == "opened"]
    assert [e.incident for e in opened] == [mine[0].key]
    (swell,) = [label for label in scenario.labels if label.brand == "b19"]
    resolved = [e.at for e in memory.events if e.brand == "b19" and e.event == "resolved"]
    assert all(at > swell.end for at in resolved)  # open through the swell, no gap


def test_a_brand_alert_soon_after_its_posts_incident_resolved_reopens_it() -> None:
    """A swell at a brand of 39,812 a day: the incident on its first post, spread over
    several posts, resolved while the swell went on, and 176 minutes later the brand's
    own alert opened a second incident (seed 3159). The post's incident reopens (after
    178 minutes of calm once its brand's busy minutes no longer held a post's incident
    open, `IncidentDecisions.hold_open`; after 35 since a brand of that size alerts at
    twice its normal, `Judge._brand_min_rate`)."""
    scenario = generate(build_family(3159)[2])
    pipeline = replay(scenario.comments, pipeline=Pipeline(sinks=[MemoryAlertSink()]))
    mine = [i for i in pipeline.tracker.history if i.brand == "b20"]
    assert len(mine) == 1 and mine[0].thread_id is not None and mine[0].reopened, mine
    (memory,) = [s for s in pipeline.sinks if isinstance(s, MemoryAlertSink)]
    (back,) = [e for e in memory.events if e.drivers.get("reopened")]
    assert back.kind == "spreading" and back.drivers["calm_minutes"] < RETURN_MINUTES


def test_a_bot_burst_at_a_busy_brand_does_not_fire_early_as_a_crowd() -> None:
    """Six accounts rewording their texts over three posts of a brand of 4,717 a day:
    their first two or three negatives each, beside a few people's in the minutes still
    open, made ten accounts, and firing early opened a firestorm (fresh seed 3242)."""
    result = run_spec(build_family(3242)[6])
    assert result.label("b14-bot").incidents == 0, result
    assert not result.unexplained


def test_a_launchs_complaints_after_its_surge_do_not_lead_the_rate_test() -> None:
    """A launch at a brand of 53 a day (fresh seed 3296): two hours in, the brand's
    comments no longer read as a surge (its volume test had learned the launch's
    level), and a cluster of complaints made the excursion 21 negatives in 64 comments
    where 50 and 6 were expected: the rate test at its threshold led a share test
    half-way to a firestorm. Its last hour held 161 comments where 71 were expected,
    27 % of the extra ones negative: a launch's, as the guards read it."""
    result = run_spec(build_family(3296)[0])
    assert result.label("b00-product").incidents == 0, result
    assert not result.unexplained, result


def test_a_posts_storm_in_an_incident_open_since_the_night_is_caught_by_its_escalation() -> None:
    """A brand of 167 a day on its second day (fresh seed 3496): an incident opened at
    04:22 on six negatives in an hour and did not calm overnight (README, Measured); a
    slow storm on a post at 18:00 escalated it, naming the post, 26.6 min after the
    breakout; 21.6 min since a post's excursion counts its normal over the minutes with
    comments (its share test leads sooner). That escalation is the storm's alert (one
    storm, one incident); the night's opening stays a false alarm."""
    result = run_spec(build_family(3496)[4])
    storm = result.label("b04-slow-storm")
    assert storm.incidents == 1 and storm.lead_seconds is not None, result
    # Timed as a live run would have seen the escalation: the stream's time then (the
    # event's own `at`, its newest negative comment, came 2.1 min before).
    assert round(storm.lead_seconds / 60, 1) == -21.6, result
    assert result.unexplained == ("b04/*/2026-03-03T04:21Z",), result
