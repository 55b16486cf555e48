"""PDF rendering of a report with matplotlib alone (A4 pages, text flowed top to bottom).

A small flow layout: headings, wrapped paragraphs, tables (column widths from their content,
font shrunk to fit the page width, long cells wrapped) and figures (rasterised at 200 dpi and
placed at the page width). Fonts are matplotlib's DejaVu Sans, so any Unicode in names works.
"""
from __future__ import annotations

import io
import textwrap

import numpy as np
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.image import imread
from matplotlib.patches import Rectangle

from rig.report.content import Table

PAGE_W, PAGE_H = 8.27, 11.69     # A4, inches
MARGIN = 0.6
USABLE_W = PAGE_W - 2 * MARGIN
CHAR_W = 0.56                    # DejaVu Sans average advance, in font sizes (ems)
BLUE = "#1f4e79"


class _Flow:
    def __init__(self, pdf: PdfPages, title: str):
        self.pdf = pdf
        self.title = title
        self.page = 0
        self.fig = None
        self.y = 0.0
        self._new_page()

    def _new_page(self):
        if self.fig is not None:
            self._finish_page()
        self.page += 1
        self.fig = Figure(figsize=(PAGE_W, PAGE_H))
        self.y = PAGE_H - MARGIN

    def _finish_page(self):
        self.fig.text(MARGIN / PAGE_W, 0.35 / PAGE_H, self.title, fontsize=7, color="#666")
        self.fig.text(1 - MARGIN / PAGE_W, 0.35 / PAGE_H, f"page {self.page}", fontsize=7,
                      color="#666", ha="right")
        self.pdf.savefig(self.fig)

    def close(self):
        self._finish_page()

    def need(self, h_in: float):
        if self.y - h_in < MARGIN and self.y < PAGE_H - MARGIN - 1e-6:
            self._new_page()

    def text(self, s: str, size=9.5, weight="normal", color="#222", indent=0.0, gap_after=0.06,
             bullet=False):
        width_chars = max(20, int((USABLE_W - indent - (0.18 if bullet else 0)) / (CHAR_W * size / 72)))
        lines = textwrap.wrap(s, width_chars) or [""]
        lh = size * 1.38 / 72
        for i, line in enumerate(lines):
            self.need(lh)
            self.y -= lh
            x = MARGIN + indent + (0.18 if bullet else 0)
            if bullet and i == 0:
                self.fig.text((MARGIN + indent) / PAGE_W, self.y / PAGE_H, "\u2022", fontsize=size)
            self.fig.text(x / PAGE_W, self.y / PAGE_H, line, fontsize=size, fontweight=weight, color=color)
        self.y -= gap_after

    def rule(self, color=BLUE, lw=1.0):
        self.fig.add_artist(_hline(self.fig, self.y - 0.05, color, lw))
        self.y -= 0.12

    def note(self, s: str):
        size = 9
        width_chars = int((USABLE_W - 0.3) / (CHAR_W * size / 72))
        lines = textwrap.wrap(s, width_chars)
        lh = size * 1.38 / 72
        h = lh * len(lines) + 0.12
        self.need(h)
        self.fig.add_artist(Rectangle((MARGIN / PAGE_W, (self.y - h) / PAGE_H), USABLE_W / PAGE_W, h / PAGE_H,
                                      transform=self.fig.transFigure, facecolor="#fff6e0",
                                      edgecolor="#e0a000", lw=0.8))
        self.y -= 0.06
        for line in lines:
            self.y -= lh
            self.fig.text((MARGIN + 0.15) / PAGE_W, self.y / PAGE_H, line, fontsize=size)
        self.y -= 0.14

    def table(self, t: Table):
        cols = len(t.columns)
        if not cols:
            return
        cells = [[str(c) for c in t.columns]] + [[str(v) for v in r] + [""] * (cols - len(r)) for r in t.rows]
        # wrap cells longer than a fair share of the line; bold headers run ~12 % wider
        cap = max(24, int(USABLE_W / (CHAR_W * 8.5 / 72) / cols))
        lens = np.array([[min(int(len(c) * (1.12 if r == 0 else 1.0)) + (r == 0), cap)
                          for c in row] for r, row in enumerate(cells)])
        want = np.maximum(lens.max(axis=0), 3) + 2
        size = 8.5
        while size > 5.5 and want.sum() * CHAR_W * size / 72 > USABLE_W:
            size -= 0.5
        scale = min(1.0, USABLE_W / (want.sum() * CHAR_W * size / 72))
        widths = want * CHAR_W * size / 72 * scale
        chars = np.maximum((widths / (CHAR_W * size / 72)).astype(int) - 1, 3)
        align = t.align or ["l"] * cols
        lh = size * 1.3 / 72
        for r, row in enumerate(cells):
            wrapped = [textwrap.wrap(c, int(chars[i])) or [""] for i, c in enumerate(row)]
            n = max(len(w) for w in wrapped)
            h = n * lh + 0.05
            if r > 0:
                self.need(h)
            else:
                self.need(h + 2 * lh)
            top = self.y
            if r == 0 or r % 2 == 0:
                self.fig.add_artist(Rectangle((MARGIN / PAGE_W, (top - h) / PAGE_H), widths.sum() / PAGE_W,
                                              h / PAGE_H, transform=self.fig.transFigure, lw=0,
                                              facecolor="#e8eef5" if r == 0 else "#f5f7fa"))
            x = MARGIN
            for i, lines in enumerate(wrapped):
                right = (align[i] if i < len(align) else "l") == "r"
                for k, line in enumerate(lines):
                    xx = x + widths[i] - 0.04 if right else x + 0.04
                    self.fig.text(xx / PAGE_W, (top - (k + 1) * lh) / PAGE_H, line, fontsize=size,
                                  ha="right" if right else "left",
                                  fontweight="bold" if r == 0 else "normal")
                x += widths[i]
            self.y = top - h
        if t.caption:
            self.text(t.caption, size=7.5, color="#555", gap_after=0.04)
        self.y -= 0.1

    @staticmethod
    def raster(fig: Figure):
        """The figure as an image, cropped to its drawn content (no clipped axis labels)."""
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=200, bbox_inches="tight", pad_inches=0.05)
        buf.seek(0)
        return imread(buf)

    @staticmethod
    def figure_size(img) -> tuple[float, float]:
        w = min(USABLE_W, img.shape[1] / 200 * 0.95)
        h = w * img.shape[0] / img.shape[1]
        if h > PAGE_H - 2 * MARGIN - 0.5:
            h = PAGE_H - 2 * MARGIN - 0.5
            w = h * img.shape[1] / img.shape[0]
        return w, h

    def figure(self, img, caption: str, keep_below_in: float = 0.0):
        """Place an image at the page width; ``keep_below_in`` > 0: shrink it (to 55 % at the
        least) so that much room stays below it on this page (page 1 keeps its limits)."""
        w, h = self.figure_size(img)
        if keep_below_in:
            room = self.y - MARGIN - keep_below_in - 0.3
            if h > room >= 0.55 * h:
                w, h = w * room / h, room
        self.need(h + 0.3)
        ax = self.fig.add_axes(((MARGIN + (USABLE_W - w) / 2) / PAGE_W, (self.y - h) / PAGE_H,
                                w / PAGE_W, h / PAGE_H))
        ax.imshow(img, interpolation="antialiased")
        ax.set_axis_off()
        self.y -= h + 0.04
        self.text(caption, size=7.5, color="#555")


