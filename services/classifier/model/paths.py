"""Where the demo model built by ``triage default-model`` is found.

``<models_dir>/current.json`` points at the last default model built (and the
``default`` symlink too, as a convenience); the classifier serves that model
when no ``model_dir`` is configured. ``models_dir`` is ``ModelPaths.models_dir``.
"""

from __future__ import annotations

import json
from pathlib import Path

from services.classifier.model.artifact import MANIFEST

POINTER = "current.json"
LINK = "default"


def resolve_default_model(models_dir: Path) -> Path | None:
    """The directory of the current default model, or None when none was built."""
    try:
        pointer = json.loads((models_dir / POINTER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    path = Path(pointer.get("path", ""))
    return path if (path / MANIFEST).is_file() else None


def default_model_dir(models_dir: Path) -> Path:
    """The demo model `make model` built last, else where its symlink would be."""
    return resolve_default_model(models_dir) or models_dir / LINK
