"""Compile Lexi's translations (locale/*/LC_MESSAGES/django.po -> django.mo) with polib, so no
GNU gettext is needed to build: `python -m lexi.translations` (make install, the Dockerfile and
the test session run it). A .mo newer than its .po is left as it is."""

import sys
from pathlib import Path

import polib

LOCALE = Path(__file__).resolve().parent.parent / "locale"


def translations_compile(locale: Path = LOCALE) -> list[Path]:
    """Write each stale django.mo; returns the ones written."""
    written = []
    for po in sorted(locale.glob("*/LC_MESSAGES/django.po")):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        polib.pofile(str(po)).save_as_mofile(str(mo))
        written.append(mo)
    return written


if __name__ == "__main__":
    for path in translations_compile():
        sys.stdout.write(f"compiled {path.relative_to(LOCALE.parent)}\n")
