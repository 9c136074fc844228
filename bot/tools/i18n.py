"""Maintain the gettext catalogs with Babel: ``python -m bot.tools.i18n update|compile|check``.

- ``update``: extract every ``_("…")`` from bot/ and surveys/ (Python files and the web
  workspace's Jinja2 templates) into the template and merge it
  into the vi and en catalogs (en gets identity translations filled in).
- ``compile``: write the .mo files the bot loads.
- ``check``: exit 1 when a message is untranslated, fuzzy, obsolete or the .mo is stale.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po, write_po

from bot.i18n import DOMAIN, LANGUAGES, LOCALE_DIR

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("bot", "surveys")
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2), "gettext": None}


def extract() -> Catalog:
    """A template catalog of every marked text in the sources."""
    template = Catalog(project="motcua", domain=DOMAIN)
    for source in SOURCES:
        for filename, lineno, message, comments, context in extract_from_dir(
            ROOT / source,
            method_map=[("**.py", "python"), ("**/templates/**.html", "jinja2")],
            options_map={"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}},
            keywords=KEYWORDS,
            comment_tags=("i18n:",),
        ):
            template.add(
                message,
                None,
                [(f"{source}/{filename}", lineno)],
                auto_comments=comments,
                context=context,
            )
    return template


def po_path(language: str) -> Path:
    """Where the catalog of `language` lives."""
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def load(language: str) -> Catalog:
    """The catalog of `language`, or an empty one."""
    path = po_path(language)
    if not path.exists():
        return Catalog(locale=language, domain=DOMAIN)
    with path.open("rb") as handle:
        return read_po(handle, locale=language, domain=DOMAIN)


def save(catalog: Catalog, language: str) -> None:
    """Write the .po of `language`."""
    path = po_path(language)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        # Sorted, and locations without line numbers: a text added on one branch does not
        # collide with another branch's edits, so catalogs merge like the code does.
        write_po(
            handle,
            catalog,
            width=100,
            sort_output=True,
            include_lineno=False,
            omit_header=False,
        )


def mo_bytes(catalog: Catalog) -> bytes:
    """The compiled form of `catalog`."""
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    return buffer.getvalue()


def _translations(catalog: Catalog) -> dict[object, object]:
    """What a compiled catalog translates, without its header (which names the Babel version
    that wrote it, so comparing bytes would call every catalog stale after a Babel upgrade)."""
    found: dict[object, object] = {
        (message.context, _hashable(message.id)): _hashable(message.string)
        for message in catalog
        if message.id
    }
    found["plural forms"] = catalog.plural_forms
    return found


def _hashable(value: object) -> object:
    """Plural messages come back from a .mo as lists; compare them as tuples."""
    return tuple(value) if isinstance(value, list | tuple) else value


def update() -> None:
    """Merge the extracted template into every language's catalog."""
    template = extract()
    for language in LANGUAGES:
        catalog = load(language)
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        if language == "en":
            for message in catalog:
                if isinstance(message.id, tuple | list):  # plural: singular and plural forms
                    if not isinstance(message.string, tuple | list) or not all(message.string):
                        message.string = tuple(message.id)
                elif message.id and not message.string:
                    message.string = message.id
        save(catalog, language)


def compile_all() -> None:
    """Write every language's .mo file."""
    for language in LANGUAGES:
        po_path(language).with_suffix(".mo").write_bytes(mo_bytes(load(language)))


def problems() -> list[str]:
    """Everything that makes the catalogs incomplete or stale."""
    found: list[str] = []
    wanted = {m.id for m in extract() if m.id}
    for language in LANGUAGES:
        catalog = load(language)
        have = {m.id for m in catalog if m.id}
        found += [f"{language}: missing {mid!r}" for mid in sorted(wanted - have, key=str)]
        found += [f"{language}: obsolete {mid!r}" for mid in sorted(have - wanted, key=str)]
        for message in catalog:
            if not message.id:
                continue
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            if not all(strings):
                found.append(f"{language}: untranslated {message.id!r}")
            if message.fuzzy:
                found.append(f"{language}: fuzzy {message.id!r}")
        mo = po_path(language).with_suffix(".mo")
        if not mo.exists() or _translations(read_mo(io.BytesIO(mo.read_bytes()))) != _translations(
            read_mo(io.BytesIO(mo_bytes(catalog)))
        ):
            found.append(f"{language}: {mo.name} is stale; run compile")
    return found


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(prog="python -m bot.tools.i18n")
    parser.add_argument("command", choices=("update", "compile", "check"))
    args = parser.parse_args(argv)
    if args.command == "update":
        update()
    elif args.command == "compile":
        compile_all()
    else:
        listed = problems()
        for line in listed:
            print(line)
        return 1 if listed else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
