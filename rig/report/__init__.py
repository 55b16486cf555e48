"""Session reports for a physician: ``write_report(store, session, "report.html" | "report.pdf")``.

The content (rig.report.content) is built once and laid out by either renderer: HTML is one
self-contained file (figures embedded as base64 PNG); PDF is A4 pages drawn by matplotlib.
Needs the ``report`` extra (matplotlib).
"""
from __future__ import annotations

import os
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
        raise RigError("reports need matplotlib: pip install 'balance-rig[report]'") from None
    from rig.report import content

    if ref != "latest" and not store.has_session(ref) and store.athlete(ref) is not None:
        from rig.report import athlete          # an athlete code: the report over time

        title, blocks = athlete.build(store, ref, anonymize)
    else:
        session, blocks = content.build(store, ref, anonymize)
        title = f"Balance report, athlete {session['athlete']}, session {session['id']}"
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp{suffix}")
    if suffix == ".pdf":
        from rig.report.pdf import render

        render(blocks, title, tmp)
    else:
        from rig.report.html import render

        tmp.write_text(render(blocks, title), encoding="utf-8")
    os.replace(tmp, out)
    return out
