"""Playbooks: shipped defaults, validation errors with file:line, matching, rendering."""

from __future__ import annotations

import pickle
import textwrap
from pathlib import Path

import pytest

from stormwatch.exceptions import StormwatchError
from stormwatch.playbooks import (
    DEFAULTS_DIR,
    PLACEHOLDERS,
    SEVERITIES,
    Playbook,
    PlaybookError,
    PlaybookSet,
    RenderError,
    check,
    load_playbooks,
    topic_label,
)

# Line numbers matter: the broken variants below name the line of each mistake.
VALID = textwrap.dedent(
    """\
    id: custom
    title: Custom
    description: A playbook for tests.
    priority: 5
    match:
      topics: [price]
      min_severity: medium
    steps:
      - role: community_manager
        action: Acknowledge.
        deadline_minutes: 30
      - role: pr
        action: Statement.
        deadline_minutes: 120
    do: [Respond.]
    dont: [Delete.]
    templates:
      acknowledge:
        en: "Hi from {brand}, back in {hours} hours: {contact_url} {{literally}}"
        de: "Hallo von {brand}, in {hours} Stunden: {contact_url}"
    escalate_to:
      low: [community_manager]
      high: [pr, legal]
    """
)


def edit(old: str, new: str, text: str = VALID) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def write(directory: Path, files: dict[str, str]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (directory / name).write_text(text, encoding="utf-8")
    return directory


@pytest.fixture(scope="module")
def defaults() -> PlaybookSet:
    return load_playbooks()


# --- shipped defaults -------------------------------------------------------------------

EXPECTED_DEFAULTS = {
    "generic": set(),
    "environmental-criticism": {"environment"},
    "censorship-accusations": {"censorship"},
    "product-safety": {"safety"},
    "service-failure": {"service"},
    "price-anger": {"price"},
    "discrimination": {"discrimination"},
    "data-privacy": {"data_privacy"},
    "labour-conditions": {"labour"},
}


def test_defaults_load_and_check_clean(defaults: PlaybookSet) -> None:
    assert check(DEFAULTS_DIR) == []
    assert {p.id: set(p.match.topics) for p in defaults} == EXPECTED_DEFAULTS


@pytest.mark.parametrize("playbook_id", sorted(EXPECTED_DEFAULTS))
def test_default_is_complete(defaults: PlaybookSet, playbook_id: str) -> None:
    p = defaults[playbook_id]
    assert p.source.name == f"{p.id}.yaml"
    assert min(s.deadline_minutes for s in p.steps) <= 60, "first action within the hour"
    assert any(s.deadline_minutes >= 1440 for s in p.steps), "a review step afterwards"
    assert any("delete" in d.lower() for d in p.dont), "the lesson: respond, don't delete"
    assert len(p.do) >= 4 and len(p.dont) >= 4
    assert set(p.templates) == {"acknowledge", "follow_up"}
    values = {name: f"<{name}>" for name in PLACEHOLDERS}
    for template in p.templates:
        en = p.render("en", template=template, **values)
        de = p.render("de", template=template, **values)
        assert en != de and "<brand>" in en and "<brand>" in de
        assert "{" not in en + de
    assert p.escalation("critical")[-1] == "executive"


def test_defaults_dir_is_package_data() -> None:
    assert DEFAULTS_DIR.joinpath("generic.yaml").is_file()


def test_severities_match_alert_contract() -> None:
    event = pytest.importorskip("stormwatch.alerts.event")
    assert tuple(event.SEVERITIES) == SEVERITIES


# --- broken variants: file and line -----------------------------------------------------

BROKEN = [
    # (case, yaml text, line, message after "file:line: ")
    ("missing key", edit("title: Custom\n", ""), 1, "missing required key 'title'"),
    (
        "missing step key",
        edit("    deadline_minutes: 120\n", ""),
        12,
        "steps[1]: missing required key 'deadline_minutes'",
    ),
    (
        "unknown key",
        edit("priority: 5", "priorty: 5"),
        4,
        "priorty: unknown key (did you mean 'priority'?)",
    ),
    (
        "unknown nested key",
        edit("  min_severity: medium", "  min_severty: medium"),
        7,
        "match.min_severty: unknown key (did you mean 'min_severity'?)",
    ),
    (
        "unknown key without near miss",
        edit("  min_severity: medium", "  colour: red"),
        7,
        "match.colour: unknown key (allowed: topics, min_severity, platforms, brands)",
    ),
    (
        "bad severity",
        edit("min_severity: medium", "min_severity: severe"),
        7,
        "match.min_severity: unknown severity 'severe' (expected one of low, medium, high, "
        "critical)",
    ),
    (
        "bad severity in escalate_to",
        edit("  high: [pr, legal]", "  hihg: [pr, legal]"),
        23,
        "escalate_to.hihg: unknown severity 'hihg' (did you mean 'high'?)",
    ),
    (
        "unknown role",
        edit("  - role: community_manager", "  - role: comunity_manager"),
        9,
        "steps[0].role: unknown role 'comunity_manager' (did you mean 'community_manager'?)",
    ),
    (
        "unknown role in escalate_to",
        edit("[pr, legal]", "[pr, lawyer]"),
        23,
        "escalate_to.high[1]: unknown role 'lawyer' (known: community_manager, customer_service, "
        "data_protection_officer, executive, hr, legal, pr, product, quality, social_media_lead, "
        "sustainability)",
    ),
    (
        "unknown placeholder",
        edit("hours: {contact_url}", "hours: {contact}"),
        19,
        "templates.acknowledge.en: unknown placeholder {contact} (did you mean 'contact_url'?)",
    ),
    (
        "placeholder with attribute",
        edit("Hi from {brand}", "Hi from {brand.upper}"),
        19,
        "templates.acknowledge.en: placeholder {brand.upper} must be a plain name like {brand} "
        "(write {{ and }} for literal braces)",
    ),
    (
        "unbalanced brace",
        edit("Hallo von {brand}", "Hallo von {brand"),
        20,
        "templates.acknowledge.de: unbalanced braces (unexpected '{' in field name) "
        "(write {{ and }} for literal braces)",
    ),
    (
        "missing de",
        edit('    de: "Hallo von {brand}, in {hours} Stunden: {contact_url}"\n', ""),
        18,
        "templates.acknowledge: missing language 'de'",
    ),
    (
        "missing acknowledge template",
        edit("  acknowledge:", "  first_reply:"),
        17,
        "templates: missing required template 'acknowledge'",
    ),
    (
        "zero deadline",
        edit("deadline_minutes: 120", "deadline_minutes: 0"),
        14,
        "steps[1].deadline_minutes must be a positive integer",
    ),
    (
        "negative deadline",
        edit("deadline_minutes: 30", "deadline_minutes: -30"),
        11,
        "steps[0].deadline_minutes must be a positive integer",
    ),
    (
        "fractional deadline",
        edit("deadline_minutes: 30", "deadline_minutes: 1.5"),
        11,
        "steps[0].deadline_minutes must be a positive integer",
    ),
    (
        "text deadline",
        edit("deadline_minutes: 30", "deadline_minutes: soon"),
        11,
        "steps[0].deadline_minutes must be a positive integer",
    ),
    (
        "boolean deadline",
        edit("deadline_minutes: 30", "deadline_minutes: yes"),
        11,
        "steps[0].deadline_minutes must be a positive integer",
    ),
    (
        "topics not a list",
        edit("topics: [price]", "topics: price"),
        6,
        "match.topics must be a non-empty list, e.g. [environment]",
    ),
    (
        "match not a mapping",
        edit("match:\n  topics: [price]\n  min_severity: medium\n", "match: price\n\n\n"),
        5,
        "match must be a mapping (write `match: {}` for a playbook that matches anything)",
    ),
    (
        "empty do",
        edit("do: [Respond.]", "do: []"),
        15,
        'do must be a non-empty list, e.g. ["State the facts."]',
    ),
    (
        "bad id",
        edit("id: custom", "id: Custom Playbook"),
        1,
        "id 'Custom Playbook' must be lowercase letters, digits, '-' and '_' (e.g. price-anger)",
    ),
    (
        "YAML syntax error",
        edit("action: Statement.", "action: Statement: oops"),
        13,
        "invalid YAML: mapping values are not allowed",
    ),
    (
        "duplicate key",
        edit("dont: [Delete.]", "do: [Delete.]"),
        16,
        "invalid YAML: duplicate key 'do' (first on line 15)",
    ),
    (
        "a tag that cannot be built",
        edit("priority: 5", "priority: !!int abc"),
        4,
        "invalid YAML: cannot read 'abc' as int",
    ),
    (
        "a bad timestamp in a list",
        edit("topics: [price]", "topics: [price, !!timestamp soon]"),
        6,
        "invalid YAML: cannot read 'soon' as timestamp",
    ),
    ("empty file", "", 1, "a playbook file holds one mapping (id, title, ...), not empty"),
    (
        "list at top level",
        "- id: custom\n",
        1,
        "a playbook file holds one mapping (id, title, ...), not a list",
    ),
]


@pytest.mark.parametrize(
    ("text", "line", "reason"), [case[1:] for case in BROKEN], ids=[c[0] for c in BROKEN]
)
def test_broken_playbook_names_file_and_line(
    tmp_path: Path, text: str, line: int, reason: str
) -> None:
    user = write(tmp_path / "user", {"x.yaml": text})
    errors = check(user)
    assert [(e.file, e.line) for e in errors] == [(user / "x.yaml", line)]
    assert errors[0].reason.startswith(reason)  # YAML syntax: only the parser's first words
    with pytest.raises(PlaybookError) as raised:
        load_playbooks(user)
    assert str(raised.value).startswith(f"{user / 'x.yaml'}:{line}: {reason}")


def test_duplicate_id_in_one_directory(tmp_path: Path) -> None:
    user = write(tmp_path, {"a.yaml": VALID, "b.yaml": VALID})
    [error] = check(user)
    assert (error.file, error.line) == (user / "b.yaml", 1)
    assert error.reason == f"duplicate id 'custom': already defined at {user / 'a.yaml'}:1"


def test_all_errors_are_collected(tmp_path: Path) -> None:
    text = edit("deadline_minutes: 30", "deadline_minutes: 0", edit("priority: 5", "prio: 5"))
    user = write(tmp_path, {"a.yaml": text, "b.yaml": "id: b\ntitle: a: b\n", "c.yml": VALID})
    errors = check(user)
    assert [(e.file.name, e.line) for e in errors] == [("a.yaml", 4), ("a.yaml", 11), ("b.yaml", 2)]
    with pytest.raises(PlaybookError) as raised:
        load_playbooks(user)
    assert raised.value.line == 4
    assert len(raised.value.__notes__) == 2  # the others ride along on the raised error


def test_languages_without_template_name(tmp_path: Path) -> None:
    text = edit("  acknowledge:\n    en:", "  en:").replace('    de: "Hallo', '  de: "Hallo')
    errors = check(write(tmp_path, {"x.yaml": text}))
    assert [(e.line, e.reason) for e in errors] == [
        (17, "templates: missing required template 'acknowledge'"),
        (18, "templates.en: put the texts under a template name, e.g. templates.acknowledge.en"),
        (19, "templates.de: put the texts under a template name, e.g. templates.acknowledge.de"),
    ]


def test_check_single_file_and_missing_path(tmp_path: Path) -> None:
    good = write(tmp_path, {"ok.yaml": VALID}) / "ok.yaml"
    assert check(good) == []
    [error] = check(tmp_path / "nope")
    assert str(error) == f"{tmp_path / 'nope'}: no such playbook file or directory"


def test_overriding_the_catch_all_must_keep_it(tmp_path: Path) -> None:
    text = edit("id: custom", "id: generic")
    user = write(tmp_path, {"generic.yaml": text})
    [error] = check(user)
    assert (error.file, error.line) == (user / "generic.yaml", 1)
    assert "replaces the default catch-all" in error.reason


def test_error_pickles_and_has_the_project_base() -> None:
    error = PlaybookError("playbooks/x.yaml", 12, "steps[1].deadline_minutes must be ...")
    assert isinstance(error, StormwatchError)
    again = pickle.loads(pickle.dumps(error))
    assert str(again) == str(error) == "playbooks/x.yaml:12: steps[1].deadline_minutes must be ..."


# --- user overrides ---------------------------------------------------------------------


def test_user_dir_overrides_default_by_id(tmp_path: Path, defaults: PlaybookSet) -> None:
    text = edit("id: custom", "id: price-anger")
    user = write(tmp_path, {"prices.yaml": text, "extra.yaml": edit("id: custom", "id: extra")})
    playbooks = load_playbooks(user)
    assert len(playbooks) == len(defaults) + 1
    assert playbooks["price-anger"].source == user / "prices.yaml"
    assert playbooks["price-anger"].title == "Custom"  # replaced whole, not merged
    assert playbooks["generic"] == defaults["generic"]


# --- matching ---------------------------------------------------------------------------

USER_PLAYBOOKS = {
    "acme-safety.yaml": edit(
        "id: custom",
        "id: acme-safety",
        edit("topics: [price]", "topics: [safety]\n  brands: [Acme]"),
    )
    .replace("min_severity: medium", "min_severity: low")
    .replace("priority: 5", "priority: 0"),
    "insta.yaml": edit(
        "id: custom", "id: instagram-service", edit("topics: [price]", "topics: [service]")
    ).replace("min_severity: medium", "platforms: [instagram]"),
    "acme-any.yaml": edit("id: custom", "id: acme-any").replace(
        "  topics: [price]\n  min_severity: medium", "  brands: [acme]"
    ),
    "critical-price.yaml": edit("id: custom", "id: critical-price").replace(
        "min_severity: medium", "min_severity: critical"
    ),
}

MATCHES = [
    # (topics, severity, platform, brand) -> playbook id
    (["environment"], "low", "facebook", "nestle", "environmental-criticism"),
    (["environment", "censorship"], "high", "facebook", "nestle", "censorship-accusations"),
    (["safety", "price"], "medium", None, "other", "product-safety"),
    ([], "critical", "twitter", "other", "generic"),
    (["boycott"], "low", None, "other", "generic"),
    (["Data_Privacy"], "low", "blog", "other", "data-privacy"),
    (["labour"], "high", "youtube", "other", "labour-conditions"),
    (["discrimination", "service"], "medium", "facebook", "other", "discrimination"),
    # Specificity before priority: the platform-specific playbook wins over a
    # higher-priority topic-only one (documented trade-off, see matcher.py).
    (["discrimination", "service"], "medium", "instagram", "other", "instagram-service"),
    (["safety"], "low", None, "ACME", "acme-safety"),  # brand beats priority 90
    (["service"], "low", "Instagram", "other", "instagram-service"),
    (["service"], "low", "facebook", "other", "service-failure"),
    (["service"], "low", None, "other", "service-failure"),  # unknown platform
    (["price"], "high", None, "acme", "price-anger"),  # topic beats brand-only
    (["price"], "critical", None, "other", "critical-price"),  # min_severity met
    (["price"], "low", None, "other", "price-anger"),
    ([], "low", None, "acme", "acme-any"),
    (iter(["safety"]), "low", None, "other", "product-safety"),  # any iterable
]


@pytest.fixture(scope="module")
def with_user(tmp_path_factory: pytest.TempPathFactory) -> PlaybookSet:
    return load_playbooks(write(tmp_path_factory.mktemp("user"), USER_PLAYBOOKS))


@pytest.mark.parametrize(("topics", "severity", "platform", "brand", "expected"), MATCHES)
def test_match(
    with_user: PlaybookSet,
    topics: list[str],
    severity: str,
    platform: str | None,
    brand: str,
    expected: str,
) -> None:
    found = with_user.match(topics=topics, severity=severity, platform=platform, brand=brand)
    assert found.id == expected


def test_candidates_are_ranked(with_user: PlaybookSet) -> None:
    found = with_user.candidates(
        topics=["safety", "price"], severity="critical", platform=None, brand="acme"
    )
    assert [p.id for p in found] == [
        "acme-safety",
        "critical-price",
        "product-safety",
        "price-anger",
        "acme-any",
        "generic",
    ]


def test_match_rejects_misuse(defaults: PlaybookSet) -> None:
    with pytest.raises(TypeError):
        defaults.match(topics="price", severity="low", platform=None, brand="x")
    with pytest.raises(ValueError, match="unknown severity 'severe'"):
        defaults.match(topics=[], severity="severe", platform=None, brand="x")
    only_prices = PlaybookSet([defaults["price-anger"]])
    with pytest.raises(LookupError):
        only_prices.match(topics=["safety"], severity="low", platform=None, brand="x")


# --- rendering and escalation -----------------------------------------------------------


@pytest.fixture
def custom(tmp_path: Path) -> Playbook:
    return load_playbooks(write(tmp_path, {"c.yaml": VALID}))["custom"]


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("en", "Hi from Acme, back in 4 hours: https://acme.test/help {literally}"),
        ("de", "Hallo von Acme, in 4 Stunden: https://acme.test/help"),
        ("de-AT", "Hallo von Acme, in 4 Stunden: https://acme.test/help"),
        ("fr", "Hi from Acme, back in 4 hours: https://acme.test/help {literally}"),
    ],
)
def test_render_fills_placeholders(custom: Playbook, lang: str, expected: str) -> None:
    values = {"brand": "Acme", "hours": 4, "contact_url": "https://acme.test/help", "topic": "-"}
    assert custom.render(lang, **values) == expected


