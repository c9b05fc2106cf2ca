"""The classifier service as a real process, on the real broker, with the default model."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from benchmarks.keypoints.data import load_cases
from services.classifier.model.paths import default_model_dir
from services.classifier.settings import ModelPaths
from shared.events import DeadLetter, RequestClassified, RequestReceived, encode, request_id_for
from shared.pii import find, mask
from tests.fixtures.services import ServiceProc, corpus_rows, produce, read_topic
from tests.fixtures.stack import Topics

pytestmark = pytest.mark.skipif(
    not (default_model_dir(ModelPaths().models_dir) / "manifest.json").exists(),
    reason="default model not built: make model",
)


def _events(rows: list[dict[str, str]], tag: str) -> list[RequestReceived]:
    return [
        RequestReceived(
            request_id=request_id_for("demo", f"{tag}-{i}"), source="demo",
            external_id=f"{tag}-{i}", channel="email", body=row["text"],
            received_at=datetime.now(UTC),
        )
        for i, row in enumerate(rows)
    ]  # fmt: skip


def _mixed(n: int) -> list[dict[str, str]]:
    rows = corpus_rows()
    by_lang = {lang: [r for r in rows if r["language"] == lang] for lang in ("fr", "nl", "en")}
    return [by_lang[("fr", "nl", "en")[i % 3]][i // 3] for i in range(n)]


def _classifier(bootstrap: str, topics: Topics, tmp_path: Path, **extra: str) -> ServiceProc:
    env = {
        "TRIAGE_KAFKA_BOOTSTRAP": bootstrap,
        "TRIAGE_CLASSIFIER_MAX_ATTEMPTS": "2",
        **topics.env(),
        **extra,
    }
    return ServiceProc("classifier", env, tmp_path)


def _long_letter() -> RequestReceived:
    """A letter long enough for key points, with identifiers in its key sentences."""
    case = next(c for c in load_cases() if c.id == "fr-02")
    body = case.segments[0].text.replace(
        "la dette de 1.480 €", "la dette de 1.480 € (compte BE68 5390 0754 7034)"
    )
    return RequestReceived(
        request_id=request_id_for("demo", "long-1"), source="demo", external_id="long-1",
        channel="letter", subject=case.subject, body=body, received_at=datetime.now(UTC),
    )  # fmt: skip


async def test_classifies_every_request_without_leaking_identifiers(
    kafka_bootstrap: str, topics: Topics, tmp_path: Path
) -> None:
    rows = _mixed(200)
    events = _events(rows, "mix")
    long_letter = _long_letter()
    service = _classifier(kafka_bootstrap, topics, tmp_path)
    service.start()
    try:
        sent = [*events, long_letter]
        await produce(
            kafka_bootstrap, topics.received, [(e.request_id.encode(), encode(e)) for e in sent]
        )
        records = await read_topic(kafka_bootstrap, topics.classified, at_least=201, wait_s=240)
    finally:
        service.stop()
    results = [RequestClassified.model_validate_json(r.value) for r in records]
    [long_result] = [r for r in results if r.request_id == long_letter.request_id]
    results.remove(long_result)
    points = [p.text for p in long_result.key_points]
    assert 3 <= len(points) <= 7 and all(p in long_letter.body or "[IBAN]" in p for p in points)
    assert "BE68" not in " ".join(points) and any("[IBAN]" in p for p in points)
    body_of = {e.request_id: e.body for e in events}
    for result in results:  # corpus requests: key points only above 150 words, masked
        body = mask(body_of[result.request_id])  # words are counted on the masked text
        assert bool(result.key_points) == (len(body.split()) > 150)
        flat = " ".join(body.split())  # sentences come with their white space folded
        assert all(p.text.removesuffix("…") in flat for p in result.key_points)  # long: cut
        assert all(p.source == "body" and p.page is None for p in result.key_points)
    assert sorted(r.request_id for r in results) == sorted(e.request_id for e in events)
    secrets = {row["text"][s.start : s.end] for row in rows for s in find(row["text"])}
    assert len(secrets) > 20, "the corpus sample should carry identifiers"
    log_text = service.log()
    correct = 0
    label_of = {e.request_id: row["type"] for e, row in zip(events, rows, strict=True)}
    for result in results:
        c = result.classification
        assert c.type and c.urgency and c.language and c.model_version
        assert 0.0 <= c.type_confidence <= 1.0
        assert len(c.explanation.top_types) == 3 and c.explanation.neighbours
        correct += c.type == label_of[result.request_id]
        explanation = c.explanation.model_dump_json()
        assert not [s for s in secrets if s in explanation]
    assert not [s for s in secrets if s in log_text]
    languages = {r.classification.language for r in results}
    assert {"fr", "nl", "en"} <= languages
    print(f"sent=200 classified={len(results)} type_correct_on_training_rows={correct}")


async def test_poison_and_failing_requests_are_deadlettered(
    kafka_bootstrap: str, topics: Topics, tmp_path: Path
) -> None:
    good = _events(_mixed(20), "ok")
    empty = RequestReceived(
        request_id=request_id_for("demo", "empty"), source="demo", external_id="empty",
        channel="web", body="   ", received_at=datetime.now(UTC),
    )  # fmt: skip
    poison = [(b"p1", b"not json at all"), (b"p2", json.dumps({"event_type": "nope"}).encode())]
    messages = [(e.request_id.encode(), encode(e)) for e in good[:10]]
    messages += [*poison, (empty.request_id.encode(), encode(empty))]
    messages += [(e.request_id.encode(), encode(e)) for e in good[10:]]
    service = _classifier(kafka_bootstrap, topics, tmp_path)
    service.start()
    try:
        await produce(kafka_bootstrap, topics.received, messages)
        classified = await read_topic(kafka_bootstrap, topics.classified, at_least=20, wait_s=120)
        dead = await read_topic(kafka_bootstrap, topics.deadletter, at_least=3, wait_s=60)
    finally:
        service.stop()
    assert {RequestClassified.model_validate_json(r.value).request_id for r in classified} == {
        e.request_id for e in good
    }
    letters = [DeadLetter.model_validate_json(r.value) for r in dead]
    assert sorted(letter.reason for letter in letters) == ["processing", "schema", "schema"]
    failing = next(letter for letter in letters if letter.reason == "processing")
    assert failing.attempts == 2 and "no text" in failing.error
    assert failing.original_topic == topics.received and failing.stage == "classifier"
    assert {letter.payload for letter in letters if letter.reason == "schema"} == {
        "not json at all",
        json.dumps({"event_type": "nope"}),
    }
    print(f"sent={len(messages)} classified={len(classified)} deadlettered={len(letters)}")


async def test_kill_mid_stream_loses_nothing(
    kafka_bootstrap: str, topics: Topics, tmp_path: Path
) -> None:
    events = _events(_mixed(300), "kill")
    service = _classifier(kafka_bootstrap, topics, tmp_path, TRIAGE_CLASSIFIER_BATCH_SIZE="16")
    service.start()
    try:
        await produce(
            kafka_bootstrap, topics.received, [(e.request_id.encode(), encode(e)) for e in events]
        )
        for _ in range(600):
            if len(await read_topic(kafka_bootstrap, topics.classified, wait_s=2)) >= 32:
                break
            await asyncio.sleep(0.1)
        service.kill()
        before = len(await read_topic(kafka_bootstrap, topics.classified, wait_s=2))
        service.start()
        records = await read_topic(kafka_bootstrap, topics.classified, at_least=300, wait_s=300)
    finally:
        service.stop()
    ids = [RequestClassified.model_validate_json(r.value).request_id for r in records]
    assert set(ids) == {e.request_id for e in events}
    print(f"sent=300 before_kill={before} results={len(ids)} distinct={len(set(ids))} lost=0")
