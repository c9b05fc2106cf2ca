"""Bad input at scale: schemathesis against the OpenAPI of ingest and of the router API.

Both services run as real processes (broker and PostgreSQL real too; no classifier:
nothing here needs one). Every documented operation gets generated input, valid
(positive) and invalid (negative), with a valid credential, none, and a wrong one.
Checked for every call: no 5xx; every error answer is JSON naming the problem
(``error`` code and ``message``); without a valid credential never a success but
401 (or the 400/422 FastAPI gives the router's unparsable bodies before it looks at
the credential). Checked for
what was refused: ingest published exactly one event per 202 and nothing else
(the topic is read back), and a refused router call changed nothing in
PostgreSQL (a fingerprint of the tables before and after each such call).

Examples are bounded (40 per POST operation of ingest, 12 per router operation, per
generation mode and credential; hypothesis derandomised, no shrinking) so the whole
module takes about a minute.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import pytest
import requests

from shared.events import CLASSIFIED_V1, DOCUMENTS_TOPIC, RECEIVED_V1
from stack.up import LocalStack
from tests.fixtures.factories import classified
from tests.fixtures.services import produce, read_topic

schemathesis = pytest.importorskip("schemathesis")
hypothesis = pytest.importorskip("hypothesis")

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

AUTH_MODES = ("valid", "none", "wrong")
SEEDED = 12


@pytest.fixture(scope="module")
def api_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    local = LocalStack(tmp_path_factory.mktemp("fuzz"), services=("ingest", "router"), fast_db=True)
    try:
        local.start()
        yield local
    finally:
        local.stop()


@dataclass
class Findings:
    """What the generated calls met; problems are collected, then asserted at once."""

    statuses: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    accepted: list[str] = field(default_factory=list)  # request ids of every 202 (repeats kept)

    def problem(self, case: Any, status: int, what: str, body: str) -> None:
        if len(self.problems) < 50:
            self.problems.append(f"{case.operation.label} -> {status}: {what}: {body[:300]}")


def _error_named(resp: requests.Response) -> str | None:
    """None when the error answer is JSON with a non-empty error code and message."""
    try:
        body = resp.json()
    except ValueError:
        return "error answer is not JSON"
    if not isinstance(body, dict):
        return "error answer is not a JSON object"
    if not (isinstance(body.get("error"), str) and body["error"]):
        return "no 'error' code"
    if not (isinstance(body.get("message"), str) and body["message"]):
        return "no 'message'"
    return None


def _headers(mode: str, secret: str) -> dict[str, str]:
    return {
        "valid": {"Authorization": f"Bearer {secret}"},
        "none": {},
        "wrong": {"Authorization": "Bearer not-a-valid-secret"},
    }[mode]


def _fuzz(
    strategy: Any, examples: int, check: Callable[[Any], None], label: str, mode: str
) -> None:
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis.errors import Unsatisfiable

    @given(strategy)
    @settings(
        max_examples=examples, deadline=None, database=None, derandomize=True,
        phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck),
    )  # fmt: skip
    def run(case: Any) -> None:
        check(case)

    try:
        run()
    except Unsatisfiable:
        # nothing to negate in an operation without input (e.g. GET /healthz)
        print(f"  {label} [{mode}]: no negative input to generate")


def _check_common(findings: Findings, case: Any, resp: requests.Response, auth: str) -> None:
    findings.statuses[f"{resp.status_code // 100}xx"] += 1
    if resp.status_code >= 500:
        findings.problem(case, resp.status_code, "server error", resp.text)
    elif resp.status_code >= 400 and (why := _error_named(resp)):
        findings.problem(case, resp.status_code, why, resp.text)
    # Without a valid credential the answer is 401, whatever the body: the credential
    # is checked before the body is read.
    protected = case.operation.path.startswith("/v1/")
    if protected and auth != "valid" and resp.status_code != 401:
        findings.problem(case, resp.status_code, f"expected 401 with auth={auth}", resp.text)


def _record_accepted(findings: Findings, case: Any, resp: requests.Response) -> None:
    if resp.status_code == 202:
        findings.accepted.append(resp.json()["request_id"])
    elif case.operation.path.endswith("batch") and resp.status_code in (200, 503):
        for item in resp.json()["results"]:
            if item["status"] == 202:
                findings.accepted.append(item["request_id"])
            elif not (item.get("error") or {}).get("message"):
                findings.problem(case, item["status"], "batch item error not named", str(item))


def _demo_source(case: Any) -> Any:
    """Positive bodies with the key's own source, so that some are really accepted."""
    body = case.body
    if isinstance(body, dict) and "source" in body:
        body["source"] = "demo"
    if isinstance(body, dict) and isinstance(body.get("requests"), list):
        for item in body["requests"]:
            if isinstance(item, dict):
                item["source"] = "demo"
    return case


