"""Generate the README's configuration table from the services' settings classes.

``python -m shared.settings_doc --write`` refreshes README.md between the
``settings-table`` markers; a unit test fails when the table is stale, so the
documentation of every variable stays true.
"""

from __future__ import annotations

import argparse
import importlib
import re
from pathlib import Path
from typing import Any

from pydantic.fields import FieldInfo

SETTINGS = {
    "ingest": "services.ingest.settings:IngestSettings",
    "classifier": "services.classifier.settings:ClassifierSettings",
    "router": "services.router.settings:RouterSettings",
    "lifecycle": "triage.lifecycle.settings:LifecycleSettings",
}
START, END = "<!-- settings-table:start -->", "<!-- settings-table:end -->"
README = Path(__file__).resolve().parents[1] / "README.md"


def _load(path: str) -> Any:
    module, _, name = path.partition(":")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return None


def _default(info: FieldInfo) -> str:
    if info.default_factory is not None:
        value: Any = info.default_factory()  # type: ignore[call-arg]
    else:
        value = info.default
    if value is None or value == {} or value == []:
        return ""
    if hasattr(value, "get_secret_value"):
        value = value.get_secret_value()
    if isinstance(value, Path) and value.is_relative_to(README.parent):
        value = value.relative_to(README.parent)  # the same on every checkout
    return f"`{value}`"


def _type(info: FieldInfo) -> str:
    text = str(info.annotation).replace("typing.", "").replace("pathlib.", "")
    text = re.sub(r"<class '([\w.]+)'>", r"\1", text)
    text = text.replace("pydantic.types.", "").replace("NoneType", "None")
    return text.replace("|", "or")


def table() -> str:
    rows: dict[str, dict[str, Any]] = {}
    for service, path in SETTINGS.items():
        cls = _load(path)
        if cls is None:
            continue
        for name, info in cls.model_fields.items():
            env = f"TRIAGE_{name.upper()}"
            row = rows.setdefault(env, {"services": [], "info": info})
            row["services"].append(service)
    lines = ["| variable | services | type | default | meaning |", "|---|---|---|---|---|"]
    for env in sorted(rows):
        info = rows[env]["info"]
        services = ", ".join(rows[env]["services"])
        if len(rows[env]["services"]) == len([p for p in SETTINGS.values() if _load(p)]):
            services = "all"
        desc = (info.description or "").replace("|", "\\|")
        lines.append(f"| `{env}` | {services} | {_type(info)} | {_default(info)} | {desc} |")
    return "\n".join(lines)


def render(readme: str) -> str:
    before, _, rest = readme.partition(START)
    _, _, after = rest.partition(END)
    return f"{before}{START}\n{table()}\n{END}{after}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true", help="update README.md in place")
    args = parser.parse_args(argv)
    if args.write:
        README.write_text(render(README.read_text()))
    else:
        print(table())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
