"""Privacy (issue 11): pseudonymous author ids in dead letters, no silently ignored
`STORMWATCH_*` variables, no weak pseudonym keys, old texts and ids purged."""

from __future__ import annotations

import orjson
import pytest

from stormwatch.config import check_environment, load_settings, pseudonym_key
from stormwatch.exceptions import ConfigError
from stormwatch.ingest.dead_letters import dead_letter_json
from stormwatch.ingest.decode import Decoder
from stormwatch.ingest.pseudonym import Pseudonymizer
from stormwatch.model import DeadLetter
from stormwatch.pipeline import Pipeline

KEY = "3f9c1a7e5b2d8f4061c7e9a3b5d1f2e4"  # 32 characters, 16 distinct


class Letters:
    def __init__(self) -> None:
        self.letters: list[DeadLetter] = []

    def write(self, letter: DeadLetter) -> None:
        self.letters.append(letter)

    def close(self) -> None:
        pass


def test_dead_letters_carry_pseudonyms_when_privacy_is_on() -> None:
    letters = Letters()
    pseudonym = Pseudonymizer(KEY.encode())
    pipeline = Pipeline(dead_letters=letters, pseudonymize=pseudonym)
    records = [
        b'{"id": "1", "text": "hi", "brand": "a", "author_id": "alice@example.com"}',
        b'{"id": "2", "author_id": "bob.smith", "text": broken',
        b'{"id": "3", "author_id": 4711, "text": broken',
        b'\xff\xfe{"author_id": "carol"}',
        b'{"id": "4", "text": "hi", "created_at": "x", "brand": "a", "author_id": "dave"}',
        # Wrapped, or the author as an object: these leaked (only a top-level string or
        # number was replaced).
        b'{"comment": {"id": "5", "text": "hi", "author_id": "erin.wood"}}',
        b'{"id": "6", "text": "hi", "brand": "a", "author_id": {"id": "frank", "name": "F"}}',
    ]
    for raw in records:
        pipeline.feed(raw, "f")
    lines = [orjson.dumps(dead_letter_json(x)) for x in letters.letters]
    assert len(lines) == len(records)
    for secret in (b"alice@example.com", b"bob.smith", b"4711", b"carol", b"dave",
                   b"erin.wood", b"frank"):  # fmt: skip
        assert not any(secret in line for line in lines), secret
    assert pseudonym("alice@example.com").encode() in lines[0]
    assert pseudonym("4711").encode() in lines[2]


def test_a_dead_letter_whose_author_cannot_be_replaced_is_withheld() -> None:
    """Records that are no parseable JSON object kept their author in clear: a Python
    repr, an escaped key, an author object in a record broken by a stray comma or cut at
    4 KiB, a record encoded twice. Now the author is replaced where the record parses
    (NaN, integers past 64 bits and a JSON string holding a record included), and the
    line is withheld (reason, detail, source and size kept) where it cannot be."""
    letters = Letters()
    pseudonym = Pseudonymizer(KEY.encode())
    pipeline = Pipeline(dead_letters=letters, pseudonymize=pseudonym)
    record = {"id": "d4", "text": "hi", "created_at": "x", "brand": "a", "author_id": "SECRET1"}
    big = b'{"id": "d8", "text": "hi", "created_at": "x", "author_id": 98765432109876543210987}'
    records = [
        b'{"id": "d1", "author_id": {"id": "SECRET2"}, "text": "hi", "n": NaN}',  # parses
        b'{"id": "d2", "author_id": ["SECRET3"], "text": "hi",}',  # withheld
        b'{"id": "d3", "author\\u005fid": "SECRET4", "text": "hi",}',  # withheld
        orjson.dumps(orjson.dumps(record).decode()),  # a record encoded twice: parses
        str(record).encode(),  # a Python repr: withheld
        b'{"id": "d6", "author_id": {"id": "SECRET5"}, "text": "' + b"x" * 70_000 + b'"}',
        b'{"id": "d7", "author_id": "SECRET6", "text": "hi",}',  # a plain id: replaced
        big,  # its pseudonym is the one ingest gives 98765432109876543210987
    ]
    for raw in records:
        pipeline.feed(raw, "f")
    shown = [dead_letter_json(x) for x in letters.letters]
    assert len(shown) == len(records)
    assert not any(b"SECRET" in orjson.dumps(x) for x in shown), shown
    assert [bool(x.get("withheld")) for x in shown] == [
        False, True, True, False, True, True, False, False,
    ]  # fmt: skip
    assert all(x["size"] > 0 for x in shown if x.get("withheld"))
    assert pseudonym("SECRET1") in shown[3]["line"]
    assert pseudonym("98765432109876543210987") in shown[7]["line"]
    assert "123" not in shown[7]["line"] or "e+" not in shown[7]["line"]


