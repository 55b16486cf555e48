import numpy as np
import pytest

from rig.board import wire
from rig.board.decoder import Decoder
from golden import golden_vectors

VECTORS = golden_vectors()


def test_document_has_vectors_of_every_kind():
    types = {int(v["fields"]["type"], 0) for v in VECTORS}
    assert {wire.T_SAMPLE, wire.T_HELLO, wire.T_ACK, wire.T_CALIB, wire.C_IDENTIFY, wire.C_START,
            wire.C_STOP, wire.C_CALIB_READ, wire.C_CALIB_WRITE} <= types


def test_crc_check_value():
    assert wire.crc16(b"123456789") == 0x29B1
    rows = np.frombuffer(b"123456789" * 3, np.uint8).reshape(3, 9)
    assert wire.crc16_rows(rows).tolist() == [0x29B1] * 3


@pytest.mark.parametrize("v", VECTORS, ids=lambda v: v["name"])
def test_vector_encodes_from_its_fields(v):
    f = v["fields"]
    t = int(f["type"], 0)
    if t == wire.T_SAMPLE:
        raw = [int(x) for x in f["raw"].split(",")]
        assert wire.sample_packet(int(f["seq"]), int(f["t_us"]), raw, int(f["status"], 0)) == v["bytes"]
        assert wire.sample_packets([int(f["seq"])], [int(f["t_us"])], [raw], [int(f["status"], 0)]) == v["bytes"]
    elif t == wire.T_HELLO:
        fw = tuple(int(x) for x in f["firmware"].split("."))
        h = wire.Hello(int(f["wire"]), fw, bytes.fromhex(f["board_id"]), int(f["cells"]),
                       int(f["rate_mhz"]), int(f["adc"]), int(f["flags"]))
        assert wire.packet(wire.T_HELLO, h.payload()) == v["bytes"]
        assert wire.Hello.from_payload(v["bytes"][5:-2]) == h
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
    for cut in range(1, 40):
        d = Decoder()
        types = []
        n_samples = 0
        for i in range(0, len(stream), cut):
            n_samples += len(d.feed(stream[i:i + cut]))
            types += [p[0] for p in d.take_packets()]
        assert n_samples == expected.count(wire.T_SAMPLE)
        assert types == [t for t in expected if t != wire.T_SAMPLE]
        assert d.stats.bytes_skipped == 0 and d.stats.crc_failures == 0
