"""docs/asyncapi.json is the document generated from the code (issue 13, item 8)."""

from __future__ import annotations

import json

from shared.events import EVENT_TYPE_HEADER, REGISTRY
from shared.settings import KafkaSettings
from triage import asyncapi


def test_published_document_is_current() -> None:
    published = asyncapi.DOCUMENT.read_text(encoding="utf-8")
    assert published == asyncapi.render(), "run: python -m triage.asyncapi --write"


def test_document_covers_every_topic_event_and_group() -> None:
    doc = json.loads(asyncapi.render())
    assert doc["asyncapi"] == "3.0.0"
    settings = KafkaSettings()
    topics = {channel["address"] for channel in doc["channels"].values()}
    assert topics == {settings.topic_received, settings.topic_classified,
                      settings.topic_deadletter, settings.topic_documents}  # fmt: skip
    schemas = doc["components"]["schemas"]
    assert {model.__name__ for model in REGISTRY.values()} <= schemas.keys()
    groups = {
        op["bindings"]["kafka"]["groupId"]["enum"][0]
        for op in doc["operations"].values()
        if op["action"] == "receive"
    }
    assert groups == {"triage-classifier", "triage-router", "triage-router-received",
                      "triage-router-deadletters", "triage-extractor"}  # fmt: skip
    for message in doc["components"]["messages"].values():
        assert EVENT_TYPE_HEADER in message["headers"]["required"]
        assert message["bindings"]["kafka"]["key"]["type"] == "string"
