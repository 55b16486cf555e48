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
"""
from __future__ import annotations

import numpy as np

from rig.board import wire
from rig.frames import DecoderStats, FrameBatch

_NEED_MORE = 0
_VALID = 1
_INVALID = 2


class Decoder:
    """Feed bytes, get frames. Keeps exact statistics in ``stats``.

    ``nominal_period_s`` is used only to continue the unwrapped time across a board reset.
    """

    def __init__(self, nominal_period_s: float = 0.0125):
        self.stats = DecoderStats()
        self._buf = bytearray()
        self._packets: list[tuple[int, bytes]] = []
        self._last_seq: int | None = None
        self._last_t_us: int | None = None
        self._t_base_us = 0  # unwrapped microseconds of the last frame
        self.nominal_period_s = nominal_period_s
        self._expect_restart = False

    # -- public -----------------------------------------------------------------------------
    @property
    def pending_bytes(self) -> int:
        """Bytes held back because they may start a packet that is not complete yet."""
        return len(self._buf)

    def mark_stream_start(self) -> None:
        """The host sent START: the next frame's seq restarts at 0 without any loss."""
        self._expect_restart = True

    def note_reset(self) -> None:
        """The link saw an unsolicited HELLO: the board rebooted."""
        self.stats.resets += 1
        self._expect_restart = True
        self._reset_pending = True

    def take_packets(self) -> list[tuple[int, bytes]]:
        """Non-sample packets decoded so far, as (type, payload); the queue is emptied."""
        out, self._packets = self._packets, []
        return out

    def feed(self, data: bytes, host_t_s: float | None = None) -> FrameBatch:
        """Decode ``data`` (appended to anything held back) and return the new SAMPLE frames."""
        self.stats.bytes_in += len(data)
        self._buf += data
        buf = np.frombuffer(bytes(self._buf), dtype=np.uint8)
        n = buf.shape[0]
        if n < 2:
            return FrameBatch.empty()

        cand = np.flatnonzero((buf[:-1] == 0xA5) & (buf[1:] == 0x5A))
        state, end = self._judge(buf, cand)

        starts, ends, keep_from = self._walk(cand, state, end, n, bool(buf[-1] == 0xA5))

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
    def _walk(cand, state, end, n, tail_a5):
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
            while i < len(live):
                if not lvalid[i]:
                    return _cat(starts, np.int64), _cat(ends, np.int64), int(pos[i])
                # take the run of valid packets that follow each other exactly
                brk = np.flatnonzero(~seq_ok[i:])
                j = i + (int(brk[0]) if len(brk) else len(live) - i)
                # j itself is accepted when valid (its successor is just not j + 1);
                # when it needs more data the next round stops there
                last = j if (j < len(live) and lvalid[j]) else j - 1
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
            raw[:, c] = np.where(v & 0x800000, v - 0x1000000, v)
        status = (p[:, 18] | (p[:, 19] << 8)).astype(np.uint16)
        age = (p[:, 20:28:2] | (p[:, 21:28:2] << 8)).astype(np.uint16)
        age[is_v1[is_sample]] = wire.AGE_UNKNOWN
        return self._sequence(seq, t_us, raw, status, host_t_s, age)

    def _sequence(self, seq, t_us, raw, status, host_t_s, age=None) -> FrameBatch:
        """Drop duplicates, count lost frames and resets, unwrap the board clock."""
        n = len(seq)
        prev_seq = np.empty(n, dtype=np.int64)
        prev_t = np.empty(n, dtype=np.int64)
        prev_seq[1:] = seq[:-1]
        prev_t[1:] = t_us[:-1]
        first_fresh = self._last_seq is None
        prev_seq[0] = int(seq[0]) - 1 if first_fresh else self._last_seq
        prev_t[0] = t_us[0] if first_fresh else self._last_t_us
        dseq = (seq.astype(np.int64) - prev_seq) % 65536
        dt = (t_us.astype(np.int64) - prev_t) % (1 << 32)
        went_back = dt >= (1 << 31)
        restart = went_back.copy()
        if self._expect_restart and not first_fresh:
            restart[0] = True
        reset_pending = getattr(self, "_reset_pending", False)
        # A clock that went back is a reset unless we already counted it from the HELLO.
        n_back = int(np.sum(went_back))
        if reset_pending and n_back:
            n_back -= 1
        self.stats.resets += n_back
        self._reset_pending = False
        self._expect_restart = False
        dup = (dseq == 0) & ~restart
        if first_fresh:
            dup[0] = False
        lost = np.where(restart | dup, 0, dseq - 1)
        self.stats.frames_lost += int(lost.sum())
        self.stats.duplicates += int(dup.sum())
        period_us = int(round(self.nominal_period_s * 1e6))
        step = np.where(went_back, period_us, dt)
        if first_fresh:
            step[0] = 0
            base = int(t_us[0])
        else:
            base = self._t_base_us
        t_unwrapped = base + np.cumsum(step)
        keep = ~dup
        self._last_seq = int(seq[-1])
        self._last_t_us = int(t_us[-1])
        self._t_base_us = int(t_unwrapped[-1])
        k = int(keep.sum())
        self.stats.frames_decoded += k
        host = np.full(k, np.nan if host_t_s is None else host_t_s, dtype=np.float64)
        return FrameBatch(seq[keep], t_us[keep], t_unwrapped[keep] / 1e6, host, raw[keep], status[keep],
                          None if age is None else age[keep])


def _cat(parts, dtype):
    return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)
