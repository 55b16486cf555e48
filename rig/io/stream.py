"""Writers for a live stream of frames (``rig stream``), chosen by the output's suffix like
the session exports (``rig.io.WRITERS``). A writer takes frames as they arrive, writes and
flushes them at once (an unplugged board or Ctrl-C keeps every frame received), and closes
the file with a footer of figures.

- ``.csv``: raw columns (cells named by corner), plus forces and COP when calibrated, through
  the one raw -> forces -> COP path (``rig.calibration.apply``).
"""
from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np

from rig.calibration.align import StreamAligner
from rig.errors import RigError
from rig.frames import FrameBatch
from rig.io.suffix import by_suffix


class CsvTraceWriter:
    """Appends frames to a CSV file: raw columns, plus forces and COP when calibrated.

    The file is owner-only (0600: recorded data is health data). Rows are written whole or not
    at all: a write that fails (a full disk, a removed medium) is cut back to the last whole
    row and stops the recording with one line saying how many frames the file holds."""

    def __init__(self, path: Path, header: dict, calibration=None, tare_s: float = 0.0):
        from rig.paths import open_private
        from rig.store.files import describe

        self.path = path
        self.cal = calibration
        self.tare_s = tare_s
        self.rows = 0
        self._t0: float | None = None
        self._pending: list[FrameBatch] = []  # held until the tare window is complete
        # forces and COP from the four cells put on the frame instants (wire v2 cell ages);
        # the newest frame waits for its successor (rig.calibration.align)
        self._aligner = StreamAligner() if calibration is not None else None
        self._tare_note = ""
        cols = ["t_s", "host_t_s", "seq", "raw_fl", "raw_fr", "raw_bl", "raw_br", "status"]
        if self.cal is not None:
            cols += ["f_fl_n", "f_fr_n", "f_bl_n", "f_br_n", "fz_n", "cop_x_mm", "cop_y_mm"]
        self._fd = -1
        self._size = 0             # bytes of whole rows on disk: a failed write is cut back to it
        self.failed: OSError | None = None
        try:
            self._fd = open_private(path)
            self._out("".join(f"# {k}: {v}\n" for k, v in header.items()) + ",".join(cols) + "\n")
        except OSError as e:
            raise RigError(f"cannot write {path}: {describe(e)}; nothing was recorded") from None

    def _out(self, text: str) -> None:
        """Append ``text`` whole or not at all (a partial write is truncated away)."""
        data = memoryview(text.encode("ascii", errors="replace"))
        done = 0
        try:
            while done < len(data):
                done += os.write(self._fd, data[done:])
        except OSError:
            try:
                os.ftruncate(self._fd, self._size)
                os.lseek(self._fd, self._size, os.SEEK_SET)
            except OSError:
                pass
            raise
        self._size += len(data)

    def write(self, batch: FrameBatch) -> None:
        if not len(batch) or self.failed is not None:
            return
        if self._t0 is None:
            self._t0 = float(batch.t_s[0])
            self._host0 = float(batch.host_t_s[0])
        if self.cal is not None and self.tare_s > 0:
            self._pending.append(batch)
            held = FrameBatch.concat(self._pending)
            if held.t_s[-1] - self._t0 < self.tare_s:
                return
            self._apply_tare(held)
            self._pending = []
            batch = held
        self._write_rows(batch)

    def _apply_tare(self, held: FrameBatch) -> None:
        window = held.raw[held.t_s - self._t0 < self.tare_s]
        self.cal = self.cal.tare(window)
        self._tare_note = f"# tare: offsets from the first {self.tare_s:g} s (board assumed empty)\n"
        self.tare_s = 0.0

    def _write_rows(self, batch: FrameBatch, final: bool = False) -> None:
        counts = None
        if self._aligner is not None:
            batch, counts = self._aligner.push(batch)
            if final:
                tail, tail_counts = self._aligner.flush()
                batch, counts = FrameBatch.concat([batch, tail]), np.concatenate([counts, tail_counts])
        if not len(batch):
            return
        t = batch.t_s - self._t0
        host = batch.host_t_s - self._host0
        # cells by corner: through the calibration's channel map when there is one (a board
        # wired with two channels swapped still gives raw_fl for the front-left cell)
        raw = self.cal.cell_counts(batch.raw) if self.cal is not None else batch.raw
        cols = [t, host, batch.seq, *raw.T, batch.status]
        fmt = ["%.6f", "%.4f", "%d", "%d", "%d", "%d", "%d", "%d"]
        if self.cal is not None:
            from rig.calibration.apply import forces_and_cop

            c = forces_and_cop(self.cal, counts)
            cols += [*c.forces_n.T, c.fz_n, c.cop_x_mm, c.cop_y_mm]
            fmt += ["%.3f"] * 5 + ["%.3f", "%.3f"]
        arr = np.column_stack([np.asarray(c, dtype=np.float64) for c in cols])
        buf = io.StringIO()
        buf.write(self._tare_note)
        self._tare_note = ""
        np.savetxt(buf, arr, fmt=fmt, delimiter=",")
        try:
            self._out(buf.getvalue())
        except OSError as e:         # a full disk, a removed medium: stop now, say what is there
            from rig.store.files import StorageError, describe

            self.failed = e
            raise StorageError(f"cannot write {self.path} ({describe(e)}): recording stopped; "
                               f"the {self.rows} frames before are in the file") from None
        self.rows += len(batch)
        self._t_last = float(batch.t_s[-1])

    def rate_hz(self, gap_s: float = 0.0, gaps: int = 0) -> float:
        """Frames per second of board time over the rows written (NaN below two rows), leaving
        out ``gaps`` gaps of ``gap_s`` seconds in total (board resets: no streaming then)."""
        span = getattr(self, "_t_last", float("nan")) - (self._t0 if self._t0 is not None else float("nan"))
        span -= gap_s
        return (self.rows - 1 - gaps) / span if self.rows > 1 + gaps and span > 0 else float("nan")

    def flush_pending(self) -> None:
        """Write frames held for the tare window (a recording shorter than it) and the frame
        the aligner holds back."""
        if self.failed is not None:
            return
        held = FrameBatch.empty()
        if self._pending:
            held = FrameBatch.concat(self._pending)
            self._pending = []
            self._apply_tare(held)
        if self._aligner is not None or len(held):
            self._write_rows(held, final=True)

    def close(self, footer: dict) -> None:
        if self.failed is None:
            try:
                self.flush_pending()
            except RigError:
                pass                 # self.failed is set: the rows before stay
        if self.failed is not None:
            os.close(self._fd)   # the file cannot take more: the footer is lost, the rows stay
            return
        try:
            self._out("".join(f"# {k}: {v}\n" for k, v in footer.items()))
            os.fsync(self._fd)
            os.close(self._fd)
        except OSError as e:
            from rig.store.files import StorageError, describe

            self.failed = e
            os.close(self._fd)
            raise StorageError(f"cannot finish {self.path} ({describe(e)}): the {self.rows} "
                               "frames are in the file, its closing statistics are not") from None


STREAM_WRITERS = {".csv": CsvTraceWriter}


def stream_writer_for(out) -> type:
    return by_suffix(out, STREAM_WRITERS, "stream")
