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


# -- resets, sequence restarts, true counts ------------------------------------------------------

def test_reset_gap_is_its_true_length_from_host_time_not_a_nominal_step():
    # 5 frames up to board time 50.05 s, received at host 10.0 s; the board reboots; its new
    # clock reads 20 ms at the first frame after, and the host receives the 5 frames after it
    # (the last sent 50 ms after the first) at host 11.5 s: the first one was sent at 11.45 s.
    before, *_ = make_frames(5, seq0=100, t0=50_000_000)
    after, *_ = make_frames(5, seq0=0, t0=20_000)
    d = Decoder(nominal_period_s=PERIOD_US / 1e6)
    a = d.feed(before, host_t_s=10.0)
    b = d.feed(after, host_t_s=11.5)
    jump = b.t_s[0] - a.t_s[-1]
    # the host received the last frame before at 10.0 s and sent-time of the first after is 11.45 s
    assert abs(jump - 1.45) < 1e-6
    assert d.stats.resets == 1 and abs(d.stats.reset_gap_s - 1.45) < 1e-6
    assert len(d.gaps) == 1 and abs(d.gaps[0][0] - a.t_s[-1]) < 1e-9 and abs(d.gaps[0][1] - jump) < 1e-9
    assert d.stats.frames_lost == 0
    assert np.allclose(np.diff(b.t_s), PERIOD_US / 1e6)


def test_reset_without_host_time_keeps_at_least_the_new_clock_reading():
    before, *_ = make_frames(5, seq0=100, t0=50_000_000)
    after, *_ = make_frames(5, seq0=2, t0=400_000)  # frames 0 and 1 after the reboot were lost
    d = Decoder(nominal_period_s=PERIOD_US / 1e6)
    b = d.feed(before + after)
    i = int(np.flatnonzero(np.diff(b.t_s) > 0.1)[0])
    assert abs((b.t_s[i + 1] - b.t_s[i]) - 0.4) < 1e-6   # lower bound: the firmware ran 0.4 s
    assert d.stats.resets == 1 and d.stats.frames_lost == 2


def test_reset_announced_by_hello_is_counted_once_even_when_the_clock_does_not_go_back():
    before, *_ = make_frames(4, seq0=7, t0=30_000)      # streamed only 30 ms before the reset
    after, *_ = make_frames(4, seq0=0, t0=90_000)       # new clock already past the old one
    d = Decoder(nominal_period_s=PERIOD_US / 1e6)
    a = d.feed(before, host_t_s=5.0)
    d.note_reset()            # the link saw an unsolicited HELLO
    d.mark_stream_start()     # and sent START again
    b = d.feed(after, host_t_s=6.2)
    assert d.stats.resets == 1
    assert abs((b.t_s[0] - a.t_s[-1]) - (1.2 - 3 * PERIOD_US / 1e6)) < 1e-6
    assert d.stats.frames_lost == 0 and d.stats.sequence_restarts == 0


def test_reset_after_the_clock_passed_2_31_us_is_found_from_host_time():
    # 40 minutes in, the old clock is past 2^31 us: the new clock's small value looks "ahead"
    # modulo 2^32; the host saw only 1.5 s pass, so the board clock restarted
    before, *_ = make_frames(5, seq0=9000, t0=3_900_000_000)
    after, *_ = make_frames(5, seq0=0, t0=30_000)
    d = Decoder(nominal_period_s=PERIOD_US / 1e6)
    a = d.feed(before, host_t_s=100.0)
    b = d.feed(after, host_t_s=101.5)
    assert d.stats.resets == 1 and d.stats.frames_lost == 0
    assert abs((b.t_s[0] - a.t_s[-1]) - (1.5 - 4 * PERIOD_US / 1e6)) < 1e-6


