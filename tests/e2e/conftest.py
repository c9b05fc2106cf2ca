"""One whole local stack (broker, PostgreSQL, ingest, classifier, router) per e2e module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from services.classifier.model.paths import default_model_dir
from services.classifier.settings import ModelPaths
from stack.up import LocalStack


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    if not (default_model_dir(ModelPaths().models_dir) / "manifest.json").exists():
        pytest.fail("the default model is not built: run `make model` (make test does)")
    local = LocalStack(tmp_path_factory.mktemp("stack"), fast_db=True)
    try:
        local.start()
        yield local
    finally:
        local.stop()
