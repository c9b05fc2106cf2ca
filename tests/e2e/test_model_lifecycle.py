"""The model's life in production on the real stack (issue 16), start to finish.

Requests are classified by version A; agents correct and confirm them; ``triage
retrain`` makes B with its report; a deliberately worse candidate C (trained on
rotated labels) is refused by ``triage promote`` with the numbers; B is promoted
while requests keep flowing, and every classifier switches without a restart;
``triage rollback`` restores A. Nothing is lost or duplicated: the counts are printed.

The models use the weight-free ``hashing`` embedder (``testing/hashing.py``), as
the fault tier does: this is about the lifecycle, not accuracy, and retraining
with e5 on two shared cores would take minutes.
"""

from __future__ import annotations

import asyncio
import csv
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
import pytest

from stack.up import LocalStack
from tests.faults.support import Tally, bodies, count, post_all, report, wait_queued, wait_until
from tests.fixtures.services import corpus_rows

DIM = "64"


def triage(stack: LocalStack, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "triage.cli", *args]
    return subprocess.run(command, env=stack.env, capture_output=True, text=True, timeout=600)


def write_cases(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def rotated(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """Every type and urgency replaced by the next one: a model that learns this is wrong."""
    types = sorted({r["type"] for r in rows})
    urgencies = sorted({r["urgency"] for r in rows})

    def shift(value: str, values: list[str]) -> str:
        return values[(values.index(value) + 1) % len(values)]

    return [
        {**r, "type": shift(r["type"], types), "urgency": shift(r["urgency"], urgencies)}
        for r in rows
    ]


@pytest.fixture(scope="module")
def model_a(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("model-a")
    data = write_cases(folder / "corpus.csv", corpus_rows())
    out = folder / "model"
    result = subprocess.run(
        [sys.executable, "-m", "triage.cli", "train", "--data", str(data), "--out", str(out),
         "--embedder", "hashing", "--embedder-path", DIM, "--features", "embedding",
         "--no-refit", "--no-progress", "--log-level", "WARNING"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return out


@pytest.fixture(scope="module")
def lifecycle(tmp_path_factory: pytest.TempPathFactory, model_a: Path) -> Iterator[LocalStack]:
    state = tmp_path_factory.mktemp("lifecycle")
    env = {
        "TRIAGE_MODEL_DIR": str(model_a),
        "TRIAGE_EMBEDDER_PATH": DIM,
        "TRIAGE_MODEL_STORE": str(state / "store"),
        "TRIAGE_CLASSIFIER_MODEL_POLL_S": "0.5",
        # 18 held-out cases: one case moves macro-F1 by several points, so the margins
        # are wide here; the rotated-label model is still far outside them
        "TRIAGE_PROMOTE_MAX_DROP_TYPE_F1": "0.2",
        "TRIAGE_PROMOTE_MAX_DROP_URGENCY_F1": "0.2",
        "TRIAGE_PROMOTE_MAX_DROP_CRITICAL_RECALL": "0.2",
    }
    local = LocalStack(state, fast_db=True, extra_env=env)
    try:
        local.start()
        yield local
    finally:
        local.stop()


def version_in(output: str, prefix: str) -> str:
    match = re.search(prefix + r" (m-[0-9a-f]{16})", output)
    assert match, output
    return match[1]


async def versions_of(dsn: str, ids: list[str]) -> dict[str, str]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT request_id::text, model_version FROM work_items"
            " WHERE request_id = ANY($1::uuid[])",
            ids,
        )
    finally:
        await conn.close()
    return {r["request_id"]: r["model_version"] for r in rows}


async def serving(stack: LocalStack) -> str:
    async with httpx.AsyncClient(base_url=stack.running["classifier"].url) as client:
        text = (await client.get("/metrics")).text
    match = re.search(r'triage_model_info\{version="([^"]+)"\}', text)
    return match[1] if match else ""


async def send(stack: LocalStack, tag: str, n: int, tally: Tally | None = None) -> Tally:
    items = bodies(tag, n)
    url, key = stack.running["ingest"].url, stack.env["TRIAGE_DEMO_API_KEY"]
    tally = await post_all(url, key, items, concurrency=8, tally=tally)
    assert len(tally.accepted) == n, tally.refused
    counts = await wait_queued(
        stack.env["TRIAGE_DATABASE_URL"], tag, list(tally.accepted.values()), 120
    )
    assert counts.queued == n and counts.dup_free, counts
    return tally


async def label(stack: LocalStack, tally: Tally) -> tuple[int, int]:
    """A lead gives every item its true label: confirm when the model was right."""
    rows = corpus_rows()
    lead = {"Authorization": f"Bearer {stack.env['TRIAGE_DEMO_LEAD_TOKEN']}"}
    confirmed = corrected = 0
    async with httpx.AsyncClient(base_url=stack.running["router"].url, headers=lead) as client:
        for external_id, request_id in sorted(tally.accepted.items()):
            truth = rows[int(external_id.rsplit("-", 1)[1]) % len(rows)]
            item = (await client.get(f"/v1/items/{request_id}")).json()
            url = f"/v1/items/{request_id}"
            if (item["type"], item["urgency"]) == (truth["type"], truth["urgency"]):
                answer = await client.post(f"{url}/confirm")
                confirmed += 1
            else:
                fix = {"type": truth["type"], "urgency": truth["urgency"]}
                answer = await client.post(f"{url}/correct", json=fix)
                corrected += 1
            assert answer.status_code == 200, answer.text
    return confirmed, corrected


SWAP_S = 120  # how long a hot swap may take: loading a model, maybe after a shadow's


@pytest.mark.timeout(1500)  # three trainings on two shared cores
async def test_retrain_gate_promote_hot_swap_and_rollback(
    lifecycle: LocalStack, tmp_path: Path
) -> None:
    stack, dsn = lifecycle, lifecycle.env["TRIAGE_DATABASE_URL"]
    classifier_pid = stack.running["classifier"].proc.pid  # type: ignore[union-attr]
    registered = triage(stack, "models", "register", stack.env["TRIAGE_MODEL_DIR"],
                        "--activate", "--by", "admin")  # fmt: skip
    assert registered.returncode == 0, registered.stderr
    version_a = version_in(registered.stdout, "registered:")

    # 1. version A classifies; agents confirm what it got right and correct the rest
    first = await send(stack, "life-a", 60)
    assert set((await versions_of(dsn, list(first.accepted.values()))).values()) == {version_a}
    confirmed, corrected = await label(stack, first)

    # 2. retrain: candidate B, with its report
    today = datetime.now(UTC).date().isoformat()
    retrained = triage(stack, "retrain", "--since", today, "--by", "admin")
    assert retrained.returncode == 0, retrained.stderr
    version_b = version_in(retrained.stdout, "candidate")
    report_dir = Path(stack.env["TRIAGE_MODEL_STORE"]) / "reports" / version_b
    assert (report_dir / "comparison.json").is_file()
    assert (report_dir / "candidate" / "type_confusion.png").is_file()
    assert (report_dir / "active" / "metrics.json").is_file()

    # 3. a deliberately worse candidate is refused, with the numbers
    bad = write_cases(tmp_path / "rotated.csv", rotated(corpus_rows()))
    worse = triage(stack, "retrain", "--since", today, "--base", str(bad))
    assert worse.returncode == 0, worse.stderr
    version_c = version_in(worse.stdout, "candidate")
    refused = triage(stack, "promote", version_c, "--by", "admin")
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "refused" in refused.stderr and "WORSE" in refused.stderr
    assert re.search(r"type_macro_f1 +candidate \d\.\d{3} +active \d\.\d{3}", refused.stderr)

    shadow = triage(stack, "models", "shadow", version_c, "on", "--by", "admin")
    assert shadow.returncode == 0, shadow.stderr

    # 4. B is promoted while requests keep flowing; every later request carries B
    flowing = Tally()
    sender = asyncio.create_task(send(stack, "life-ab", 300, flowing))
    await wait_until(lambda: flowing.sent >= 100, 60, "the first 100 requests")
    promoted = await asyncio.to_thread(triage, stack, "promote", version_b, "--by", "admin")
    assert promoted.returncode == 0, promoted.stderr
    await sender
    # loading a model takes ~10 s on an idle machine (its 33 MB TF-IDF vocabulary), more
    # under load, and the watcher may still be loading the shadow C it was asked for
    # just before (CI: C 22 s, then B): 30 s was seen too short
    await wait_until(
        lambda: serves(stack, version_b), SWAP_S, f"the classifier to serve {version_b}"
    )
    during = set((await versions_of(dsn, list(flowing.accepted.values()))).values())
    assert during <= {version_a, version_b}, during
    later = await send(stack, "life-b", 60)
    assert set((await versions_of(dsn, list(later.accepted.values()))).values()) == {version_b}
    shadowed = await shadow_count(stack, version_c)
    assert shadowed >= 60  # C scored the later requests beside B, routing none of them
    earlier = await versions_of(dsn, list(first.accepted.values()))
    assert set(earlier.values()) == {version_a}  # decided by A, and they say so

    # 5. rollback restores A, in the same classifier process
    rolled = triage(stack, "rollback", "--by", "admin")
    assert rolled.returncode == 0, rolled.stderr
    await wait_until(
        lambda: serves(stack, version_a), SWAP_S, f"the classifier to serve {version_a}"
    )
    after = await send(stack, "life-a2", 60)
    assert set((await versions_of(dsn, list(after.accepted.values()))).values()) == {version_a}
    assert stack.running["classifier"].proc.pid == classifier_pid  # type: ignore[union-attr]
    listing = triage(stack, "models", "list")
    assert f"{version_a}  active" in listing.stdout and f"{version_b}  retired" in listing.stdout

    # nothing lost, nothing duplicated
    totals = {"sent": 0, "accepted": 0, "queued": 0, "duplicates": 0}
    for tag, tally in (("life-a", first), ("life-ab", flowing), ("life-b", later),
                       ("life-a2", after)):  # fmt: skip
        counts = await count(dsn, tag, list(tally.accepted.values()))
        totals["sent"] += tally.sent
        totals["accepted"] += len(tally.accepted)
        totals["queued"] += counts.queued
        totals["duplicates"] += counts.duplicates
    report(
        "model-lifecycle", A=version_a, B=version_b, refused=version_c, confirmed=confirmed,
        corrected=corrected, during_swap="+".join(sorted(during)), shadowed=shadowed, **totals,
        lost=totals["accepted"] - totals["queued"],
    )  # fmt: skip
    assert totals["accepted"] == totals["queued"] == totals["sent"]
    assert totals["duplicates"] == 0


async def shadow_count(stack: LocalStack, version: str) -> float:
    async with httpx.AsyncClient(base_url=stack.running["classifier"].url) as client:
        text = (await client.get("/metrics")).text
    pattern = (
        r'triage_classifier_shadow_predictions_total\{agreed="\w+",head="type",'
        rf'model_version="{version}"\}} ([0-9.e+]+)'
    )
    return sum(float(v) for v in re.findall(pattern, text))


async def serves(stack: LocalStack, version: str) -> bool:
    return await serving(stack) == version
