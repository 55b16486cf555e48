"""Frames by absolute index in a bounded window: what the link keeps in memory.

Every frame the link decodes gets an index (0, 1, 2, ... since the link was opened). Readers
ask for "everything from index i on" and get the index to ask from next time, so no frame is
skipped and none is read twice. The window keeps at most ``max_frames`` of the newest frames
(older ones are already in the journal or the output file; up to twice that is held, so that
dropping old batches is amortised); asking for an index that has left
the window is an error that says how many frames the reader missed, never a silent gap.

A read costs in proportion to the frames it returns (a bisect over batch start indices, then
one concatenation of the new batches), whatever the stream's length.
"""
from __future__ import annotations

from bisect import bisect_right

from rig.errors import RigError
from rig.frames import FrameBatch

#: Default window: 2^17 frames (27 min at 80 Hz, 131 s at 1 kHz; about 6 MB).
DEFAULT_MAX_FRAMES = 1 << 17


class FramesLeftWindow(RigError):
    """A reader asked for frames older than the link still holds."""


class FrameWindow:
    def __init__(self, max_frames: int = DEFAULT_MAX_FRAMES):
        if max_frames < 1:
            raise ValueError("max_frames must be at least 1")
        self.max_frames = int(max_frames)
        self._starts: list[int] = []        # absolute index of each batch's first frame
        self._batches: list[FrameBatch] = []
        self.count = 0                      # frames appended so far (next frame's index)

    @property
    def first(self) -> int:
        """Index of the oldest frame still held (== count when empty)."""
        return self._starts[0] if self._starts else self.count

    def __len__(self) -> int:
        return self.count - self.first

    def append(self, batch: FrameBatch) -> None:
        if not len(batch):
            return
        self._starts.append(self.count)
        self._batches.append(batch)
        self.count += len(batch)
        # drop the batches that lie wholly before the window, but only once they make up
        # another window's worth: the deletion is then amortised O(1) per appended frame, and
        # the window holds between max_frames and 2 x max_frames frames
        keep_from = self.count - self.max_frames
        if self._starts[0] < keep_from - self.max_frames:
            j = max(bisect_right(self._starts, keep_from) - 1, 0)
            del self._starts[:j]
            del self._batches[:j]

    def since(self, index: int) -> tuple[FrameBatch, int]:
        """Frames from absolute ``index`` on, and the index to ask from next time."""
        if index >= self.count:
            return FrameBatch.empty(), self.count
        if index < self.first:
            raise FramesLeftWindow(
                f"frames {index}..{self.first - 1} left the link's window of {self.max_frames} "
                "frames before they were read (the reader fell behind)"
            )
        j = bisect_right(self._starts, index) - 1
        parts = self._batches[j:]
        offset = index - self._starts[j]
        if offset:
            parts = [parts[0][offset:]] + parts[1:]
        return FrameBatch.concat(parts), self.count
