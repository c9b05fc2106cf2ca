"""Markdown tables of the heads as ``triage train`` builds them (``heads.py``)."""

from __future__ import annotations

from typing import Any

LEVELS = ("critical", "high", "normal", "medium", "low")


def _pair(block: dict[str, Any] | None) -> str:
    return "–" if not block else f"{block['accuracy']:.3f} / {block['macro_f1']:.3f}"


def choice_table(tasks: dict[str, Any]) -> list[str]:
    lines = [
        "| dataset | target | TF-IDF alone | chosen | recipe chosen | cross-validated "
        "macro-F1: chosen / TF-IDF (noise) | held-out guard | choice + fit (s) |",
        "|---|---|---:|---:|---|---:|---|---:|",
    ]
    for name, task in tasks.items():
        chosen = task.get("chosen")
        if not chosen:
            continue
        for target in task["targets"]:
            sel = chosen["selection"]["heads"].get(target)
            if sel is None:
                continue
            table = {row["recipe"]: row for row in sel["table"]}
            best, base = table[sel["best"]], table[sel["baseline"]]
            guard = sel.get("guard")
            kept = "same recipe" if guard is None else ("kept" if guard["kept"] else "fell back")
            lines.append(
                f"| {name} | {target} | {_pair(task['variants']['tfidf'].get(target))} "
                f"| {_pair(chosen.get(target))} | {chosen['recipes'].get(target, '–')} "
                f"| {best['macro_f1']:.3f} / {base['macro_f1']:.3f} ({sel['noise']:.3f}) "
                f"| {kept} | {chosen['fit_s']:.0f} |"
            )
    return lines


def unknown_table(tasks: dict[str, Any]) -> list[str]:
    lines = [
        "| dataset | model | rule | accuracy | in-scope accuracy | out-of-scope recall "
        "| in-scope sent to review |",
        "|---|---|---|---:|---:|---:|---:|",
    ]
    for name, task in tasks.items():
        base, chosen = task["variants"]["tfidf"].get("unknown"), task.get("chosen")
        if base is None or not chosen:
            continue
        rows = [("TF-IDF alone", "`oos` predicted", base)]
        rows.append(("chosen", "`oos` predicted", chosen["unknown"]["argmax"]))
        for rate, block in chosen["unknown"].items():
            if rate != "argmax":
                rule = f"`oos` or top probability < {block['threshold']:.3f} (rate {rate})"
                rows.append(("chosen", rule, block))
        for model, rule, b in rows:
            lines.append(
                f"| {name} | {model} | {rule} | {b['accuracy']:.3f} | {b['in_scope_accuracy']:.3f} "
                f"| {b.get('oos_recall', float('nan')):.3f} | {b['in_scope_flagged']:.3f} |"
            )
    return lines


def _recalls(recall: dict[str, float]) -> str:
    return ", ".join(f"{lvl} {recall[lvl]:.2f}" for lvl in LEVELS if lvl in recall)


def urgency_table(tasks: dict[str, Any]) -> list[str]:
    lines = ["| dataset | model | macro-F1 | recall per level |", "|---|---|---:|---|"]
    for name, task in tasks.items():
        chosen = task.get("chosen") or {}
        base = task["variants"]["tfidf"].get("urgency")
        for model, block in (("TF-IDF alone", base), ("chosen", chosen.get("urgency"))):
            if block:
                recipe = f" ({chosen['recipes']['urgency']})" if model == "chosen" else ""
                lines.append(
                    f"| {name} | {model}{recipe} | {block['macro_f1']:.3f} "
                    f"| {_recalls(block['recall'])} |"
                )
    return lines


def demo_table(demo: dict[str, Any]) -> list[str]:
    if not demo or "error" in demo:
        return [f"Not run: {demo.get('error', 'no embedder')}." if demo else "Not run."]
    lines = [
        f"Demo corpus, 80/20 split stratified by type ({demo['train_rows']} / "
        f"{demo['test_rows']} rows); urgency after the cue lexicon raised it, as served.",
        "",
        "| recipe | language | rows | type accuracy / macro-F1 | urgency accuracy / macro-F1 |",
        "|---|---|---:|---:|---:|",
    ]
    for name in ("before", "now"):
        block = demo[name]
        label = f"{name}: type {block['recipes']['type']}, urgency {block['recipes']['urgency']}"
        for lang, b in block["per_language"].items():
            lines.append(
                f"| {label} | {lang} | {b['rows']} | {_pair(b['type'])} | {_pair(b['urgency'])} |"
            )
        lines.append(
            f"| {label} | all | {demo['test_rows']} | {_pair(block['type'])} "
            f"| {_pair(block['urgency_after_cues'])} |"
        )
    lines += ["", "| recipe | urgency recall per level: model alone | after cues | fit (s) |"]
    lines.append("|---|---|---|---:|")
    for name in ("before", "now"):
        block = demo[name]
        lines.append(
            f"| {name} | {_recalls(block['urgency']['recall'])} "
            f"| {_recalls(block['urgency_after_cues']['recall'])} | {block['fit_s']:.0f} |"
        )
    return lines


def render(results: dict[str, Any]) -> list[str]:
    tasks = results["tasks"]
    return [
        "### Recipe chosen per head (as `triage train`) vs TF-IDF alone",
        "",
        "Accuracy / macro-F1 on the held-out split. The choice cross-validates (3 folds, "
        "stratified, at most 3,000 training rows) TF-IDF, the embedding and both with "
        "C in {1, 10, 100} (urgency: also with the cue-lexicon features and the ordinal "
        "decision), then the held-out part of the training rows guards it against TF-IDF "
        "alone (noise: std over folds of the per-fold difference); the time includes it.",
        "",
        *choice_table(tasks),
        "",
        "### Unknown type (CLINC150 `val`, 100 out-of-scope requests)",
        "",
        "The threshold is calibrated on the training rows only: the quantile `rate` of "
        "the top probability of held-out rows of known types.",
        "",
        *unknown_table(tasks),
        "",
        "### Urgency per level (held-out split)",
        "",
        *urgency_table(tasks),
        "",
        "### Default demo model: recipe before this change and now",
        "",
        *demo_table(results.get("demo") or {}),
    ]