def test_dead_letters_keep_author_ids_when_privacy_is_off() -> None:
    letters = Letters()
    pipeline = Pipeline(dead_letters=letters)
    pipeline.feed(b'{"id": "1", "text": "hi", "brand": "a", "author_id": "alice"}')
    assert b'"alice"' in letters.letters[0].raw


def test_unknown_stormwatch_variables_stop_start_up() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(env={"STORMWATCH_PSEUDONYMISE_AUTHORS": "true"})
    message = str(caught.value)
    assert "STORMWATCH_PSEUDONYMISE_AUTHORS (did you mean STORMWATCH_PSEUDONYMIZE_AUTHORS?)" in (
        message
    )
    for known in ("STORMWATCH_PSEUDONYM_KEY", "STORMWATCH_KAFKA_BOOTSTRAP", "STORMWATCH_CONFIG"):
        assert known in message


def test_every_variable_stormwatch_reads_is_known(tmp_path) -> None:  # type: ignore[no-untyped-def]
    config = tmp_path / "stormwatch.toml"
    config.write_text(
        '[oncall.targets.pd]\ntype = "pagerduty"\nrouting_key_env = "STORMWATCH_PD_ACME"\n'
        '[ingest.tokens]\nhelpdesk = "STORMWATCH_HELPDESK_TOKEN"\n'
    )
    env = {
        name: "1"
        for name in (
            "STORMWATCH_FALSE_ALARMS_PER_MONTH",
            "STORMWATCH_DATABASE_URL",
            "STORMWATCH_PSEUDONYMIZE_AUTHORS",
            "STORMWATCH_PSEUDONYM_KEY",
            "STORMWATCH_KAFKA_BOOTSTRAP",
            "STORMWATCH_KAFKA_SASL_PLAIN_PASSWORD",
            "STORMWATCH_SLACK_CHANNEL",
            "STORMWATCH_METRICS_PORT",
            "STORMWATCH_METRICS_HOST",
            "STORMWATCH_INGEST_TOKEN",
            "STORMWATCH_INGEST_TOKEN_HELPDESK",
            "STORMWATCH_PAGERDUTY_KEY",
            "STORMWATCH_WEBHOOK_SECRET",
            "STORMWATCH_NAB_DIR",
            "STORMWATCH_REQUIRE_SERVICES",
            "STORMWATCH_PD_ACME",
            "STORMWATCH_HELPDESK_TOKEN",
        )
    }
    check_environment({**env, "STORMWATCH_CONFIG": str(config), "OTHER_THING": "x"})
    with pytest.raises(ConfigError, match="STORMWATCH_PD_ACME"):
        check_environment(env)  # without the config file that names it


@pytest.mark.parametrize(
    "key",
    ["", "      ", "short-key-123", " " * 40, "a" * 40, "0123456789abcdef" * 3, "ab" * 20],
)
def test_weak_pseudonym_keys_are_refused(key: str) -> None:
    with pytest.raises(ConfigError, match="STORMWATCH_PSEUDONYM_KEY"):
        pseudonym_key({"STORMWATCH_PSEUDONYM_KEY": key})


def test_a_random_key_is_accepted() -> None:
    assert pseudonym_key({"STORMWATCH_PSEUDONYM_KEY": KEY}) == KEY.encode()