def test_render_errors(custom: Playbook) -> None:
    with pytest.raises(RenderError, match="no value for placeholder\\(s\\): contact_url, hours"):
        custom.render("en", brand="Acme")
    with pytest.raises(RenderError, match="no template 'follow_up'"):
        custom.render("en", template="follow_up", brand="Acme")


def test_values_are_not_formatted_again(custom: Playbook) -> None:
    text = custom.render("de", brand="{hours}", hours="{0.__class__}", contact_url="u")
    assert text == "Hallo von {hours}, in {0.__class__} Stunden: u"


def test_escalation_is_cumulative(custom: Playbook) -> None:
    assert custom.escalation("low") == ("community_manager",)
    assert custom.escalation("medium") == ("community_manager",)
    assert custom.escalation("critical") == ("community_manager", "pr", "legal")


def test_topic_label() -> None:
    assert topic_label("labour", "de") == "Arbeitsbedingungen"
    assert topic_label("labour", "fr") == "working conditions"
    assert topic_label("new_tag", "de") == "new tag"


def test_check_command_quotes_paths_and_values_as_they_are(tmp_path: Path) -> None:
    """Rich read "[prod]" in a path and "[bold]" in a value as markup: the command named
    a file that does not exist and misquoted the value ("[/foo]" ended in a traceback)."""
    from typer.testing import CliRunner

    from stormwatch.cli import app

    text = edit("min_severity: medium", "min_severity: '[bold]hi[/foo]'")
    user = write(tmp_path / "team[prod]", {"t.yaml": text})
    done = CliRunner().invoke(app, ["playbooks", "check", str(user)], env={"COLUMNS": "80"})
    assert done.exit_code == 1, done.output
    assert f"{user / 't.yaml'}:" in done.output and "'[bold]hi[/foo]'" in done.output


