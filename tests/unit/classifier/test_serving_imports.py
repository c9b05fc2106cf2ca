"""Serving never imports training or the embedder build toolchain (read, not imported)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

CLASSIFIER = Path(__file__).resolve().parents[3] / "services" / "classifier"
# Only these two may import anything: training imports model/, never the reverse.
EXEMPT = (CLASSIFIER / "training", CLASSIFIER / "embedding" / "build")
FORBIDDEN = ("services.classifier.training", "services.classifier.embedding.build")


def _serving_modules() -> list[Path]:
    return sorted(
        path
        for path in CLASSIFIER.rglob("*.py")
        if not any(path.is_relative_to(folder) for folder in EXEMPT)
    )


def _imported(tree: ast.AST) -> list[str]:
    """Every module name an import statement anywhere in ``tree`` may load."""
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            # ``from services.classifier import training`` names the package in the alias.
            names += [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
    return names


def _forbidden(name: str) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in FORBIDDEN)


def test_the_scan_sees_the_serving_modules() -> None:
    found = {path.relative_to(CLASSIFIER).as_posix() for path in _serving_modules()}
    assert {"app.py", "pipeline.py", "model/loading.py", "embedding/factory.py"} <= found
    assert not any(name.startswith(("training/", "embedding/build/")) for name in found)


@pytest.mark.parametrize(
    "path", _serving_modules(), ids=lambda p: p.relative_to(CLASSIFIER).as_posix()
)
def test_serving_module_imports_no_training_or_build_code(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    bad = sorted({name for name in _imported(tree) if _forbidden(name)})
    assert not bad, f"{path.relative_to(CLASSIFIER)} imports {bad}"


def test_the_check_catches_both_import_forms() -> None:
    tree = ast.parse(
        "def f():\n"
        "    from services.classifier import training\n"
        "    import services.classifier.embedding.build.cli\n"
    )
    assert [n for n in _imported(tree) if _forbidden(n)] == [
        "services.classifier.training",
        "services.classifier.embedding.build.cli",
    ]