def test_decoder_and_privacy_wiring_refuse_six_spaces(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from stormwatch.config import Settings
    from stormwatch.runtime import build_pipeline

    monkeypatch.setenv("STORMWATCH_PSEUDONYM_KEY", " " * 6)
    with pytest.raises(ConfigError, match="STORMWATCH_PSEUDONYM_KEY is not set"):
        build_pipeline(Settings(pseudonymize_authors=True), env={})
    # The decoder itself never sees the key: a record's author stays as it came until
    # the pipeline pseudonymises it.
    comment = Decoder().decode(
        b'{"id": "1", "text": "x", "created_at": 1700000000, "brand": "b", "author_id": "ann"}'
    )
    assert getattr(comment, "author_id", None) == "ann"


def test_purge_removes_stored_texts_and_author_ids(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import sqlite3

    from tests.test_hostile_input import ANGRY, storm_lines, stormwatch

    (tmp_path / "in.jsonl").write_bytes(b"\n".join(storm_lines()) + b"\n")
    db = tmp_path / "store.sqlite3"

    def stored() -> str:
        with sqlite3.connect(db) as conn:
            rows = conn.execute("SELECT payload FROM incident_events").fetchall()
            rows += conn.execute("SELECT last_event FROM incidents").fetchall()
            rows += conn.execute("SELECT payload FROM deliveries").fetchall()
        return "\n".join(str(r[0]) for r in rows)

    result = stormwatch("run", "in.jsonl", "--db", str(db), cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    with sqlite3.connect(db) as conn:
        payload = conn.execute("SELECT payload FROM incident_events").fetchone()[0]
    sample = orjson.loads(payload)["samples"][0]["text"]  # a whole comment text, stored
    assert sample.split()[0] in {t.split()[0] for t in ANGRY}, sample  # the storm's
    assert "angry-" in stored() and sample in stored()  # author ids and texts
    kept = stormwatch("purge", "--older-than", "30", "--db", str(db), cwd=tmp_path)
    assert kept.returncode == 0, kept.stderr
    assert "0 events" in kept.stdout and "angry-" in stored()
    purged = stormwatch("purge", "--older-than", "0", "--db", str(db), cwd=tmp_path)
    assert purged.returncode == 0, purged.stderr
    assert "angry-" not in stored() and sample not in stored()
    with sqlite3.connect(db) as conn:  # the incidents themselves stay
        assert conn.execute("SELECT count(*) FROM incidents").fetchone()[0] >= 1


def test_purge_needs_days(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.test_hostile_input import stormwatch

    result = stormwatch("purge", "--older-than", "-1", "--db", "x.sqlite3", cwd=tmp_path)
    assert result.returncode == 2 and "--older-than" in result.stderr


def test_purge_deletes_negativity_labels_recorded_before_the_cutoff(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A label holds the comment's id and text: it must not outlive the retention."""
    import sqlite3
    import time

    from typer.testing import CliRunner

    from stormwatch.alerts.store import IncidentStore
    from stormwatch.cli import app

    db = tmp_path / "store.sqlite3"
    now = time.time()
    with IncidentStore.open(f"sqlite:///{db}") as store:
        for comment_id, text, days_ago in (("old", "the old words", 40), ("new", "new words", 1)):
            store.add_negativity_label(
                brand="acme",
                comment_id=comment_id,
                text=text,
                negative=True,
                who="U1",
                at=now - days_ago * 86400,
            )
    result = CliRunner().invoke(app, ["purge", "--older-than", "30", "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "1 negativity labels deleted" in result.output
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT comment_id, text FROM negativity_labels").fetchall()
    assert rows == [("new", "new words")]


def _far_ahead_pipeline(letters: Letters, enricher: object = None) -> Pipeline:
    """A pipeline with privacy on whose stream established its time, then got a record
    from a day ahead of it (held, not processed)."""
    pipeline = Pipeline(
        dead_letters=letters,
        pseudonymize=Pseudonymizer(KEY.encode()),
        enricher=enricher,  # type: ignore[arg-type]
    )
    for i in range(50):
        row = {"id": f"c{i}", "text": "fine", "created_at": 1_772_409_600 + i * 7, "brand": "a"}
        pipeline.feed(orjson.dumps(row))
    far = {
        "id": "far",
        "text": "far ahead",
        "created_at": 1_772_409_600 + 86_400,
        "brand": "a",
        "author_id": "mallory@example.com",
    }
    pipeline.feed(orjson.dumps(far))
    assert pipeline.stats.held == 1
    return pipeline


def test_records_held_far_ahead_keep_no_raw_author_id_in_the_checkpoint() -> None:
    import pickle

    from stormwatch.kafka.checkpoint import snapshot

    letters = Letters()
    pipeline = _far_ahead_pipeline(letters)
    state = pickle.dumps(snapshot(pipeline), protocol=pickle.HIGHEST_PROTOCOL)
    assert b"mallory" not in state
    # given up on at the end of the input: its dead letter has the pseudonym, hashed once
    pipeline.finish()
    (letter,) = letters.letters
    assert letter.reason == "timestamp_outlier"
    assert orjson.loads(letter.raw)["author_id"] == Pseudonymizer(KEY.encode())(
        "mallory@example.com"
    )


def test_a_released_far_ahead_record_is_pseudonymised_once() -> None:
    import pickle

    from stormwatch.kafka.checkpoint import snapshot

    pipeline = _far_ahead_pipeline(Letters())
    pseudonym = Pseudonymizer(KEY.encode())("mallory@example.com")
    # records of two more brands close to it confirm that the stream jumped: released
    for brand in ("b", "c"):
        row = {"id": brand, "text": "ok", "created_at": 1_772_409_600 + 86_410, "brand": brand}
        pipeline.feed(orjson.dumps(row))
    assert pipeline.stats.held == 0 and "far" in pipeline.seen_ids
    state = pickle.dumps(snapshot(pipeline), protocol=pickle.HIGHEST_PROTOCOL)
    assert b"mallory" not in state
    assert pseudonym.encode() in state  # processed under its pseudonym, not a hash of it


def test_a_released_far_ahead_record_that_fails_is_dead_lettered_under_its_pseudonym() -> None:
    from stormwatch.detectors.enrich import Enricher
    from tests.test_hostile_input import PoisonEnricher

    letters = Letters()
    pipeline = _far_ahead_pipeline(letters, PoisonEnricher(Enricher(), "far ahead"))
    for brand in ("b", "c"):
        row = {"id": brand, "text": "ok", "created_at": 1_772_409_600 + 86_410, "brand": brand}
        pipeline.feed(orjson.dumps(row))
    (letter,) = letters.letters
    assert letter.reason == "processing_error"
    pseudonym = Pseudonymizer(KEY.encode())("mallory@example.com")
    assert orjson.loads(letter.raw)["author_id"] == pseudonym


def test_a_key_with_a_newline_gives_the_same_pseudonyms() -> None:
    """A key file's trailing newline was accepted and gave every author other pseudonyms
    than the same key without it: services stopped matching the same accounts."""
    from stormwatch.config import pseudonym_key

    key = "k3y-" + "0a1b2c3d4e5f6789" * 2
    assert (
        pseudonym_key({"STORMWATCH_PSEUDONYM_KEY": key + "\n"})
        == pseudonym_key({"STORMWATCH_PSEUDONYM_KEY": f"  {key}"})
        == key.encode()
    )


def test_purge_scrubs_the_comment_a_slack_refresh_note_quotes() -> None:
    """A comment reading's Slack refresh note quotes the comment: purge deleted the
    reading and left the text in the delivery's payload."""
    from stormwatch.alerts.store.retention import scrub

    payload = {"action": "refresh", "note": "U1 marked a comment as negative: “I hate it”",
               "who": "U1", "samples": [{"text": "x"}]}  # fmt: skip
    clean, changed = scrub(payload)
    assert changed and clean == {"action": "refresh", "note": "", "who": "U1", "samples": []}


def test_a_checkpoint_written_with_privacy_off_is_not_resumed_with_it_on(
    tmp_path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """Privacy turned on and the run resumed: the restored windows, mentions and
    incidents kept the authors as they came, and new alerts showed them (besides
    counting each account twice, raw and as a pseudonym)."""
    from stormwatch.alerts.store import IncidentStore
    from stormwatch.config import Settings
    from stormwatch.runtime import build_pipeline
    from stormwatch.stored_checkpoint import StoredCheckpoint

    db = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    first = build_pipeline(Settings(database_url=db), env={})
    first.feed(b'{"id": "1", "text": "awful", "brand": "a", "author_id": "alice", '
               b'"created_at": 1772442000}')  # fmt: skip
    with IncidentStore.open(db) as store:
        StoredCheckpoint(store).save(first)
        private = Settings(database_url=db, pseudonymize_authors=True)
        monkeypatch.setenv("STORMWATCH_PSEUDONYM_KEY", KEY)
        again = build_pipeline(private, env={})
        with pytest.raises(ConfigError, match="pseudonymize_authors off"):
            StoredCheckpoint(store).restore(again)
        plain = build_pipeline(Settings(database_url=db), env={})
        assert StoredCheckpoint(store).restore(plain)  # with it off as written: resumed


def test_a_bluesky_posts_uri_names_its_author_by_pseudonym() -> None:
    """A Bluesky id (at://DID/app.bsky.feed.post/key) named its author in clear beside
    the author's pseudonym in every sample; its copies still dedupe."""
    pseudonym = Pseudonymizer(KEY.encode())
    pipeline = Pipeline(pseudonymize=pseudonym)
    pipeline.clock = None
    did = "did:plc:alice0000000000000000000"
    post = {"id": f"at://{did}/app.bsky.feed.post/3l1", "text": "awful service",
            "brand": "acme", "created_at": 1772442000, "author_id": did,
            "thread_id": f"at://{did}/app.bsky.feed.post/3l0",
            "parent_id": f"at://{did}/app.bsky.feed.post/3l0", "platform": "bluesky"}  # fmt: skip
    for n in range(5):  # the stream's time
        pipeline.feed(orjson.dumps({"id": f"b{n}", "text": "ok", "brand": "acme",
                                    "created_at": 1772441900 + n}))  # fmt: skip
    pipeline.feed(orjson.dumps(post))
    pipeline.feed(orjson.dumps(post))  # a redelivery
    pipeline.finish()
    assert (pipeline.stats.processed, pipeline.stats.duplicates) == (7, 1)
    [mention] = pipeline.windows.brands["acme"].negatives
    c = mention.comment
    assert did not in (c.id + c.thread_id + c.parent_id + c.author_id)
    assert c.id == f"at://{pseudonym(did)}/app.bsky.feed.post/3l1"
    assert c.thread_id == c.parent_id == f"at://{pseudonym(did)}/app.bsky.feed.post/3l0"


def test_a_bluesky_thread_uri_is_pseudonymised_whatever_the_posts_id() -> None:
    """A producer keying posts by their CID (no at:// id) but naming the thread by its
    root's URI showed the root author's DID in the incident key, summaries, Slack and
    the store: the URIs were pseudonymised only when the id was one. A record held far
    ahead kept its URIs in clear in the checkpoint."""
    import pickle

    from stormwatch.kafka.checkpoint import snapshot

    pseudonym = Pseudonymizer(KEY.encode())
    pipeline = Pipeline(pseudonymize=pseudonym)
    pipeline.clock = None
    did = "did:plc:rootauthor000000000000000"
    root = f"at://{did}/app.bsky.feed.post/3l0"
    for n in range(50):
        pipeline.feed(orjson.dumps({"id": f"b{n}", "text": "ok", "brand": "acme",
                                    "created_at": 1772441600 + 7 * n}))  # fmt: skip
    post = {"id": "bafyreicid", "text": "awful service", "brand": "acme",
            "created_at": 1772442000, "thread_id": root, "parent_id": root}  # fmt: skip
    pipeline.feed(orjson.dumps(post))
    pipeline.feed(orjson.dumps({**post, "id": "bafyfar", "created_at": 1772442000 + 86_400}))
    assert pipeline.stats.held == 1
    assert did.encode() not in pickle.dumps(snapshot(pipeline))
    pipeline.finish()
    [mention] = pipeline.windows.brands["acme"].negatives
    assert mention.comment.thread_id == f"at://{pseudonym(did)}/app.bsky.feed.post/3l0"


def test_purge_works_in_short_transactions_and_scrubs_every_page(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The purge was one transaction: over a large store it held the write lock past a
    live `serve`'s busy time-out, and its button presses and alerts failed meanwhile.
    Now a page of rows per transaction, and the pages between them miss nothing."""
    from dataclasses import replace

    import sqlalchemy as sa

    from stormwatch.alerts.store import IncidentStore, retention
    from tests.test_pagerduty import opened

    monkeypatch.setattr(retention, "PURGE_PAGE_ROWS", 2)
    with IncidentStore.open(tmp_path / "store.sqlite3", clock=lambda: 1_800_000_000.0) as store:
        samples = [{"id": "c1", "text": "I hate it", "author_id": "ann"}]
        for n in range(7):
            event = replace(opened(f"acme/p{n}/2026-03-02T09:15Z"), samples=samples)
            store.record(event, targets=("slack",))
        for delivery in store.pending_deliveries("slack"):
            store.mark_delivered(delivery.id)
        commits = []
        sa.event.listen(store._engine, "commit", lambda conn: commits.append(1))
        report = retention.purge(store, older_than_days=0, now=1_900_000_000.0)
        assert (report.events, report.incidents, report.deliveries) == (7, 7, 7)
        assert len(commits) >= 3 * 4  # 7 rows a table, 2 a transaction
        for n in range(7):
            key = f"acme/p{n}/2026-03-02T09:15Z"
            assert "I hate it" not in str(store.get_incident(key).last_event)
            assert "ann" not in str([e.payload for e in store.events(key)])
            assert "ann" not in str([d.payload for d in store.deliveries(key)])