def test_an_alias_bomb_is_named_by_its_kind_not_written_out(tmp_path: Path) -> None:
    """A few hundred bytes of YAML aliases expand to ten million items: the message for a
    wrong `min_severity` or `role` wrote them out with repr (16 s, megabytes of "line";
    two levels more and `playbooks check` and serve's start never ended)."""
    import time

    bomb = "a: &a [x,x,x,x,x,x,x,x,x,x]\n" + "".join(
        f"{b}: &{b} [" + ",".join([f"*{a}"] * 10) + "]\n"
        for a, b in zip("abcdef", "bcdefg", strict=True)
    )
    text = bomb + edit("  min_severity: medium", "  min_severity: *g")
    started = time.monotonic()
    errors = check(write(tmp_path, {"x.yaml": text}))  # the anchors' keys are unknown too
    assert time.monotonic() - started < 5
    reasons = [e.reason for e in errors]
    assert any(r.startswith("match.min_severity: unknown severity a list") for r in reasons)
    assert max(map(len, reasons)) < 300


def test_yaml_nested_thousands_deep_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    """PyYAML builds nested lists recursively: a playbook, topic vocabulary or watchlist
    nested a few hundred to thousands deep ended `playbooks check`, serve's or run's
    start in a RecursionError traceback. Hidden files are no playbooks, for the loader
    and for `playbooks check` alike (it said "playbooks OK" with nothing checked)."""
    from typer.testing import CliRunner

    from stormwatch.cli import app
    from stormwatch.detectors.topics import VocabularyError, load_vocabulary
    from stormwatch.exceptions import ConfigError
    from stormwatch.ingest.watchlist import Watchlist

    deep = "[" * 3000 + "]" * 3000
    errors = check(write(tmp_path / "pb", {"x.yaml": f"steps: {'[' * 300}{']' * 300}\n"}))
    assert [e.reason for e in errors] == ["invalid YAML: nested too deep"]
    (tmp_path / "t.yaml").write_text(f"environment: {deep}\n")
    with pytest.raises(VocabularyError, match="nested too deep"):
        load_vocabulary(tmp_path / "t.yaml")
    (tmp_path / "w.yaml").write_text(f"brands:\n  acme:\n    keywords: {deep}\n")
    with pytest.raises(ConfigError, match="nested too deep"):
        Watchlist.load(tmp_path / "w.yaml")
    hidden = write(tmp_path / "hidden", {".draft.yaml": "id: draft\n"})
    done = CliRunner().invoke(app, ["playbooks", "check", str(hidden)])
    assert done.exit_code == 1 and "holds no playbooks" in done.output, done.output
