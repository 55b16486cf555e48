"""Incremental, vectorised decoder of the wire format (see firmware/WIRE_FORMAT.md).

Bytes go in with any chunking; SAMPLE frames come out as numpy arrays (``FrameBatch``), other
packets (HELLO, ACK, CALIB) are queued for the link. The work per ``feed`` is a fixed number of
numpy operations over all packets in the buffer; Python loops run only over *breaks* in the
stream (corruption, a non-sample packet), never over every frame.

Resynchronisation rule (the document's): a candidate packet starts at every ``A5 5A``; it is
accepted when complete, of the right version, with ``len <= 96`` and a matching CRC. After an
accepted packet the scan continues at its end; after a rejected candidate it continues one byte
later, so a packet hidden behind a false sync is still found. Everything not inside an accepted
packet is counted as skipped.

Sequence and clock (``_sequence``): each frame is compared with the one before it.
* same seq and same time: a duplicate, dropped;
* the board clock went back, or the link saw an unsolicited HELLO, or the clock jumped ahead
  by more than the host saw pass (a restart whose clock wrapped): a **reset**. The board was
  silent for a while and its clock restarted at 0; the gap is recorded with its length from
  host receive times (``gap_from_host_s``), never as a nominal frame step, and counted in
  ``stats.resets`` / ``stats.reset_gap_s`` and in ``gaps``;
* the sequence agrees with the time step (the board's measured period): frames lost = seq step - 1;
* otherwise the board restarted its sequence (firmware before 1.2 did so on a START repeated
  when its ACK was lost): frames lost = time step / period - 1, never ~65,000.

Work and memory are linear in the input: ``feed`` decodes in chunks of ``CHUNK_BYTES``, and the
scan over accepted packets costs O(log n) per break in the stream.
"""
from __future__ import annotations

import numpy as np

from rig.board import wire
from rig.frames import DecoderStats, FrameBatch

_NEED_MORE = 0
_VALID = 1
_INVALID = 2

CHUNK_BYTES = 1 << 16     # bytes decoded per step: bounds the temporary arrays of one feed
MAX_QUEUED_PACKETS = 1024  # non-sample packets kept for the link (oldest dropped beyond)
CLOCK_JUMP_S = 1.0        # board time ahead of host time by more than this: the clock restarted
_HALF_SEQ = 1 << 15
_HALF_T = 1 << 31


PERIOD_MAX_STEP = 8   # frames: steps this short measure the board's period (see _measure_period)
PERIOD_SAMPLES = 64   # the period is the median of the last this many such steps


def gap_from_host_s(host_before_s, host_after_s, t_first_after_us, t_last_after_us, period_s) -> float:
    """Board time between the last frame before a reset and the first one after it (s).

    From host receive times: the host received the last frame before at ``host_before_s`` and
    the frames after up to ``t_last_after_us`` (new board clock) at ``host_after_s``; the first
    frame after was sent ``t_last - t_first`` earlier. Never less than the new clock's reading
    at that first frame (the firmware started after the reset) nor one period. Without host
    times (nan) only that lower bound is known.
    """
    low = max(t_first_after_us / 1e6, period_s)
    est = (host_after_s - host_before_s) - (t_last_after_us - t_first_after_us) / 1e6
    return float(max(est, low)) if np.isfinite(est) else float(low)


