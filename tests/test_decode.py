from __future__ import annotations

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stormwatch.ingest.decode import Decoder, parse_event_time
from stormwatch.model import Comment, DeadLetter

GOOD = {
    "id": "c1",
    "text": "Never again, boycott!",
    "created_at": "2026-03-02T09:15:02Z",
    "brand": "nestor",
}


def decode(obj: object) -> Comment | DeadLetter:
    return Decoder().decode(orjson.dumps(obj))


def test_valid_minimal_comment() -> None:
    c = decode(GOOD)
    assert isinstance(c, Comment)
    assert c.created_at == parse_event_time("2026-03-02T09:15:02+00:00")
    assert c.thread_id is None


def test_optional_fields_kept_and_unknown_fields_dropped() -> None:
    c = decode(
        {
            **GOOD,
            "thread_id": 123,
            "parent_id": None,
            "platform": "facebook",
            "author_id": "u9",
            "author_followers": 5000,
            "lang": "DE",
            "likes": 4,
        }
    )
    assert isinstance(c, Comment)
    assert c.thread_id == "123" and c.platform == "facebook" and c.lang == "de"
    assert c.author_followers == 5000 and not hasattr(c, "extra")


@pytest.mark.parametrize(("lang", "expected"), [(" en", "en"), ("de-AT ", "de"), ("  ", None)])
def test_a_language_is_read_past_surrounding_spaces(lang: str, expected: str | None) -> None:
    """ " en" was read as " e": a language nothing scores, so its comments were never
    negative."""
    c = decode({**GOOD, "lang": lang})
    assert isinstance(c, Comment) and c.lang == expected


@pytest.mark.parametrize(
    ("created_at", "expected"),
    [
        (1772442902, 1772442902.0),
        (1772442902.5, 1772442902.5),
        ("2026-03-02T09:15:02Z", 1772442902.0),
        ("2026-03-02T10:15:02+01:00", 1772442902.0),
        ("2026-03-02T09:15:02", 1772442902.0),  # naive means UTC
        ("2026-03-02 09:15:02.250Z", 1772442902.25),
    ],
)
def test_timestamp_forms(created_at: object, expected: float) -> None:
    c = decode({**GOOD, "created_at": created_at})
    assert isinstance(c, Comment)
    assert c.created_at == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"{not json", "invalid_json"),
        (b"", "empty"),
        (b"[1, 2]", "not_an_object"),
        (b'"text"', "not_an_object"),
        (b'{"id": "1", "text": "x", "created_at": 1772442902}', "missing_field"),
        (orjson.dumps({**GOOD, "id": 5}), "wrong_type"),
        (orjson.dumps({**GOOD, "text": None}), "missing_field"),
        (orjson.dumps({**GOOD, "text": ["a"]}), "wrong_type"),
        (orjson.dumps({**GOOD, "created_at": "yesterday"}), "invalid_timestamp"),
        (orjson.dumps({**GOOD, "created_at": True}), "wrong_type"),
        (orjson.dumps({**GOOD, "created_at": 1772442902000}), "timestamp_out_of_range"),
        (orjson.dumps({**GOOD, "brand": 7}), "wrong_type"),
        # brand "a\x1fb" + thread "c" would share a window with brand "a" + thread "b\x1fc"
        (orjson.dumps({**GOOD, "brand": "a\x1fb", "thread_id": "c"}), "wrong_type"),
        (orjson.dumps({**GOOD, "brand": "a\x85b"}), "wrong_type"),  # C1 controls too
        # platform "fb\0x" + id "1" would pass for platform "fb" + id "x\01" (dedupe)
        (orjson.dumps({**GOOD, "platform": "fb\x00x", "id": "1"}), "wrong_type"),
        (orjson.dumps({**GOOD, "platform": "fb", "id": "x\x001"}), "wrong_type"),
        (orjson.dumps({**GOOD, "text": "x" * 30_000}), "too_large"),
        (b'{"id": "1", "text": "\xff\xfe", "created_at": 1, "brand": "b"}', "invalid_encoding"),
        (b"x" * 70_000, "too_large"),
    ],
)
def test_bad_records_are_dead_lettered_with_reason(raw: bytes, reason: str) -> None:
    out = Decoder().decode(raw, "f:1")
    assert isinstance(out, DeadLetter)
    assert out.reason == reason
    # A record over the size limit keeps only its first 4 KiB.
    assert out.raw == (raw[:4096] if len(raw) > 64 * 1024 else raw) and out.source == "f:1"