def test_repeated_start_restarts_the_sequence_without_65000_lost_frames():
    # START obeyed, its ACK corrupted, START sent again: the board restarts its sequence at 0
    # on the next conversion; frames 79 (before) and 0, 1 (after) were corrupted on the way.
    seq = np.r_[np.arange(80), np.arange(10)]
    t = 1000 + PERIOD_US * np.arange(90)
    raw = np.zeros((90, 4), dtype=np.int64)
    pk = wire.sample_packets(seq, t, raw, np.zeros(90, dtype=np.int64))
    frames = [pk[i * wire.SAMPLE_PACKET_LEN:(i + 1) * wire.SAMPLE_PACKET_LEN] for i in range(90)]
    keep = [i for i in range(90) if i not in (79, 80, 81)]
    d = Decoder(nominal_period_s=0.0125)
    d.mark_stream_start()
    b = d.feed(b"".join(frames[i] for i in keep), host_t_s=1.0)
    assert d.stats.frames_lost == 3
    assert d.stats.sequence_restarts == 1 and d.stats.resets == 0
    assert np.allclose(np.diff(b.t_s)[np.diff(b.t_s) < 0.02], PERIOD_US / 1e6)
    assert len(b) == 87


def test_frames_lost_at_the_start_of_a_stream_are_counted():
    data, *_ = make_frames(6, seq0=0)
    d = Decoder()
    d.mark_stream_start()
    d.feed(data[3 * wire.SAMPLE_PACKET_LEN:])  # seq 0, 1, 2 never arrived
    assert d.stats.frames_lost == 3


# -- linear time and bounded memory --------------------------------------------------------------

def _noisy_stream(n_frames, seed):
    """Frames with about one in three corrupted: many breaks in the stream."""
    data, *_ = make_frames(n_frames, seed=seed)
    arr = np.frombuffer(data, dtype=np.uint8).copy()
    rng = np.random.default_rng(seed)
    hit = rng.random(len(arr)) < 0.015
    arr[hit] ^= rng.integers(1, 256, int(hit.sum()), dtype=np.uint8)
    return arr.tobytes()


def _frames_hiding_packets(n_frames):
    """Frames whose raw bytes each hold a complete valid ACK packet: a candidate inside every
    frame, so the scan breaks at every frame (the old scan was quadratic here: 10x the time
    for 4x the bytes)."""
    ack = wire.packet(wire.T_ACK, wire.ack_payload(wire.C_START, 0))
    out = bytearray()
    for i in range(n_frames):
        payload = (i & 0xFFFF).to_bytes(2, "little") + (1000 + PERIOD_US * i).to_bytes(4, "little")
        payload += ack + bytes(12 - len(ack)) + b"\0\0"
        out += wire.packet(wire.T_SAMPLE, payload)
    return bytes(out)


def test_one_large_feed_costs_work_linear_in_its_size_and_equals_small_feeds():
    cases = [(_noisy_stream(20_000, 1), _noisy_stream(80_000, 1)),          # 0.5 and 2.2 MB
             (_frames_hiding_packets(20_000), _frames_hiding_packets(80_000))]
    for small, big in cases:
        _check_linear(small, big)


def _check_linear(small, big):
    works = []
    for blob in (small, big):
        d = Decoder()
        one = d.feed(blob)
        works.append(d.work / len(blob))
        d2 = Decoder()
        parts = FrameBatch.concat([d2.feed(blob[i:i + 4096]) for i in range(0, len(blob), 4096)])
        assert np.array_equal(one.seq, parts.seq) and np.array_equal(one.t_s, parts.t_s)
        assert d.stats.frames_lost == d2.stats.frames_lost and d.stats.crc_failures == d2.stats.crc_failures
    # work per byte does not grow with the size of the feed (quadratic: it grew 4-fold here)
    assert works[1] < 1.2 * works[0] and works[1] < 3.0


def test_one_large_feed_holds_temporary_memory_bounded_by_the_chunk():
    import tracemalloc

    from rig.board.decoder import CHUNK_BYTES

    peaks = []
    for n in (40_000, 160_000):                   # 1.1 MB and 4.3 MB of frames
        blob = _noisy_stream(n, 2)
        d = Decoder()
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        out = d.feed(blob)
        peak = tracemalloc.get_traced_memory()[1] - base
        tracemalloc.stop()
        result = sum(getattr(out, f).nbytes for f in FrameBatch.fields())
        peaks.append(peak - 2 * result)           # the frames returned (and their concat copy)
    # the temporary memory beyond the result is bounded by the chunk, not by the input
    assert peaks[1] < peaks[0] + 2 * CHUNK_BYTES * 64
    assert peaks[1] < 64 * CHUNK_BYTES
