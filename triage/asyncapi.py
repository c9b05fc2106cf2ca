"""The AsyncAPI 3 document of Triage's topics, generated from the code.

``python -m triage.asyncapi --write`` refreshes ``docs/asyncapi.json``; the unit
test fails when the file differs from what this module generates.

FastStream writes the document from a broker declaring who sends and who
receives each topic. The payload schemas are the versioned event contracts of
``shared/events.py``; the topic names and consumer groups are the services'
setting defaults; keys and headers are what the pipeline sets on every record
(``EVENT_TYPE_HEADER``, the request id as key), added as Kafka bindings since
FastStream has no parameter for them.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI
from pydantic import BaseModel

from services.classifier.settings import ClassifierSettings
from services.router.settings import RouterSettings
from shared.events import EVENT_TYPE_HEADER, DeadLetter, RequestClassified, RequestReceived

DOCUMENT = Path(__file__).resolve().parents[1] / "docs" / "asyncapi.json"
DESCRIPTION = (
    "Requests flow ingest -> received -> classifier -> classified -> router; a stage that"
    " gives up on a record sends it to the dead-letter topic. Delivery is at least once:"
    " consumers are idempotent on the request id."
)
REQUEST_KEY = {"type": "string", "format": "uuid", "description": "the request id"}
LETTER_KEY = {"type": "string", "description": "the original record's key (a request id)"}


@dataclass(frozen=True)
class Flow:
    """One service sending (group None) or receiving (in ``group``) one topic."""

    name: str
    topic: str
    event: type[BaseModel]
    description: str
    group: str | None = None


def flows() -> list[Flow]:
    k, r = ClassifierSettings.model_fields, RouterSettings.model_fields
    received, classified = k["topic_received"].default, k["topic_classified"].default
    letters, router = k["topic_deadletter"].default, r["router_group"].default
    documents = k["topic_documents"].default
    return [
        Flow("ingest-sends-received", received, RequestReceived,
             "ingest publishes each accepted plain-text request (a 202 follows the broker's ack)"),
        Flow("ingest-sends-documents", documents, RequestReceived,
             "ingest publishes each accepted request with files (stored in PostgreSQL,"
             " referenced by the event) for text extraction"),
        Flow("extractor-receives-documents", documents, RequestReceived,
             "the extraction stage reads the files, adds their text page by page",
             k["extract_group_id"].default),
        Flow("extractor-sends-received", received, RequestReceived,
             "the request with its extracted text, for the classifier"),
        Flow("classifier-receives-received", received, RequestReceived,
             "the classifier classifies it", k["classifier_group_id"].default),
        Flow("router-receives-received", received, RequestReceived,
             "the router records it for the 'received' status", f"{router}-received"),
        Flow("classifier-sends-classified", classified, RequestClassified,
             "the classification and its explanation, with the request"),
        Flow("router-receives-classified", classified, RequestClassified,
             "the router makes one work item per request id", router),
        Flow("classifier-sends-deadletter", letters, DeadLetter,
             "a record the classifier gave up on, with its original bytes"),
        Flow("router-sends-deadletter", letters, DeadLetter,
             "a record the router gave up on, with its original bytes"),
        Flow("router-receives-deadletter", letters, DeadLetter,
             "the router records it for the 'failed' status", f"{router}-deadletters"),
    ]  # fmt: skip


def _declare(broker: KafkaBroker, flow: Flow) -> None:
    if flow.group is None:
        broker.publisher(flow.topic, title=flow.name, description=flow.description,
                         schema=flow.event)  # fmt: skip
        return

    async def handler(body: flow.event) -> None:  # type: ignore[name-defined]
        """Documentation only: never started."""

    handler.__annotations__["body"] = flow.event
    broker.subscriber(flow.topic, group_id=flow.group, title=flow.name,
                      description=flow.description)(handler)  # fmt: skip


def document() -> dict[str, Any]:
    broker = KafkaBroker("kafka-bootstrap:9092")  # never connected
    for flow in flows():
        _declare(broker, flow)
    spec = AsyncAPI(broker, title="Triage events", version="1", schema_version="3.0.0",
                    description=DESCRIPTION)  # fmt: skip
    data: dict[str, Any] = json.loads(spec.to_specification().to_json())
    _add_bindings(data)
    return data


def _add_bindings(data: dict[str, Any]) -> None:
    """Keys, headers and consumer groups, which FastStream does not write."""
    by_name = {flow.name: flow for flow in flows()}
    for name, message in data["components"]["messages"].items():
        flow = by_name[name.split(":")[0]]
        event_type = flow.event.model_fields["event_type"].default
        message["headers"] = {
            "type": "object",
            "properties": {EVENT_TYPE_HEADER: {"type": "string", "const": event_type}},
            "required": [EVENT_TYPE_HEADER],
        }
        key = LETTER_KEY if flow.event is DeadLetter else REQUEST_KEY
        message["bindings"] = {"kafka": {"key": key, "bindingVersion": "0.5.0"}}
    for name, operation in data["operations"].items():
        group = by_name[name].group
        if group is not None:
            operation["bindings"] = {"kafka": {"groupId": {"type": "string", "enum": [group]},
                                               "bindingVersion": "0.5.0"}}  # fmt: skip


def render() -> str:
    return json.dumps(document(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true", help=f"rewrite {DOCUMENT.name}")
    args = parser.parse_args(argv)
    text = render()
    if args.write:
        DOCUMENT.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
