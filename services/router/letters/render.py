"""Letter templates: sandboxed Jinja2, one file per kind and language, Babel dates (pure).

A template is ``<kind>.<language>.j2`` with two blocks, ``subject`` and ``body``
(plain text). The administration edits them: files in the override folder
(``TRIAGE_LETTERS_TEMPLATES_DIR``) replace the shipped ones of the same name and
may add new kinds. Templates run in Jinja's sandbox (an edited template cannot
reach Python internals); the HTML form is ``_letter.html``, autoescaped, so the
letter's text, which may quote the citizen, never becomes markup.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from pathlib import Path
from typing import Any

import jinja2
from babel.dates import format_date
from jinja2.sandbox import SandboxedEnvironment

from shared.settings import ConfigError

TEMPLATES = Path(__file__).with_name("templates")
LANGUAGES = ("fr", "nl", "en")
LOCALES = {"fr": "fr_BE", "nl": "nl_BE", "en": "en"}
ACKNOWLEDGEMENT = "acknowledgement"
_FILE = re.compile(r"^([a-z][a-z0-9_]{0,62})\.(fr|nl|en)\.j2$")
_BLANKS = re.compile(r"\n{3,}")


class TemplateMissing(LookupError):
    """No template for this kind in this language."""


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str


def letter_language(language: str | None, default: str) -> str:
    """The letter's language: the request's when it is fr, nl or en, else ``default``."""
    short = (language or "").lower()[:2]
    return short if short in LANGUAGES else default


def _as_local(value: datetime | date, tz: tzinfo) -> date:
    if isinstance(value, datetime):
        return value.astimezone(tz).date() if value.tzinfo else value.date()
    return value


def environment(tz: tzinfo, override: Path | None = None) -> SandboxedEnvironment:
    """The sandboxed environment: override folder first, then the shipped templates."""
    folders = [str(p) for p in (override, TEMPLATES) if p is not None]
    env = SandboxedEnvironment(
        loader=jinja2.FileSystemLoader(folders),
        autoescape=jinja2.select_autoescape(["html"], default_for_string=False, default=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        # Templates are read once and checked at start (``check_templates``): a file
        # edited later takes effect at the next restart, after the same check.
        auto_reload=False,
    )

    def dates(fmt: str) -> Any:
        # Dates are shown in the administration's time zone and in the locale of the
        # letter's language (the ``language`` variable ``render`` sets).
        @jinja2.pass_context
        def render(ctx: jinja2.runtime.Context, value: datetime | date) -> str:
            return format_date(_as_local(value, tz), fmt, locale=LOCALES[ctx["language"]])

        return render

    env.filters["long_date"] = dates("long")
    env.filters["full_date"] = dates("full")
    env.filters["weekday"] = dates("EEEE")
    return env


def kinds(env: jinja2.Environment) -> list[str]:
    """The standard letters: every kind with a template in each language."""
    found: dict[str, set[str]] = {}
    for name in env.list_templates():
        if match := _FILE.match(name):
            found.setdefault(match[1], set()).add(match[2])
    return sorted(k for k, langs in found.items() if k != ACKNOWLEDGEMENT and len(langs) == 3)


def _block(template: jinja2.Template, name: str, context: Mapping[str, Any]) -> str:
    if name not in template.blocks:
        raise TemplateMissing(f"{template.name}: no {{% block {name} %}}")
    return "".join(template.blocks[name](template.new_context(dict(context))))


def render(
    env: jinja2.Environment, kind: str, language: str, context: Mapping[str, Any]
) -> Rendered:
    """Subject (one line) and text of ``kind`` in ``language``."""
    try:
        template = env.get_template(f"{kind}.{language}.j2")
    except jinja2.TemplateNotFound as exc:
        raise TemplateMissing(f"no letter {kind!r} in {language!r}") from exc
    values = {**context, "language": language}
    subject = " ".join(_block(template, "subject", values).split())
    text = _BLANKS.sub("\n\n", _block(template, "body", values).strip())
    return Rendered(subject, text + "\n")


def check_templates(
    env: jinja2.Environment, context_for: Callable[[str], Mapping[str, Any]]
) -> None:
    """Render every letter in every language once (``context_for(language)`` gives a
    sample context): an edited template with a mistake stops the router at start,
    with the file's name, instead of failing an agent's draft later."""
    for kind in [ACKNOWLEDGEMENT, *kinds(env)]:
        for language in LANGUAGES:
            try:
                letter = render(env, kind, language, context_for(language))
                to_html(env, letter, {**context_for(language), "language": language})
            except (jinja2.TemplateError, TemplateMissing) as exc:
                raise ConfigError(f"letter template {kind}.{language}.j2: {exc}") from exc


def paragraphs(text: str) -> list[list[str]]:
    """Paragraphs (separated by a blank line) as lists of lines."""
    blocks = re.split(r"\n\s*\n", text.strip())
    return [[line.rstrip() for line in b.splitlines()] for b in blocks if b.strip()]


def to_html(env: jinja2.Environment, letter: Rendered, context: Mapping[str, Any]) -> str:
    template = env.get_template("_letter.html")
    values = {**context, "subject": letter.subject, "paragraphs": paragraphs(letter.text)}
    return template.render(values).strip() + "\n"
