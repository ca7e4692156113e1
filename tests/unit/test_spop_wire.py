"""tests/support/spop_wire.py, the Python test agents' SPOP codec: the same
vectors and the same refusals as src/spop.c (tests/unit/test_spop.c), so a
Python agent and the C agent cannot read the wire differently."""
import os
import random
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import spop_wire as sw  # noqa: E402

U64_MAX = (1 << 64) - 1

# worked out by hand from SPOE.txt; the same table as test_spop.c
VARINT_VECTORS = [
    (0, "00"), (239, "ef"), (240, "f000"), (2287, "ff7f"), (2288, "f08000"),
    (16380, "fcf006"), (264431, "ffff7f"), (264432, "f0808000"), (33818863, "ffffff7f"),
    (33818864, "f080808000"), ((1 << 32) - 1, "fff0fefe7e"),
    (U64_MAX, "fff0fefefefefefefe0e"),
]


@pytest.mark.parametrize("value,hexbytes", VARINT_VECTORS)
def test_varint_vectors_encode_and_decode_both_ways(value, hexbytes):
    raw = bytes.fromhex(hexbytes)
    assert sw.varint_encode(value) == raw
    assert sw.varint_decode(raw, 0) == (value, len(raw))
    # a prefix is never mistaken for a shorter value
    for cut in range(len(raw)):
        with pytest.raises(sw.Malformed, match="past the end"):
            sw.varint_decode(raw[:cut], 0)


def test_varint_decodes_from_an_offset_and_stops_at_its_end():
    buf = b"\x07" + bytes.fromhex("fcf006") + b"\x99"
    assert sw.varint_decode(buf, 1) == (16380, 4)


def test_varint_random_values_round_trip():
    rng = random.Random(0x5E3D0C0DE)
    for _ in range(20000):
        v = rng.getrandbits(64) >> rng.randrange(64)
        raw = sw.varint_encode(v)
        assert sw.varint_decode(raw, 0) == (v, len(raw))


@pytest.mark.parametrize("hexbytes", [
    "ff" * 16,                              # continuation forever
    "f0" + "80" * 9 + "00",                 # ten bytes, the last still announcing more
    "ff" * 9 + "7f",                        # the tenth byte carries bits above bit 63
    "f0" + "80" * 8 + "10",
    "fff0fefefefefefefe0f",                 # one more than UINT64_MAX
    "ff" * 9 + "0f",
])
def test_varint_over_64_bits_rejected(hexbytes):
    with pytest.raises(sw.Malformed, match="over 64 bits"):
        sw.varint_decode(bytes.fromhex(hexbytes), 0)


def test_varint_every_tenth_byte_from_16_overflows():
    for last in range(16, 256):
        with pytest.raises(sw.Malformed, match="over 64 bits"):
            sw.varint_decode(bytes.fromhex("f0" + "80" * 8) + bytes([last]), 0)


def test_varint_encode_refuses_what_64_bits_cannot_hold():
    for v in (-1, 1 << 64):
        with pytest.raises(ValueError):
            sw.varint_encode(v)


@pytest.mark.parametrize("t,v,hexbytes", [
    (sw.T_NULL, None, "00"),
    (sw.T_BOOL, True, "11"),
    (sw.T_BOOL, False, "01"),
    (sw.T_INT32, -1, "02" + "fff0fefefefefefefe0e"),
    (sw.T_INT32, 2 ** 31 - 1, "02fff0fefe3e"),
    (sw.T_UINT32, 16380, "03fcf006"),
    (sw.T_INT64, -(1 << 63), "04f0f1fefefefefefefe06"),
    (sw.T_UINT64, U64_MAX, "05fff0fefefefefefefe0e"),
    (sw.T_IPV4, bytes([127, 0, 0, 1]), "067f000001"),
    (sw.T_IPV6, bytes(15) + b"\x01", "07" + "00" * 15 + "01"),
    (sw.T_STRING, b"GET", "0803474554"),
    (sw.T_BINARY, b"", "0900"),
])
def test_typed_values_encode_and_decode_both_ways(t, v, hexbytes):
    raw = bytes.fromhex(hexbytes)
    assert sw.value_encode(t, v) == raw
    assert sw.value_decode(raw, 0) == ((t, v), len(raw))
    for cut in range(len(raw)):
        with pytest.raises(sw.Malformed):
            sw.value_decode(raw[:cut], 0)


@pytest.mark.parametrize("t,raw", [
    (sw.T_INT32, 1 << 31),
    (sw.T_INT32, (1 << 64) - (1 << 31) - 1),
    (sw.T_INT32, (1 << 32) - 1),
    (sw.T_UINT32, 1 << 32),
    (sw.T_UINT32, U64_MAX),
])
def test_integer_out_of_its_type_range_rejected(t, raw):
    with pytest.raises(sw.Malformed, match="out of range"):
        sw.value_decode(bytes([t]) + sw.varint_encode(raw), 0)


def test_reserved_types_rejected():
    for t in range(10, 16):
        with pytest.raises(sw.Malformed, match="reserved type"):
            sw.value_decode(bytes([t, 0]), 0)


def test_string_length_past_the_end_rejected():
    with pytest.raises(sw.Malformed, match="string runs past the end"):
        sw.value_decode(bytes.fromhex("0804414243"), 0)


