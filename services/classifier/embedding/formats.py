"""What serving knows about the embedder folders that ``triage build-embedder`` makes.

The build toolchain (``embedding/build/``) writes these names and format tags;
the serving embedders only check them. Both import them from here, so serving
never imports the build code (and its heavy, optional tools).
"""

from __future__ import annotations

from pathlib import Path

# ``format`` of the build manifest (checksums.BUILD_MANIFEST) of each kind of folder.
E5_BUILD_FORMAT = "triage-e5-sentence-transformers"
ONNX_BUILD_FORMAT = "triage-e5-onnx-int8"

# Folder names under the cache's models/ folder. The int8 copy is a sibling, not a
# child, of the float32 one: that folder's checksum covers every file under it.
E5_FOLDER_NAME = "multilingual-e5-small-st"
# The quantisation preset of the default int8 copy (see build/onnx_export.PRESETS).
DEFAULT_PRESET = "portable"
# A folder is loadable by sentence-transformers once this file is in place.
BUILT_MARKER = "modules.json"


def onnx_folder_name(preset: str = DEFAULT_PRESET) -> str:
    return f"multilingual-e5-small-onnx-{preset}"


def e5_dir(models_dir: Path) -> Path:
    """The float32 e5 folder that ``triage build-embedder`` builds under ``models_dir``."""
    return models_dir / E5_FOLDER_NAME


def onnx_dir(models_dir: Path, preset: str | None = None) -> Path:
    """The int8 ONNX e5 folder (default preset unless ``preset``) under ``models_dir``."""
    return models_dir / onnx_folder_name(preset or DEFAULT_PRESET)


def is_built(folder: Path) -> bool:
    return (folder / BUILT_MARKER).is_file()
