"""Keep torch out of the serving process (about 200 MB of resident memory).

The int8 ONNX embedder needs neither torch nor sentence-transformers, but
importing ``skops.io`` (how model heads are loaded) lists every scikit-learn
estimator with ``sklearn.utils.discovery.all_estimators``, which walks every
scikit-learn package and so imports its vendored array-API shim for torch,
which imports torch itself. ``pkgutil.walk_packages`` skips a package whose
import fails, so refusing torch for the length of that one import is enough;
once skops is imported the list is built and nothing else asks for torch.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib.machinery import ModuleSpec
from types import ModuleType

BLOCKED = "torch"


class RefuseTorch:
    """A meta-path finder that makes ``import torch`` fail (ImportError)."""

    def find_spec(
        self, name: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if name == BLOCKED or name.startswith(BLOCKED + "."):
            raise ImportError(f"{name} is not imported by the serving process")
        return None


@contextmanager
def refusing_torch() -> Iterator[None]:
    """``import torch`` fails inside the block (unless torch is already imported)."""
    if BLOCKED in sys.modules:  # training, benchmarks: refusing its submodules would break it
        yield
        return
    finder = RefuseTorch()
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)


def import_skops() -> None:
    """Import ``skops.io`` without pulling torch in (a no-op once either is imported)."""
    with refusing_torch():
        importlib.import_module("skops.io")
