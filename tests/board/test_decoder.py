"""The decoder against random bytes, chunkings, bit flips, truncations and garbage."""
import numpy as np
from hypothesis import given, strategies as st

from rig.board import wire
from rig.board.decoder import Decoder
from rig.frames import FrameBatch

PERIOD_US = 12500
L = wire.SAMPLE_PACKET_LEN  # bytes per SAMPLE packet


def make_frames(n, seq0=0, t0=1000, seed=0):
    rng = np.random.default_rng(seed)
    seq = (seq0 + np.arange(n)) & 0xFFFF
    t = (t0 + PERIOD_US * np.arange(n)) & 0xFFFFFFFF
    raw = rng.integers(wire.INT24_MIN, wire.INT24_MAX + 1, (n, 4))
    status = rng.integers(0, 0x10000, n)
    data = wire.sample_packets(seq, t, raw, status)
    return data, seq, t, raw, status


def feed_chunked(d, data, cuts):
    out = []
    pos = 0
    for c in sorted(set(cuts)) + [len(data)]:
        if c > pos:
            out.append(d.feed(data[pos:c]))
            pos = c
    return FrameBatch.concat(out)


@given(st.data())
def test_any_chunking_gives_the_same_frames(data):
    n = data.draw(st.integers(1, 60))
    raw_bytes, seq, t, raw, status = make_frames(n, seed=n)
    cuts = data.draw(st.lists(st.integers(0, len(raw_bytes)), max_size=40))
    d = Decoder()
    b = feed_chunked(d, raw_bytes, cuts)
    assert b.seq.tolist() == seq.tolist()
    assert b.raw.tolist() == raw.tolist()
    assert b.status.tolist() == status.tolist()
    assert np.allclose(np.diff(b.t_s), PERIOD_US / 1e6)
    s = d.stats
    assert (s.frames_decoded, s.frames_lost, s.crc_failures, s.bytes_skipped) == (n, 0, 0, 0)
    assert s.bytes_in == len(raw_bytes)


@given(st.binary(max_size=3000), st.lists(st.integers(0, 3000), max_size=30))
def test_random_bytes_never_crash_and_stats_balance(blob, cuts):
    d = Decoder()
    b = feed_chunked(d, blob, [c for c in cuts if c <= len(blob)])
    s = d.stats
    # every byte is accounted for: skipped, inside a packet, or still pending
    in_packets = wire.SAMPLE_PACKET_LEN * s.frames_decoded  # no non-sample packets are likely
    assert s.bytes_in == len(blob)
    assert s.bytes_skipped + in_packets <= s.bytes_in
    assert len(b) == s.frames_decoded


@given(st.data())
def test_bit_flips_are_rejected_and_counted_exactly(data):
    n = 40
    raw_bytes, seq, t, raw, status = make_frames(n, seed=3)
    bad = bytearray(raw_bytes)
    # corrupt a set of frames (not the first or last), one bit each, outside the sync bytes
    # hits leave >= 4 frames after them: a corrupted length field may claim up to 103 bytes
    hit = sorted(data.draw(st.sets(st.integers(1, n - 5), max_size=10)))
    for i in hit:
        off = data.draw(st.integers(2, wire.SAMPLE_PACKET_LEN - 1))
        bit = data.draw(st.integers(0, 7))
        bad[i * wire.SAMPLE_PACKET_LEN + off] ^= 1 << bit
    cuts = data.draw(st.lists(st.integers(0, len(bad)), max_size=20))
    d = Decoder()
    b = feed_chunked(d, bytes(bad), cuts)
    good = [i for i in range(n) if i not in hit]
    # no frame whose CRC failed is ever delivered: everything delivered is an original frame
    assert b.seq.tolist() == [int(seq[i]) for i in good]
    assert b.raw.tolist() == [raw[i].tolist() for i in good]
    s = d.stats
    assert s.frames_decoded == len(good)
    assert s.frames_lost == len(hit)
    assert s.bytes_skipped == len(hit) * wire.SAMPLE_PACKET_LEN
    assert s.crc_failures + s.version_mismatches <= len(hit)
    assert d.pending_bytes == 0