@dataclass
class IngestFuzz:
    """Runs the generated calls of one ingest operation, recording every 202."""

    url: str
    key: str
    findings: Findings = field(default_factory=Findings)
    session: requests.Session = field(default_factory=requests.Session)
    calls: int = 0

    def operation(self, op: Any) -> None:
        from schemathesis import GenerationMode

        examples = 40 if op.method.upper() == "POST" else 5
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            strategy = op.as_strategy(mode)
            if mode == GenerationMode.POSITIVE:
                strategy = strategy.map(_demo_source)
            for auth in AUTH_MODES:
                check = partial(self.call, auth=auth, headers=_headers(auth, self.key))
                _fuzz(strategy, examples, check, op.label, mode.value)

    def call(self, case: Any, auth: str, headers: dict[str, str]) -> None:
        self.calls += 1
        resp = case.call(base_url=self.url, session=self.session, headers=headers)
        _check_common(self.findings, case, resp, auth)
        _record_accepted(self.findings, case, resp)


@schemathesis.serializer("message/rfc822")
def _rfc822(ctx: Any, value: Any) -> bytes:
    """Raw e-mails for POST /v1/messages: generated text as it is, anything else as JSON
    (which is no e-mail: a 422 expected)."""
    if isinstance(value, bytes):
        return value
    return value.encode() if isinstance(value, str) else json.dumps(value).encode()


def test_ingest_api_under_generated_input(api_stack: LocalStack) -> None:
    url = api_stack.running["ingest"].url
    fuzz = IngestFuzz(url, api_stack.env["TRIAGE_DEMO_API_KEY"])
    for result in schemathesis.openapi.from_url(f"{url}/openapi.json").get_all_operations():
        fuzz.operation(result.ok())
    findings, calls = fuzz.findings, fuzz.calls
    bootstrap = api_stack.env["TRIAGE_KAFKA_BOOTSTRAP"]
    # plain-text requests on received, requests with files on documents (no extractor here)
    records = [
        *asyncio.run(read_topic(bootstrap, RECEIVED_V1, wait_s=10)),
        *asyncio.run(read_topic(bootstrap, DOCUMENTS_TOPIC, wait_s=5)),
    ]
    published = [r.key.decode() for r in records if r.key]
    unexpected = set(published) - set(findings.accepted)
    print(
        f"[schemathesis ingest] calls={calls} statuses={dict(findings.statuses)} "
        f"accepted={len(findings.accepted)} published={len(published)} "
        f"published_for_refused={len(unexpected)} problems={len(findings.problems)}"
    )
    assert not findings.problems, "\n".join(findings.problems)
    assert findings.accepted, "no generated request was accepted: the check proves nothing"
    assert not unexpected, f"published without a 202: {sorted(unexpected)[:5]}"
    assert len(published) == len(findings.accepted), "one event per 202, no more"


class Db:
    """One asyncpg connection on a private event loop, for the synchronous checks."""

    FINGERPRINT = (
        "SELECT (SELECT count(*) FROM audit_events), (SELECT count(*) FROM corrections),"
        " (SELECT count(*) FROM work_items),"
        " (SELECT coalesce(max(updated_at)::text, '') FROM work_items),"
        " (SELECT coalesce(string_agg(status || queue || coalesce(claimed_by, ''), ','"
        "   ORDER BY request_id), '') FROM work_items)"
    )

    def __init__(self, dsn: str) -> None:
        import asyncpg

        self.loop = asyncio.new_event_loop()
        self.conn = self.loop.run_until_complete(asyncpg.connect(dsn))

    def fetch(self, query: str, *args: Any) -> list[Any]:
        return list(self.loop.run_until_complete(self.conn.fetch(query, *args)))

    def fingerprint(self) -> tuple[Any, ...]:
        """Cheap summary of everything the router API may write."""
        return tuple(self.fetch(self.FINGERPRINT)[0])

    def close(self) -> None:
        self.loop.run_until_complete(self.conn.close())
        self.loop.close()


def _seed_items(stack: LocalStack, db: Db) -> list[str]:
    """Work items for the generated calls to act on, through the router's own consumer."""
    import time

    events = [classified(("energy_aid", "housing")[i % 2], "normal") for i in range(SEEDED)]
    asyncio.run(
        produce(
            stack.env["TRIAGE_KAFKA_BOOTSTRAP"],
            CLASSIFIED_V1,
            [(e.request_id.encode(), e.model_dump_json().encode()) for e in events],
        )
    )
    ids = [e.request_id for e in events]
    deadline = time.monotonic() + 60
    query = "SELECT count(*) FROM work_items WHERE request_id = ANY($1::uuid[])"
    while time.monotonic() < deadline:
        if db.fetch(query, ids)[0][0] == SEEDED:
            return ids
        time.sleep(0.2)
    raise AssertionError("seeded work items did not arrive")


def _router_strategies(op: Any, mode: Any, ids: list[str], queues: list[str]) -> Any:
    """Generated input, plus the same with real item ids / queue names in the path."""
    from hypothesis import strategies as st

    params = {p.name for p in op.path_parameters}
    variants = [op.as_strategy(mode)]
    for name, values in (("item_id", ids), ("request_id", ids), ("queue", queues)):
        if name in params:
            variants += [op.as_strategy(mode, path_parameters={name: v}) for v in values[:3]]
    return st.one_of(*variants)