def test_agent_hello_bytes():
    want = bytes.fromhex(
        "00000046" "65" "00000001" "00" "00"
        "0776657273696f6e" "0803322e30"
        "0e6d61782d6672616d652d73697a65" "03fcf006"
        "0c6361706162696c6974696573" "0810706970656c696e696e672c6173796e63")
    assert sw.agent_hello(16380, "pipelining,async") == want
    assert sw.frame_length(want[:4]) == len(want) - 4
    ftype, flags, sid, fid, payload = sw.frame_decode(want[4:])
    assert (ftype, flags, sid, fid) == (sw.AGENT_HELLO, sw.FIN, 0, 0)
    assert sw.kv_list_decode(payload) == {
        "version": (sw.T_STRING, b"2.0"), "max-frame-size": (sw.T_UINT32, 16380),
        "capabilities": (sw.T_STRING, b"pipelining,async")}


def test_agent_disconnect_message_cut_to_255_bytes():
    f = sw.agent_disconnect(sw.STATUS_INVALID, "x" * 300)
    ftype, flags, sid, fid, payload = sw.frame_decode(f[4:])
    assert (ftype, flags, sid, fid) == (sw.AGENT_DISCONNECT, sw.FIN, 0, 0)
    assert sw.kv_list_decode(payload) == {"status-code": (sw.T_UINT32, 4),
                                          "message": (sw.T_STRING, b"x" * 255)}


def test_ack_carries_stream_and_frame_id_and_no_action():
    assert sw.ack(300, 7) == bytes.fromhex("00000008" "67" "00000001" "fc03" "07")


def test_frame_without_metadata_or_with_cut_ids_rejected():
    for body in (b"", b"\x03\x00\x00\x00", b"\x03\x00\x00\x00\x01", b"\x03\x00\x00\x00\x01\x05"):
        with pytest.raises(sw.Malformed):
            sw.frame_decode(body)


NOTIFY_PAYLOAD = bytes.fromhex(
    "0e6d6972726f722d72657175657374" "03"      # "mirror-request", 3 args
    "066d6574686f64" "0803474554"              # method = "GET"
    "00" "067f000001"                          # (unnamed) = 127.0.0.1
    "0468647273" "0906" "016101780000"         # hdrs = hdrs_bin {a: x}
    "0470696e67" "00")                         # "ping", no args


def test_notify_messages_decoded_with_names_and_typed_args():
    assert sw.messages_decode(NOTIFY_PAYLOAD) == [
        ("mirror-request", [("method", (sw.T_STRING, b"GET")),
                            ("", (sw.T_IPV4, b"\x7f\x00\x00\x01")),
                            ("hdrs", (sw.T_BINARY, bytes.fromhex("016101780000")))]),
        ("ping", [])]


def test_notify_encodes_the_payload_the_decoder_reads():
    frame = sw.notify(5, 1, [
        ("mirror-request", [("method", sw.T_STRING, b"GET"),
                            ("", sw.T_IPV4, b"\x7f\x00\x00\x01"),
                            ("hdrs", sw.T_BINARY, sw.headers_bin_encode([(b"a", b"x")]))]),
        ("ping", [])])
    assert sw.frame_length(frame[:4]) == len(frame) - 4
    assert sw.frame_decode(frame[4:]) == (sw.NOTIFY, sw.FIN, 5, 1, NOTIFY_PAYLOAD)


def test_haproxy_hello_carries_versions_frame_size_and_capabilities():
    ftype, flags, sid, fid, payload = sw.frame_decode(sw.haproxy_hello(16380)[4:])
    assert (ftype, flags, sid, fid) == (sw.HAPROXY_HELLO, sw.FIN, 0, 0)
    assert sw.kv_list_decode(payload) == {
        "supported-versions": (sw.T_STRING, b"2.0"),
        "max-frame-size": (sw.T_UINT32, 16380),
        "capabilities": (sw.T_STRING, b"pipelining,async")}


def test_notify_every_truncation_rejected_or_shorter():
    # a cut at a message boundary is a valid, shorter list; any other cut is refused
    whole = sw.messages_decode(NOTIFY_PAYLOAD)
    for cut in range(1, len(NOTIFY_PAYLOAD)):
        try:
            got = sw.messages_decode(NOTIFY_PAYLOAD[:cut])
        except sw.Malformed:
            continue
        assert got == whole[:len(got)] and cut == len(NOTIFY_PAYLOAD) - 6


def test_headers_bin_decoded_up_to_the_empty_pair():
    block = sw.bytes_encode(b"host") + sw.bytes_encode(b"t") + sw.bytes_encode(b"x-a") \
        + sw.bytes_encode(b"") + b"\x00\x00" + b"trailing ignored"
    assert sw.headers_bin_decode(block) == [(b"host", b"t"), (b"x-a", b"")]
    with pytest.raises(sw.Malformed):
        sw.headers_bin_decode(block[:-len(b"trailing ignored") - 1])


def test_headers_text_decoded_line_by_line():
    block = b"Host: t\r\nX-A:  b c \r\n\r\n"
    assert sw.headers_text_decode(block) == [(b"Host", b"t"), (b"X-A", b"b c")]


class FakeSock:
    def __init__(self, data):
        self.data = data

    def recv(self, n):
        n = min(n, 3, len(self.data))  # a few bytes at a time, as TCP may
        out, self.data = self.data[:n], self.data[n:]
        return out


def test_recv_frame_reads_one_frame_in_pieces_and_checks_its_size():
    two = sw.ack(1, 2) + sw.ack(3, 4)
    s = FakeSock(two)
    assert sw.recv_frame(s, 100) == (sw.ACK, sw.FIN, 1, 2, b"")
    assert sw.recv_frame(s, 100) == (sw.ACK, sw.FIN, 3, 4, b"")
    with pytest.raises(ConnectionError):
        sw.recv_frame(s, 100)
    with pytest.raises(sw.Malformed, match="frame of 7 bytes over 6"):
        sw.recv_frame(FakeSock(sw.ack(1, 2)), 6)
