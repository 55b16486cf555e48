"""Session reports for a physician: ``write_report(store, session, "report.html" | "report.pdf")``.

The content (rig.report.content) is built once and laid out by either renderer: HTML is one
self-contained file (figures embedded as base64 PNG); PDF is A4 pages drawn by matplotlib.
Needs the ``report`` extra (matplotlib).
"""
from __future__ import annotations

from pathlib import Path

from rig.errors import RigError

SUFFIXES = (".html", ".htm", ".pdf")


def write_report(store, ref: str, out, anonymize: bool = False) -> Path:
    """A session's report (``ref`` a session id, prefix or ``latest``), or an athlete's report
    over time (``ref`` an athlete code)."""
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in SUFFIXES:
        raise RigError(f"--out {out}: a report is .html or .pdf, not {suffix or '(no suffix)'!r}")
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise RigError("reports need matplotlib, a dependency of balance-rig: reinstall it (pip install balance-rig)") from None
    from rig.report import content

    if anonymize:   # every part of the report sees the session without ports, ids or paths
        store = _Anonymised(store)
    if ref != "latest" and not store.has_session(ref) and store.athlete(ref) is not None:
        from rig.report import athlete          # an athlete code: the report over time

        title, blocks = athlete.build(store, ref, anonymize)
    else:
        session, blocks = content.build(store, ref, anonymize)
        title = f"Balance report, athlete {session['athlete']}, session {session['id']}"
    from rig.store.files import atomic_output

    # owner-only, and no temporary file left on any failure (full disk, read-only, a bug)
    with atomic_output(out, suffix=f".tmp{suffix}", what="cannot write the report") as tmp, \
            plain_text():
        if suffix == ".pdf":
            from rig.report.pdf import render

            render(blocks, title, tmp)
        else:
            from rig.report.html import render

            tmp.write_bytes(render(blocks, title).encode("utf-8"))
    return out


class _Anonymised:
    """The store as an anonymised report must see it: ``session()`` without personal details,
    ports, board ids or host paths (rig.io.data.anonymise_session, rig.io.anonymize)."""

    def __init__(self, store):
        self._store = store

    def __getattr__(self, name):
        return getattr(self._store, name)

    def session(self, ref):
        from rig.io.anonymize import Scrubber
        from rig.io.data import anonymise_session

        s = self._store.session(ref)
        return Scrubber([s], self._store.root).data(anonymise_session(s))


def plain_text():
    """Text drawn by matplotlib taken literally: a ``$`` in a condition name or a note is a
    dollar sign, not the start of maths (which crashes on unbalanced ``$``)."""
    import matplotlib

    return matplotlib.rc_context({"text.parse_math": False})
