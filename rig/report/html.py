"""HTML rendering of a report: one self-contained file (CSS inline, figures as base64 PNG)."""
from __future__ import annotations

import base64
import html
import io

from rig.report.content import Table

CSS = """
body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 14px; color: #222; max-width: 60em;
       margin: 2em auto; padding: 0 1em; line-height: 1.4; }
h1 { font-size: 1.6em; border-bottom: 2px solid #1f4e79; padding-bottom: .2em; color: #1f4e79; }
h2 { font-size: 1.25em; margin-top: 1.6em; color: #1f4e79; border-bottom: 1px solid #ccd; }
h3 { font-size: 1.05em; margin-bottom: .3em; }
table { border-collapse: collapse; margin: .5em 0 1em; font-size: .92em; }
th, td { border: 1px solid #bbc; padding: .25em .55em; vertical-align: top; }
th { background: #e8eef5; text-align: left; }
td.r { text-align: right; font-variant-numeric: tabular-nums; }
tr:nth-child(even) td { background: #f7f9fb; }
caption { caption-side: bottom; font-size: .85em; color: #555; text-align: left; padding-top: .3em; }
.note { background: #fff6e0; border-left: 4px solid #e0a000; padding: .5em .8em; margin: .8em 0; }
hr.pagebreak { page-break-before: always; border: 0; border-top: 3px double #1f4e79; margin: 2em 0; }
figure { margin: 1em 0; } figure img { max-width: 100%; } figcaption { font-size: .85em; color: #555; }
"""


def render(blocks: list, title: str) -> str:
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body>"]
    for b in blocks:
        kind = b[0]
        if kind == "pagebreak":
            out.append('<hr class="pagebreak">')
        elif kind == "title":
            out.append(f"<h1>{html.escape(b[1])}</h1>")
        elif kind in ("h2", "h3"):
            out.append(f"<{kind}>{html.escape(b[1])}</{kind}>")
        elif kind == "p":
            out.append(f"<p>{html.escape(b[1])}</p>")
        elif kind == "note":
            out.append(f'<div class="note">{html.escape(b[1])}</div>')
        elif kind == "bullets":
            out.append("<ul>" + "".join(f"<li>{html.escape(x)}</li>" for x in b[1]) + "</ul>")
        elif kind == "table":
            out.append(_table(b[1]))
        elif kind == "figure":
            fig = b[1]()
            buf = io.BytesIO()
            fig.savefig(buf, format="png", dpi=110, bbox_inches="tight", pad_inches=0.05)
            data = base64.b64encode(buf.getvalue()).decode("ascii")
            out.append(f'<figure><img alt="{html.escape(b[2])}" src="data:image/png;base64,{data}">'
                       f"<figcaption>{html.escape(b[2])}</figcaption></figure>")
    out.append("</body></html>")
    return "\n".join(out)


def _table(t: Table) -> str:
    align = t.align or ["l"] * len(t.columns)
    rows = ["<table>"]
    if t.caption:
        rows.append(f"<caption>{html.escape(t.caption)}</caption>")
    rows.append("<tr>" + "".join(f"<th>{html.escape(c)}</th>" for c in t.columns) + "</tr>")
    for r in t.rows:
        rows.append("<tr>" + "".join(
            f'<td class="{align[i] if i < len(align) else "l"}">{html.escape(str(v))}</td>'
            for i, v in enumerate(r)) + "</tr>")
    rows.append("</table>")
    return "\n".join(rows)