def _hline(fig, y_in, color, lw):
    from matplotlib.lines import Line2D

    return Line2D([MARGIN / PAGE_W, 1 - MARGIN / PAGE_W], [y_in / PAGE_H] * 2, transform=fig.transFigure,
                  color=color, lw=lw)


def _following_height(blocks: list, i: int, images: dict) -> float:
    """Height (in) the block after a heading needs on the same page (keeps headings with it)."""
    if i + 1 >= len(blocks):
        return 0.0
    b = blocks[i + 1]
    if b[0] == "figure":
        if i + 1 not in images:
            images[i + 1] = _Flow.raster(b[1]())
        return _Flow.figure_size(images[i + 1])[1] + 0.3
    if b[0] == "table":
        return 0.75          # header and two rows
    if b[0] == "h3":
        return 0.35 + _following_height(blocks, i + 1, images)
    if b[0] in ("p", "note", "bullets"):
        return 0.45
    return 0.0


def render(blocks: list, title: str, out) -> None:
    images: dict[int, object] = {}
    with PdfPages(out, metadata={"Title": title, "Creator": "balance rig"}) as pdf:
        flow = _Flow(pdf, title)
        for i, b in enumerate(blocks):
            kind = b[0]
            if kind == "pagebreak":
                if flow.y < PAGE_H - MARGIN - 1e-6:
                    flow._new_page()
            elif kind == "title":
                flow.text(b[1], size=16, weight="bold", color=BLUE, gap_after=0.02)
                flow.rule(lw=1.5)
            elif kind == "h2":
                flow.need(0.5 + _following_height(blocks, i, images))
                flow.y -= 0.12
                flow.text(b[1], size=12.5, weight="bold", color=BLUE, gap_after=0.0)
                flow.rule(lw=0.6)
            elif kind == "h3":
                flow.need(0.3 + _following_height(blocks, i, images))
                flow.text(b[1], size=10.5, weight="bold", gap_after=0.04)
            elif kind == "p":
                flow.text(b[1])
            elif kind == "note":
                flow.note(b[1])
            elif kind == "bullets":
                for item in b[1]:
                    flow.text(item, bullet=True, gap_after=0.03)
                flow.y -= 0.05
            elif kind == "table":
                flow.table(b[1])
            elif kind == "figure":
                img = images.pop(i) if i in images else _Flow.raster(b[1]())
                opts = b[3] if len(b) > 3 else {}
                flow.figure(img, b[2], keep_below_in=opts.get("keep_below_in", 0.0))
        flow.close()
