import numpy as np
import pytest

from rig.board import wire
from rig.board.decoder import Decoder
from golden import golden_vectors

VECTORS = golden_vectors()


def test_document_has_vectors_of_every_kind():
    types = {int(v["fields"]["type"], 0) for v in VECTORS}
    assert {wire.T_SAMPLE, wire.T_HELLO, wire.T_ACK, wire.T_CALIB, wire.T_STATS, wire.C_IDENTIFY,
            wire.C_START, wire.C_STOP, wire.C_CALIB_READ, wire.C_CALIB_WRITE, wire.C_STATS} <= types


def test_crc_check_value():
    assert wire.crc16(b"123456789") == 0x29B1
    rows = np.frombuffer(b"123456789" * 3, np.uint8).reshape(3, 9)
    assert wire.crc16_rows(rows).tolist() == [0x29B1] * 3


def _ints(s):
    return [int(x) for x in s.split(",")]


@pytest.mark.parametrize("v", VECTORS, ids=lambda v: v["name"])
def test_vector_encodes_from_its_fields(v):
    f = v["fields"]
    t = int(f["type"], 0)
    ver = int(f.get("ver", wire.WIRE_VERSION))
    if t == wire.T_SAMPLE:
        raw, age = _ints(f["raw"]), _ints(f["age_us"])
        assert wire.sample_packet(int(f["seq"]), int(f["t_us"]), raw, int(f["status"], 0), age) == v["bytes"]
        assert wire.sample_packets([int(f["seq"])], [int(f["t_us"])], [raw], [int(f["status"], 0)], [age]) == v["bytes"]
    elif t == wire.T_HELLO:
        fw = tuple(int(x) for x in f["firmware"].split("."))
        h = wire.Hello(int(f["wire"]), fw, bytes.fromhex(f["board_id"]), int(f["cells"]),
                       int(f["rate_mhz"]), int(f["adc"]), int(f["flags"]))
        assert wire.packet(wire.T_HELLO, h.payload(), version=ver) == v["bytes"]
        assert wire.Hello.from_payload(v["bytes"][5:-2]) == h
    elif t == wire.T_STATS:
        chips = tuple(wire.ChipStats(*c) for c in zip(_ints(f["periods"]), _ints(f["span_us"]),
                                                        _ints(f["skipped"]), _ints(f["timeouts"])))
        st = wire.Stats(*(int(f[k]) for k in ("t_us", "frames_dropped", "uart_rx_errors", "uart_rx_overflows",
                                              "cmd_crc_failures", "cmd_bytes_skipped", "flags")), chips)
        assert wire.packet(t, st.payload()) == v["bytes"]
        assert wire.Stats.from_payload(v["bytes"][5:-2]) == st
        assert st.chips[0].rate_hz == pytest.approx(91 / 0.989011)
        assert np.isnan(st.chips[2].rate_hz)
    elif t == wire.T_ACK:
        assert wire.packet(t, wire.ack_payload(int(f["command"], 0), int(f["status"]))) == v["bytes"]
    elif t == wire.T_CALIB:
        assert wire.packet(t, wire.calib_payload(int(f["status"]), bytes.fromhex(f["blob"]))) == v["bytes"]
    else:
        blob = bytes.fromhex(f.get("blob", ""))
        assert wire.command(t, blob) == v["bytes"]


@pytest.mark.parametrize("v", [v for v in VECTORS if v["fields"]["type"] == "1"], ids=lambda v: v["name"])
def test_sample_vectors_decode_to_their_fields(v):
    d = Decoder()
    b = d.feed(v["bytes"])
    f = v["fields"]
    assert len(b) == 1
    assert int(b.seq[0]) == int(f["seq"])
    assert int(b.t_us[0]) == int(f["t_us"])
    assert b.raw[0].tolist() == [int(x) for x in f["raw"].split(",")]
    assert int(b.status[0]) == int(f["status"], 0)
    assert b.age_us[0].tolist() == _ints(f["age_us"])


# the SAMPLE "sample_extremes" of wire format version 1 (20-byte payload, no ages)
V1_SAMPLE = bytes.fromhex("A55A01011401 00D43000000100 00FFFFFFFF FF7F000080 200297A1".replace(" ", ""))


def test_version_1_samples_decode_with_unknown_ages():
    d = Decoder()
    b = d.feed(V1_SAMPLE + wire.sample_packet(2, 25000, (5, 6, 7, 8), 0, (1, 2, 3, 4)))
    assert b.raw.tolist() == [[1, -1, 8388607, -8388608], [5, 6, 7, 8]]
    assert b.age_us.tolist() == [[wire.AGE_UNKNOWN] * 4, [1, 2, 3, 4]]
    assert d.stats.bytes_skipped == 0 and d.stats.version_mismatches == 0


def test_version_1_hello_reaches_the_link_naming_its_version():
    v1 = next(v for v in VECTORS if v["name"] == "hello_v1")
    d = Decoder()
    d.feed(v1["bytes"])
    (ptype, payload), = d.take_packets()
    assert ptype == wire.T_HELLO and wire.Hello.from_payload(payload).wire_version == 1


def test_unknown_version_is_skipped_and_counted():
    bad = wire.packet(wire.T_SAMPLE, wire.sample_payload(0, 0, (0, 0, 0, 0)), version=3)
    d = Decoder()
    assert len(d.feed(bad)) == 0
    assert d.stats.version_mismatches == 1


@pytest.mark.parametrize("v", [v for v in VECTORS if v["fields"]["type"] == "1"], ids=lambda v: v["name"])
def test_every_single_bit_flip_is_rejected(v):
    good = v["bytes"]
    for bit in range(8 * len(good)):
        bad = bytearray(good)
        bad[bit // 8] ^= 1 << (bit % 8)
        d = Decoder()
        assert len(d.feed(bytes(bad))) == 0, f"bit {bit} flipped still decoded"


def test_board_to_host_vectors_in_any_chunking():
    stream = b"".join(v["bytes"] for v in VECTORS if int(v["fields"]["type"], 0) < 0x80)
    expected = [int(v["fields"]["type"], 0) for v in VECTORS if int(v["fields"]["type"], 0) < 0x80]
    for cut in range(1, 80):
        d = Decoder()
        types = []
        n_samples = 0
        for i in range(0, len(stream), cut):
            n_samples += len(d.feed(stream[i:i + cut]))
            types += [p[0] for p in d.take_packets()]
        assert n_samples == expected.count(wire.T_SAMPLE)
        assert types == [t for t in expected if t != wire.T_SAMPLE]
        assert d.stats.bytes_skipped == 0 and d.stats.crc_failures == 0