class Decoder:
    """Feed bytes, get frames. Keeps exact statistics in ``stats``.

    ``nominal_period_s`` (the link sets it from HELLO) is the frame period assumed until the
    board's own period has been measured from consecutive frames; it is used to count frames
    lost across a sequence restart, never to stitch time across a reset. ``host_t_s`` given to
    ``feed`` (host receive time, s) is what measures a reset's gap.
    """

    def __init__(self, nominal_period_s: float = 0.0125):
        self.stats = DecoderStats()
        self._buf = bytearray()
        self._packets: list[tuple[int, bytes]] = []
        self._last_seq: int | None = None
        self._last_t_us: int | None = None
        self._last_host_s = float("nan")  # host receive time of the last frame
        self._t_base_us = 0  # unwrapped microseconds of the last frame
        self.nominal_period_s = nominal_period_s
        self._period_us: float | None = None  # the board's frame period measured from the data
        self._expect_restart = False
        self._reset_pending = False
        self.gaps: list[tuple[float, float]] = []  # per reset: (t_s of the last frame before, gap s)
        self.work = 0  # bytes decoded plus elements each scan round touches (tests: linear)

    @property
    def period_s(self) -> float:
        """The board's frame period: measured from consecutive frames, else the nominal one."""
        return self._period_us / 1e6 if self._period_us else self.nominal_period_s

    # -- public -----------------------------------------------------------------------------
    @property
    def pending_bytes(self) -> int:
        """Bytes held back because they may start a packet that is not complete yet."""
        return len(self._buf)

    def mark_stream_start(self) -> None:
        """The host sent START: the next frame's seq restarts at 0 without any loss."""
        self._expect_restart = True

    def note_reset(self) -> None:
        """The link saw an unsolicited HELLO: the board rebooted (counted once, here)."""
        self.stats.resets += 1
        self._expect_restart = True
        self._reset_pending = True

    def take_packets(self) -> list[tuple[int, bytes]]:
        """Non-sample packets decoded so far, as (type, payload); the queue is emptied."""
        out, self._packets = self._packets, []
        return out

    def feed(self, data: bytes, host_t_s: float | None = None) -> FrameBatch:
        """Decode ``data`` (appended to anything held back) and return the new SAMPLE frames.

        Any size: decoded ``CHUNK_BYTES`` at a time, so time and memory are linear in it.
        """
        mv = memoryview(data)
        if len(mv) <= CHUNK_BYTES:
            return self._feed_chunk(mv, host_t_s)
        parts = [self._feed_chunk(mv[i:i + CHUNK_BYTES], host_t_s) for i in range(0, len(mv), CHUNK_BYTES)]
        return FrameBatch.concat(parts)

    def _feed_chunk(self, data, host_t_s: float | None) -> FrameBatch:
        self.stats.bytes_in += len(data)
        self._buf += data
        buf = np.frombuffer(bytes(self._buf), dtype=np.uint8)
        n = buf.shape[0]
        self.work += n
        if n < 2:
            return FrameBatch.empty()

        cand = np.flatnonzero((buf[:-1] == 0xA5) & (buf[1:] == 0x5A))
        state, end = self._judge(buf, cand)

        starts, ends, keep_from = self._walk(cand, state, end, n, bool(buf[-1] == 0xA5), self)

        # Statistics over the consumed region [0, keep_from).
        accepted_bytes = int(np.sum(ends - starts)) if len(starts) else 0
        self.stats.bytes_skipped += keep_from - accepted_bytes
        self._count_rejects(buf, cand, state, starts, ends, keep_from)

        batch = self._extract(buf, starts, host_t_s)
        del self._buf[:keep_from]
        return batch

    # -- internals --------------------------------------------------------------------------
    def _judge(self, buf: np.ndarray, cand: np.ndarray):
        """Classify every candidate: need more data, valid, or invalid; and its end offset."""
        n = buf.shape[0]
        state = np.full(cand.shape[0], _NEED_MORE, dtype=np.int8)
        end = np.zeros(cand.shape[0], dtype=np.int64)
        has_hdr = cand + wire.HEADER_LEN <= n
        h = cand[has_hdr]
        ver = buf[h + 2]
        ln = buf[h + 4].astype(np.int64)
        bad_hdr = ~np.isin(ver, wire.KNOWN_VERSIONS) | (ln > wire.MAX_PAYLOAD)
        e = h + wire.HEADER_LEN + ln + wire.CRC_LEN
        complete = e <= n
        idx_hdr = np.flatnonzero(has_hdr)
        end[idx_hdr] = e
        st = np.where(bad_hdr, _INVALID, np.where(complete, _VALID, _NEED_MORE)).astype(np.int8)
        # CRC check, grouped by payload length so each group is one vectorised pass.
        check = (~bad_hdr) & complete
        if np.any(check):
            for L in np.unique(ln[check]):
                sel = np.flatnonzero(check & (ln == L))
                pos = h[sel]
                body = buf[pos[:, None] + 2 + np.arange(3 + L)]
                got = buf[pos + 5 + L].astype(np.uint16) | (buf[pos + 6 + L].astype(np.uint16) << 8)
                ok = wire.crc16_rows(body) == got
                st[sel[~ok]] = _INVALID
        state[idx_hdr] = st
        return state, end

    @staticmethod
    def _walk(cand, state, end, n, tail_a5, counter=None):
        """Greedy scan: accepted packets in order, and how many bytes are consumed.

        Rejected candidates are simply passed over (the scan moves one byte on, to the next
        candidate), so the chain is: from position p, the first candidate at or after p that is
        valid (accept it, p = its end) or needs more data (stop there).
        """
        live = np.flatnonzero(state != _INVALID)
        pos = cand[live]
        starts: list[np.ndarray] = []
        ends: list[np.ndarray] = []
        p = 0
        i = int(np.searchsorted(pos, p))
        if len(live):
            lend = end[live]
            lvalid = state[live] == _VALID
            # next live candidate after each valid packet; in a clean stream it is i + 1
            nxt = np.searchsorted(pos, lend)
            seq_ok = lvalid & (nxt == np.arange(len(live)) + 1)
            breaks = np.flatnonzero(~seq_ok)  # once: each round then finds its break in O(log n)
            while i < len(live):
                if not lvalid[i]:
                    return _cat(starts, np.int64), _cat(ends, np.int64), int(pos[i])
                # take the run of valid packets that follow each other exactly
                b = int(np.searchsorted(breaks, i))
                j = int(breaks[b]) if b < len(breaks) else len(live)
                # j itself is accepted when valid (its successor is just not j + 1);
                # when it needs more data the next round stops there
                last = j if (j < len(live) and lvalid[j]) else j - 1
                if counter is not None:  # elements this round touches (a slice, one search)
                    counter.work += last + 2 - i
                starts.append(pos[i:last + 1])
                ends.append(lend[i:last + 1])
                p = int(lend[last])
                i = int(nxt[last])
        # nothing pending: keep a trailing A5 that may begin a sync
        keep_from = max(n - 1 if tail_a5 else n, p)
        return _cat(starts, np.int64), _cat(ends, np.int64), keep_from

    def _count_rejects(self, buf, cand, state, starts, ends, keep_from):
        bad = cand[(state == _INVALID) & (cand < keep_from)]
        if not len(bad):
            return
        if len(starts):
            j = np.searchsorted(starts, bad, side="right") - 1
            inside = (j >= 0) & (bad < ends[np.maximum(j, 0)])
            bad = bad[~inside]
        if not len(bad):
            return
        has_hdr = bad + wire.HEADER_LEN <= buf.shape[0]
        ver_bad = has_hdr & ~np.isin(buf[np.minimum(bad + 2, buf.shape[0] - 1)], wire.KNOWN_VERSIONS)
        len_bad = has_hdr & ~ver_bad & (buf[np.minimum(bad + 4, buf.shape[0] - 1)] > wire.MAX_PAYLOAD)
        self.stats.version_mismatches += int(np.sum(ver_bad))
        self.stats.crc_failures += int(np.sum(has_hdr & ~ver_bad & ~len_bad))

    def _extract(self, buf, starts, host_t_s) -> FrameBatch:
        if not len(starts):
            return FrameBatch.empty()
        types = buf[starts + 3]
        lens = buf[starts + 4]
        vers = buf[starts + 2]
        is_v2 = (vers == wire.WIRE_VERSION) & (lens == wire.SAMPLE_PAYLOAD_LEN)
        is_v1 = (vers == 1) & (lens == wire.V1_SAMPLE_PAYLOAD_LEN)
        is_sample = (types == wire.T_SAMPLE) & (is_v2 | is_v1)
        other = starts[~is_sample]
        for s in other.tolist():  # rare: replies to commands
            L = int(buf[s + 4])
            self._packets.append((int(buf[s + 3]), bytes(buf[s + 5:s + 5 + L])))
        if len(self._packets) > MAX_QUEUED_PACKETS:  # nobody takes them: keep the newest
            del self._packets[:-MAX_QUEUED_PACKETS]
        self.stats.other_packets += len(other)
        s = starts[is_sample]
        if not len(s):
            return FrameBatch.empty()
        # v1 samples are 8 bytes shorter: read within the buffer, their ages are unknown
        idx = np.minimum(s[:, None] + 5 + np.arange(wire.SAMPLE_PAYLOAD_LEN), buf.shape[0] - 1)
        p = buf[idx].astype(np.uint32)
        seq = (p[:, 0] | (p[:, 1] << 8)).astype(np.uint16)
        t_us = (p[:, 2] | (p[:, 3] << 8) | (p[:, 4] << 16) | (p[:, 5] << 24)).astype(np.uint32)
        raw = np.empty((len(s), wire.N_CELLS), dtype=np.int32)
        for c in range(wire.N_CELLS):
            b = 6 + 3 * c
            v = (p[:, b] | (p[:, b + 1] << 8) | (p[:, b + 2] << 16)).astype(np.int32)
            raw[:, c] = wire.signed24(v)
        status = (p[:, 18] | (p[:, 19] << 8)).astype(np.uint16)
        age = (p[:, 20:28:2] | (p[:, 21:28:2] << 8)).astype(np.uint16)
        age[is_v1[is_sample]] = wire.AGE_UNKNOWN
        return self._sequence(seq, t_us, raw, status, host_t_s, age)

    def _sequence(self, seq, t_us, raw, status, host_t_s, age=None) -> FrameBatch:
        """Drop duplicates, count lost frames, sequence restarts and resets, unwrap the clock.

        See the module docstring for the rules. Vectorised; Python runs only per reset.
        ``age``: the wire v2 per-cell ages (n, 4), passed through with the frames.
        """
        n = len(seq)
        host = float("nan") if host_t_s is None else float(host_t_s)
        seq64 = seq.astype(np.int64)
        t64 = t_us.astype(np.int64)
        prev_seq = np.empty(n, dtype=np.int64)
        prev_t = np.empty(n, dtype=np.int64)
        prev_seq[1:] = seq64[:-1]
        prev_t[1:] = t64[:-1]
        first_fresh = self._last_seq is None
        prev_seq[0] = seq64[0] - 1 if first_fresh else self._last_seq
        prev_t[0] = t64[0] if first_fresh else self._last_t_us
        dseq = (seq64 - prev_seq) % 65536
        dt = (t64 - prev_t) % (1 << 32)
        self._measure_period(dseq, dt, first_fresh)
        period_us = self.period_s * 1e6
        expected = np.maximum(np.rint(dt / period_us), 0).astype(np.int64)
        went_back = dt >= _HALF_T
        dup = (dseq == 0) & (dt == 0)
        off = (dseq - expected + _HALF_SEQ) % 65536 - _HALF_SEQ
        # the sequence step agrees with the time (within 5 %, at least 2 frames); or it is one
        # or two frames after a pause of the board (waiting for a timed-out chip sends the next
        # frame late: nothing was lost). Anything else is a sequence restart.
        tol = np.maximum(2, expected // 20)
        paused = (dseq >= 1) & (dseq <= 2) & (off < 0)
        consistent = (((dseq >= 1) & (np.abs(off) <= tol)) | paused) & (expected < 60000)
        # host time seen to pass before each frame: only between feeds
        host_dt = np.zeros(n)
        host_dt[0] = host - self._last_host_s if np.isfinite(host - self._last_host_s) else np.inf
        flagged = np.zeros(n, dtype=bool)
        flagged[0] = self._expect_restart and not first_fresh
        clock_jump = ~consistent & ~flagged & ~dup & (dt / 1e6 > host_dt + CLOCK_JUMP_S)
        reset = went_back | clock_jump
        if self._reset_pending and not first_fresh:
            reset[0] = True
        dup &= ~reset
        if first_fresh:
            dup[0] = reset[0] = False
        start = flagged & ~reset & ~dup & ~consistent
        restart = ~consistent & ~reset & ~dup & ~start
        if first_fresh:
            restart[0] = False
        lost = np.zeros(n, dtype=np.int64)
        lost = np.where(consistent, dseq - 1, lost)
        lost = np.where(restart, np.maximum(expected - 1, 0), lost)
        lost = np.where(start, np.minimum(seq64, np.maximum(expected - 1, 0)), lost)
        # after a reset the board restarted its sequence at 0: frames 0..seq-1 were lost
        lost = np.where(reset, np.where(seq64 <= t64 / period_us + 2, seq64, 0), lost)
        if first_fresh and self._expect_restart:
            lost[0] = seq64[0] if seq64[0] < _HALF_SEQ else 0
        elif first_fresh:
            lost[0] = 0
        lost[dup] = 0
        step = np.where(dup, 0, dt).astype(np.float64)
        # resets: the true gap from host time, never a nominal step
        n_new_resets = int(reset.sum())
        if self._reset_pending and n and reset[0]:
            n_new_resets -= 1  # already counted by note_reset (the HELLO)
        self.stats.resets += n_new_resets
        idx = np.flatnonzero(reset)
        if len(idx):
            base_before = self._t_base_us if not first_fresh else int(t64[0])
            cum_before = np.cumsum(step)
            for r_i, i in enumerate(idx.tolist()):
                seg_end = (int(idx[r_i + 1]) - 1) if r_i + 1 < len(idx) else n - 1
                h_before = self._last_host_s if i == 0 else host
                gap = gap_from_host_s(h_before, host, int(t64[i]), int(t64[seg_end]), self.period_s)
                step[i] = gap * 1e6
                t_before = base_before + (cum_before[i - 1] if i > 0 else 0.0)
                self.gaps.append((t_before / 1e6, gap))
                self.stats.reset_gap_s += gap
                cum_before = np.cumsum(step)
        self.stats.sequence_restarts += int(restart.sum())
        self._reset_pending = False
        self._expect_restart = False
        self.stats.frames_lost += int(lost.sum())
        self.stats.duplicates += int(dup.sum())
        if first_fresh:
            step[0] = 0
            base = int(t64[0])
        else:
            base = self._t_base_us
        t_unwrapped = base + np.cumsum(step)
        keep = ~dup
        self._last_seq = int(seq[-1])
        self._last_t_us = int(t_us[-1])
        self._t_base_us = int(round(t_unwrapped[-1]))
        self._last_host_s = host
        k = int(keep.sum())
        self.stats.frames_decoded += k
        hosts = np.full(k, host, dtype=np.float64)
        return FrameBatch(seq[keep], t_us[keep], t_unwrapped[keep] / 1e6, hosts, raw[keep], status[keep],
                          None if age is None else age[keep])

    def _measure_period(self, dseq, dt, first_fresh) -> None:
        """Update the board's frame period (median, blended) from steps of a few frames.

        Steps over up to ``PERIOD_MAX_STEP`` frames count (time / frames), not only consecutive
        frames: on a link that loses most frames (heavy corruption) consecutive pairs are rare,
        and the nominal 80 Hz period of a board whose chips run at ~92 Hz would make every gap
        look inconsistent (a false sequence restart, with its lost frames underestimated)."""
        ok = (dseq >= 1) & (dseq <= PERIOD_MAX_STEP) & (dt > 0) & (dt < _HALF_T)
        if first_fresh:
            ok[:1] = False  # the first frame's step is a placeholder
        # kept across feeds: a lossy link may deliver one or two frames per feed
        self._period_samples = np.concatenate([getattr(self, "_period_samples", np.zeros(0)),
                                               dt[ok] / dseq[ok]])[-PERIOD_SAMPLES:]
        if len(self._period_samples) >= 4:
            m = float(np.median(self._period_samples))
            nominal = self.nominal_period_s * 1e6
            if 0.5 * nominal < m < 2.0 * nominal or not nominal:
                self._period_us = m


def _cat(parts, dtype):
    return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)