@dataclass
class RouterFuzz:
    """Runs the generated calls of one router operation; a refused call must not write."""

    url: str
    env: dict[str, str]
    db: Db
    ids: list[str]
    queues: list[str]
    findings: Findings = field(default_factory=Findings)
    session: requests.Session = field(default_factory=requests.Session)
    calls: int = 0
    refused_writes: int = 0

    def operation(self, op: Any) -> None:
        from schemathesis import GenerationMode

        name = "TRIAGE_DEMO_API_KEY" if "/requests/" in op.path else "TRIAGE_DEMO_LEAD_TOKEN"
        examples = 12 if op.path.startswith("/v1/") else 3
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            strategy = _router_strategies(op, mode, self.ids, self.queues)
            for auth in AUTH_MODES:
                headers = _headers(auth, self.env[name])
                check = partial(self.call, auth=auth, headers=headers)
                _fuzz(strategy, examples, check, op.label, mode.value)

    def call(self, case: Any, auth: str, headers: dict[str, str]) -> None:
        self.calls += 1
        before = self.db.fingerprint()
        resp = case.call(base_url=self.url, session=self.session, headers=headers)
        _check_common(self.findings, case, resp, auth)
        if resp.status_code >= 400 and self.db.fingerprint() != before:
            self.refused_writes += 1
            self.findings.problem(case, resp.status_code, "refused call wrote", resp.text)


def test_router_api_under_generated_input(api_stack: LocalStack) -> None:
    url = api_stack.running["router"].url
    db = Db(api_stack.env["TRIAGE_DATABASE_URL"])
    try:
        ids = _seed_items(api_stack, db)
        queues = [str(r[0]) for r in db.fetch("SELECT DISTINCT queue FROM work_items ORDER BY 1")]
        fuzz = RouterFuzz(url, api_stack.env, db, ids, queues)
        for result in schemathesis.openapi.from_url(f"{url}/openapi.json").get_all_operations():
            fuzz.operation(result.ok())
    finally:
        db.close()
    findings = fuzz.findings
    print(
        f"[schemathesis router] calls={fuzz.calls} statuses={dict(findings.statuses)} "
        f"seeded_items={len(ids)} refused_but_wrote={fuzz.refused_writes} "
        f"problems={len(findings.problems)}"
    )
    assert not findings.problems, "\n".join(findings.problems)


def test_input_beyond_the_schema(api_stack: LocalStack) -> None:
    """Hand-made bad bodies a generator rarely builds: each is a named 4xx (or a 202)."""
    url = f"{api_stack.running['ingest'].url}/v1/requests"
    headers = {"Authorization": f"Bearer {api_stack.env['TRIAGE_DEMO_API_KEY']}"}
    good = {"source": "demo", "channel": "web", "body": "x"}

    def body(external_id: str, **fields: object) -> bytes:
        return json.dumps({**good, "external_id": external_id, **fields}).encode()

    cases: dict[str, tuple[bytes, int]] = {
        "deeply nested JSON": (b"[" * 100_000 + b"]" * 100_000, 400),
        "invalid UTF-8": (b'{"body": "\xff"}', 400),
        # the one text policy of ingest: control characters are refused, naming the field
        "NUL in the body text": (body("beyond-nul", body="a\u0000b"), 422),
        # valid JSON, but no Unicode text: nothing downstream could encode it
        "lone surrogate escape": (body("beyond-surrogate").replace(b'"x"', b'"a\\ud800"'), 422),
        "not an object": (b"[]", 422),
        "over the size limit": (body("beyond-big", body="x" * 2_100_000), 413),
        "number as a string field": (body("beyond-7").replace(b'"beyond-7"', b"7"), 422),
    }
    statuses = {}
    for name, (data, expected) in cases.items():
        resp = requests.post(
            url, data=data, headers={**headers, "content-type": "application/json"}
        )
        statuses[name] = resp.status_code
        assert resp.status_code == expected, (name, resp.status_code, resp.text[:300])
        if resp.status_code >= 400:
            assert _error_named(resp) is None, (name, resp.text[:300])
    router = api_stack.running["router"].url
    lead = {"Authorization": f"Bearer {api_stack.env['TRIAGE_DEMO_LEAD_TOKEN']}"}
    for auth in (lead, {}):
        resp = requests.post(
            f"{router}/v1/items/{uuid.uuid4()}/correct",
            data=cases["deeply nested JSON"][0],
            headers={**auth, "content-type": "application/json"},
        )
        statuses[f"router deep JSON{' (no token)' if not auth else ''}"] = resp.status_code
        assert 400 <= resp.status_code < 500 and _error_named(resp) is None, resp.text[:300]
    print(f"[bad input beyond the schema] {statuses}")