@given(st.data())
def test_garbage_between_frames_is_skipped_exactly(data):
    n = 20
    raw_bytes, seq, *_ = make_frames(n, seed=5)
    frames = [raw_bytes[i * L:(i + 1) * L] for i in range(n)]
    # garbage without the sync byte A5, so it cannot hide or forge a packet
    garbage = [data.draw(st.binary(max_size=30).map(lambda b: b.replace(b"\xa5", b"\x00"))) for _ in range(n)]
    stream = b"".join(g + f for g, f in zip(garbage, frames))
    cuts = data.draw(st.lists(st.integers(0, len(stream)), max_size=20))
    d = Decoder()
    b = feed_chunked(d, stream, cuts)
    assert b.seq.tolist() == seq.tolist()
    assert d.stats.bytes_skipped == sum(len(g) for g in garbage)
    assert d.stats.crc_failures == 0


@given(st.integers(1, wire.SAMPLE_PACKET_LEN - 1))
def test_truncated_tail_waits_then_completes(k):
    raw_bytes, *_ = make_frames(3)
    d = Decoder()
    assert len(d.feed(raw_bytes[: 2 * L + k])) == 2
    assert d.pending_bytes == k
    assert len(d.feed(raw_bytes[2 * L + k:])) == 1
    assert d.stats.bytes_skipped == 0


def test_false_sync_inside_garbage_does_not_hide_a_frame():
    raw_bytes, seq, *_ = make_frames(2)
    # a false sync whose length field claims the following real frame's bytes
    stream = b"\xa5\x5a\x01\x01\x14" + raw_bytes
    d = Decoder()
    b = d.feed(stream)
    assert b.seq.tolist() == [0, 1]
    assert d.stats.crc_failures == 1 and d.stats.bytes_skipped == 5


def test_sequence_wrap_and_lost_frames_across_wrap():
    data, *_ = make_frames(10, seq0=65530)
    frames = [data[i * L:(i + 1) * L] for i in range(10)]
    d = Decoder()
    b = d.feed(b"".join(frames[:4] + frames[7:]))  # drops seq 65534, 65535, 0
    assert b.seq.tolist() == [65530, 65531, 65532, 65533, 1, 2, 3]
    assert d.stats.frames_lost == 3


def test_timestamp_unwraps_across_2_32():
    data, *_ = make_frames(8, t0=(1 << 32) - 3 * PERIOD_US)
    d = Decoder()
    b = d.feed(data)
    assert np.allclose(np.diff(b.t_s), PERIOD_US / 1e6)
    assert b.t_s[-1] > b.t_s[0]


def test_duplicates_are_dropped():
    data, *_ = make_frames(3)
    d = Decoder()
    b = d.feed(data[:2 * L] + data[L:2 * L] + data[2 * L:])
    assert b.seq.tolist() == [0, 1, 2]
    assert d.stats.duplicates == 1 and d.stats.frames_lost == 0


def test_board_reset_is_noticed_and_time_stays_monotonic():
    a, *_ = make_frames(5, seq0=100, t0=50_000_000)
    b_, *_ = make_frames(5, seq0=0, t0=20_000)  # rebooted: clock and sequence restart
    d = Decoder(nominal_period_s=PERIOD_US / 1e6)
    b = d.feed(a + b_)
    assert d.stats.resets == 1
    assert d.stats.frames_lost == 0
    assert np.all(np.diff(b.t_s) > 0)


def test_restart_after_start_command_is_not_a_loss():
    a, *_ = make_frames(5, seq0=0, t0=1000)
    b_, *_ = make_frames(5, seq0=0, t0=5_000_000)
    d = Decoder()
    d.feed(a)
    d.mark_stream_start()
    d.feed(b_)
    assert d.stats.frames_lost == 0 and d.stats.duplicates == 0 and d.stats.resets == 0


def test_other_packets_are_queued_in_order():
    h = wire.Hello(1, (1, 0, 0), b"\x01" * 8, 4, 80000, 1)
    data, *_ = make_frames(2)
    stream = wire.packet(wire.T_HELLO, h.payload()) + data + wire.packet(wire.T_ACK, wire.ack_payload(wire.C_START))
    d = Decoder()
    assert len(d.feed(stream)) == 2
    pk = d.take_packets()
    assert [p[0] for p in pk] == [wire.T_HELLO, wire.T_ACK]
    assert wire.Hello.from_payload(pk[0][1]) == h
