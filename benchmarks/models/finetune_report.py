"""The docs/benchmarks.md section written by ``make bench-finetune``."""

from __future__ import annotations

from typing import Any

from benchmarks.models.finetune_pairs import full_budget_seconds, quiet_seconds

SECTION = "## Fine-tuning the embedder (SetFit-style)"
TASK_NAMES = {
    "demo": "demo corpus, language held out",
    "banking77": "Banking77 80/20",
}
MODE_NAMES = {"concat": "TF-IDF + e5 (production)", "embedding": "e5 alone"}


def _cell(block: dict[str, Any], target: str) -> str:
    if target not in block:
        return "-"
    return f"{block[target]['accuracy']:.3f} / {block[target]['macro_f1']:.3f}"


def _score_rows(tasks: dict[str, Any]) -> list[str]:
    lines = [
        "| benchmark | heads | target | frozen e5 | fine-tuned e5 | gain (accuracy) |",
        "|---|---|---|---:|---:|---:|",
    ]
    for name, task in tasks.items():
        for mode, frozen in task["frozen"].items():
            tuned = task["tuned"][mode]
            for target in frozen:
                gain = tuned[target]["accuracy"] - frozen[target]["accuracy"]
                lines.append(
                    f"| {TASK_NAMES.get(name, name)} | {MODE_NAMES.get(mode, mode)} | {target} "
                    f"| {_cell(frozen, target)} | {_cell(tuned, target)} | {100 * gain:+.1f} pt |"
                )
    return lines


def _time_rows(tasks: dict[str, Any], threads: int) -> list[str]:
    lines = [
        "| benchmark | held out | train rows | pairs (per row) | fine-tuning: wall s (loaded) "
        "| CPU s | idle-machine estimate (s) | SetFit's 20 pairs/row, estimate (min) "
        "| encoding every row: wall s | loss, first / last steps | 1-min load before / after |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, task in tasks.items():
        for fold_name, fold in task["folds"].items():
            t, rows = fold["training"], fold["train_rows"]
            quiet = quiet_seconds(t["train_cpu_s"], threads)
            full = full_budget_seconds(quiet, t["pairs"], rows)
            lines.append(
                f"| {TASK_NAMES.get(name, name)} | {fold_name} | {rows} "
                f"| {t['pairs']} ({t['pairs'] / rows:.2f}) | {t['train_s']:.0f} "
                f"| {t['train_cpu_s']:.0f} | {quiet:.0f} | {full / 60:.0f} | {t['encode_s']:.0f} "
                f"| {t['first_loss']:.3f} / {t['last_loss']:.3f} "
                f"| {t['load_average_1m_before']:.1f} / {t['load_average_1m_after']:.1f} |"
            )
    return lines


def _decision(verdict: dict[str, Any], max_seconds: float) -> str:
    gains = ", ".join(
        f"{TASK_NAMES.get(n, n)} {100 * g:+.1f} pt" for n, g in verdict["gains"].items()
    )
    if verdict["keep"]:
        return (
            f"**Decision: fine-tuning wins** ({gains} of type accuracy with the production "
            f"heads, each fine-tuning under {max_seconds / 60:.0f} min): a candidate option "
            "of `triage train`, to be wired by the lead."
        )
    why = [] if verdict["affordable"] else [f"a fine-tuning took over {max_seconds / 60:.0f} min"]
    if not all(g >= 0.01 - 1e-9 for g in verdict["gains"].values()):
        why.insert(0, "it does not gain one point of type accuracy on every benchmark")
    if verdict["missing"]:
        names = ", ".join(TASK_NAMES.get(n, n) for n in verdict["missing"])
        why.append(f"not measured on {names}")
    return (
        f"**Decision: not kept** ({gains} of type accuracy with the production heads): "
        f"{'; '.join(why)}. `triage train` keeps the frozen embedder."
    )


def _budget_notes(tasks: dict[str, Any], threads: int) -> list[str]:
    """What this run cut to fit the machine, and SetFit's full budget at the measured pace."""
    notes = []
    for name, task in tasks.items():
        recipe, folds = task["recipe"], task["folds"]
        # Scores are means over the held-out languages that ran (all three by default).
        cuts = [f"held out: {', '.join(folds)}"] if name == "demo" else []
        if recipe.get("encode_max_tokens"):
            cuts.append(f"texts cut at {recipe['encode_max_tokens']} tokens when encoding")
        fold = next(iter(folds.values()))
        full_rows = task.get("full_train_rows", fold["train_rows"])
        if full_rows != fold["train_rows"]:
            cuts.append(f"{fold['train_rows']} of the {full_rows} training rows (same per type)")
        t = fold["training"]
        quiet = quiet_seconds(t["train_cpu_s"], threads)
        full = full_budget_seconds(quiet, t["pairs"], full_rows) / 3600
        notes.append(
            f"- {TASK_NAMES.get(name, name)}: {'; '.join(cuts) or 'as specified'}; "
            f"{t['pairs']} pairs; scored on {fold['test_rows']} rows. At the measured pace, "
            "SetFit's 20 pairs per row on all "
            f"{full_rows} training rows would take about {full:.1f} h of an idle 2-core "
            "machine per fine-tuning."
        )
    return notes


def markdown(results: dict[str, Any]) -> str:
    machine = results["machine"]
    recipe = next(iter(results["tasks"].values()))["recipe"]
    lines = [
        SECTION,
        "",
        "`make bench-finetune` (`python -m benchmarks.models.finetune`, issue 18 item 4) "
        "fine-tunes the float e5-small SetFit-style: contrastive pairs from the training rows "
        "(same type: target cosine 1, other type: 0, half each), `CosineSimilarityLoss`, one "
        f"epoch, AdamW lr {recipe['lr']:g} with {recipe['warmup']:.0%} linear warm-up, batch "
        f"{recipe['batch_size']} pairs, texts cut at {recipe['max_seq_length']} tokens while "
        "training (encoding: 512 unless noted below), word-embedding table frozen "
        "(96M of the 118M weights; "
        "SetFit trains it too, but its optimiser state alone would triple memory and step time "
        "on 2 cores). A plain torch loop over sentence-transformers' model and loss: setfit, "
        "datasets and accelerate are not dependencies. The production heads (`fit_heads`, "
        "default `ModelConfig`) are then fitted on the tuned embeddings of the training rows, "
        "and compared with the same heads on the frozen embeddings. Cells: accuracy / macro-F1.",
        "",
        f"Run {machine['date']} on {machine['cpus']} CPUs ({machine['cpu']}), torch "
        f"{machine['threads']} threads, under `nice -n 10`, while four other engineers ran "
        "their own benchmarks and tests on the same two cores: the times below are those of "
        "a loaded machine (see the load averages) and are pessimistic by up to ~2-4x.",
        "",
        *_score_rows(results["tasks"]),
        "",
        *_time_rows(results["tasks"], machine["threads"]),
        "",
        "What this run measured (budgets cut to what the loaded machine could finish):",
        "",
        *_budget_notes(results["tasks"], machine["threads"]),
        "",
        _decision(results["verdict"], results["max_train_s"]),
        "",
    ]
    return "\n".join(lines)
