"""Every setting is documented, and the README's table is the generated one."""

from __future__ import annotations

import importlib

import pytest

from shared import settings_doc


@pytest.mark.parametrize("path", settings_doc.SETTINGS.values())
def test_every_setting_has_a_description(path: str) -> None:
    module, _, name = path.partition(":")
    cls = getattr(importlib.import_module(module), name)
    missing = [f for f, info in cls.model_fields.items() if not info.description]
    assert not missing, f"{name}: describe {missing}"


def test_readme_table_is_current() -> None:
    readme = settings_doc.README.read_text()
    assert settings_doc.render(readme) == readme, "run: python -m shared.settings_doc --write"
