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
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in SUFFIXES:
        raise RigError(f"--out {out}: a report is .html or .pdf, not {suffix or '(no suffix)'!r}")
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise RigError("reports need matplotlib, a dependency of balance-rig: reinstall it (pip install balance-rig)") from None
    from rig.report import content

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