def test_event_times_from_the_future_are_dead_lettered() -> None:
    now = 1772442902.0
    decoder = Decoder(clock=lambda: now)
    ok = decoder.decode(orjson.dumps({**GOOD, "created_at": now + 3000}))
    assert isinstance(ok, Comment)
    ahead = decoder.decode(orjson.dumps({**GOOD, "created_at": now + 2 * 86400}))
    assert isinstance(ahead, DeadLetter) and ahead.reason == "timestamp_in_future"
    assert "48.0 h ahead of the clock (2026-03-02T09:15:02Z" in ahead.detail


def test_brand_derived_from_watchlist() -> None:
    decoder = Decoder(brand_for_text=lambda t: "nestor" if "nestor" in t.lower() else None)
    obj = {k: v for k, v in GOOD.items() if k != "brand"}
    letter = decoder.decode(orjson.dumps(obj))
    assert isinstance(letter, DeadLetter)
    assert letter.detail == "field 'brand' is missing and no watchlist matched"
    c = decoder.decode(orjson.dumps({**obj, "text": "Nestor deleted my comment"}))
    assert isinstance(c, Comment) and c.brand == "nestor"
    # Where no watchlist is asked (`run`, `/ingest`), the letter does not say one was.
    letter = Decoder().decode(orjson.dumps(obj))
    assert isinstance(letter, DeadLetter) and letter.detail == "field 'brand' is missing"


INT64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)
json_values = st.recursive(
    st.none() | st.booleans() | INT64 | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=10,
)
records = st.one_of(
    st.binary(max_size=300),
    json_values.map(orjson.dumps),
    st.fixed_dictionaries(
        {},
        optional={
            "id": st.one_of(st.text(max_size=5), INT64),
            "text": st.one_of(st.text(max_size=50), st.none()),
            "created_at": st.one_of(
                INT64, st.floats(), st.text(max_size=30), st.datetimes().map(str)
            ),
            "brand": st.one_of(st.text(max_size=5), st.none(), INT64),
            "thread_id": json_values,
            "author_followers": json_values,
            "lang": json_values,
        },
    ).map(orjson.dumps),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(records, max_size=20))
def test_decoder_never_crashes_and_accounts_for_every_record(batch: list[bytes]) -> None:
    decoder = Decoder()
    comments = dead = 0
    for raw in batch:
        out = decoder.decode(raw)
        if isinstance(out, Comment):
            comments += 1
            assert isinstance(out.id, str) and out.id
            assert isinstance(out.text, str) and isinstance(out.brand, str)
            assert isinstance(out.created_at, float)
        else:
            assert isinstance(out, DeadLetter) and out.reason and out.raw == raw
            assert out.reason != "decode_error", out.detail  # no unexpected exceptions
            dead += 1
    assert comments + dead == len(batch)


def test_numeric_ids_past_64_bits_keep_their_digits() -> None:
    """orjson reads such integers as floats: post ids 100000000000000000001 and ...002
    both became "1e+20", every post one thread and every author one account."""
    decoder = Decoder()
    ids = []
    for n in (1, 2):
        raw = (
            orjson.dumps({**GOOD, "id": f"c{n}"})[:-1]
            + (
                f', "thread_id": 10000000000000000000{n}, "author_id": 2000000000000000000{n}'
                ', "parent_id": 1.5}'
            ).encode()
        )
        c = decoder.decode(raw, "f:1")
        assert isinstance(c, Comment), c
        ids.append((c.thread_id, c.author_id, c.parent_id))
    assert ids == [
        ("100000000000000000001", "20000000000000000001", "1.5"),
        ("100000000000000000002", "20000000000000000002", "1.5"),
    ]
    # The same ids in a JSON array posted to `serve`, which splits it into records.
    from stormwatch.service.ingest import split_records

    body = b"[" + b", ".join(orjson.dumps({**GOOD, "id": "c"})[:-1] + (
        f', "thread_id": 10000000000000000000{n}}}'.encode()) for n in (1, 2)) + b"]"  # fmt: skip
    threads = [decoder.decode(r, "serve").thread_id for r in split_records(body)]  # type: ignore[union-attr]
    assert threads == ["100000000000000000001", "100000000000000000002"]


@settings(max_examples=60, deadline=None)
@given(
    st.tuples(
        st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=12),
        st.integers(0, 9000),
    ).map(lambda t: t[0] * t[1])
)
def test_a_collected_text_of_any_length_and_script_decodes(text: str) -> None:
    """What a collector keeps of a long text (a Reddit self-post of 40,000 characters, a
    full-text feed entry) fits the contract: its start, marked "…" where it was cut."""
    from stormwatch.ingest.decode import MAX_TEXT_CHARS
    from stormwatch.ingest.page_collector import collected_text

    kept = collected_text(text)
    assert kept == text or (kept.endswith("…") and text.startswith(kept[:-1]))
    assert len(kept) <= MAX_TEXT_CHARS
    record = {"id": "t3_x", "brand": "acme", "text": kept, "created_at": 1772442060}
    assert isinstance(decode(record), Comment), (len(text), len(kept))


def test_a_text_cut_inside_an_emoji_keeps_its_comment() -> None:
    """JavaScript cuts strings by UTF-16 units and `JSON.stringify` writes the half of an
    emoji it kept as "\\ud83d", which orjson refuses: the comment was dead-lettered as
    `invalid_json`. It is read with the half as U+FFFD."""
    decoder = Decoder()
    cut = b'{"id": "1", "text": "so angry \\ud83d", "created_at": 1700000000, "brand": "acme"}'
    comment = decoder.decode(cut)
    assert isinstance(comment, Comment) and comment.text == "so angry \ufffd"
    whole = cut.replace(b"\\ud83d", b"\\ud83d\\ude21")
    assert decoder.decode(whole).text == "so angry \U0001f621"  # type: ignore[union-attr]
    # Still refused: what is not JSON for either parser, and NaN or Infinity beside it.
    assert decoder.decode(b'{"id": "1", "text": "\\ud83d"').reason == "invalid_json"  # type: ignore[union-attr]
    for not_json in (b"NaN", b"Infinity", b"1e999"):
        record = cut.replace(b"1700000000", not_json)
        assert decoder.decode(record).reason == "invalid_json"  # type: ignore[union-attr]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40), st.integers(min_value=0, max_value=40))
def test_any_text_cut_at_any_utf16_unit_decodes(text: str, cut: int) -> None:
    """Whatever a UTF-16 cut leaves, the record decodes as the same text with a lone half
    (if any) as U+FFFD would."""
    units = text.encode("utf-16-le")[: 2 * cut]
    kept = units.decode("utf-16-le", "surrogatepass")
    raw = orjson.dumps({"id": "1", "created_at": 1700000000, "brand": "acme", "text": "T"})
    escaped = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else
                      f"\\u{ord(c):04x}" if ord(c) < 0x10000 else
                      "".join(f"\\u{u:04x}" for u in (0xD800 + ((ord(c) - 0x10000) >> 10),
                                                       0xDC00 + ((ord(c) - 0x10000) & 0x3FF)))
                      for c in kept)  # fmt: skip
    comment = Decoder().decode(raw.replace(b'"T"', f'"{escaped}"'.encode()))
    expected = "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in kept)
    same = Decoder().decode(raw.replace(b'"T"', orjson.dumps(expected)))
    assert comment == same, (comment, same)


def test_a_leap_second_is_a_time_and_only_numbers_get_the_milliseconds_hint() -> None:
    """ "23:59:60" is valid RFC 3339 (a leap second) and was dead-lettered as not ISO
    8601; a date string in year 9999 was asked whether it was milliseconds."""
    from stormwatch.ingest.decode import parse_event_time

    assert parse_event_time("2016-12-31T23:59:60Z") == parse_event_time("2017-01-01T00:00:00Z")
    assert parse_event_time("2016-12-31T23:59:60.5+00:00") == 1483228800.5
    for bad in ("2016-12-31T22:59:60Z", "2016-12-31T23:59:61Z"):
        letter = Decoder().decode(orjson.dumps({**GOOD, "created_at": bad}))
        assert isinstance(letter, DeadLetter) and letter.reason == "invalid_timestamp"
    far = Decoder().decode(orjson.dumps({**GOOD, "created_at": "9999-12-31T23:59:59Z"}))
    assert isinstance(far, DeadLetter) and "milliseconds" not in far.detail
    ms = Decoder().decode(orjson.dumps({**GOOD, "created_at": 1772442902000}))
    assert isinstance(ms, DeadLetter) and "milliseconds" in ms.detail


def test_a_run_counts_odd_language_codes_together_past_a_few_dozen() -> None:
    """Any two characters are kept as `lang`: a producer sending odd codes grew the run's
    language counts by one entry each for the life of a service."""
    from stormwatch.pipeline import MAX_LANGUAGES, OTHER_LANGUAGES, Pipeline

    pipeline = Pipeline()
    for n in range(500):
        code = chr(0x4E00 + n) * 2
        pipeline.feed(orjson.dumps({**GOOD, "id": f"c{n}", "lang": code}))
    languages = pipeline.stats.languages
    assert len(languages) <= MAX_LANGUAGES + 1
    assert sum(languages.values()) == 500 and languages[OTHER_LANGUAGES] > 400
