"""SPOP wire format for the Python test agents (bench/fake_agent.py,
tests/e2e/harness/spoa_recorder.py): varints, typed data, KV-lists, frames,
the agent's HELLO/ACK/DISCONNECT, NOTIFY messages and header blocks.

One copy, so the test agents cannot disagree with each other about the
format. Decoders follow src/spop.c: they take (buf, pos), return
(value, next pos) and raise Malformed for anything that runs past the end,
overflows 64 bits or uses a reserved type. Only the two frame readers at the
bottom touch I/O, and only through what they are handed.

Scripts import it by path:
    sys.path.insert(0, os.path.join(<repo top>, "tests", "support"))
    import spop_wire
"""
import struct

# frame types (doc/SPOE.txt 3.2.4)
UNSET, HAPROXY_HELLO, HAPROXY_DISCONNECT, NOTIFY = 0, 1, 2, 3
AGENT_HELLO, AGENT_DISCONNECT, ACK = 101, 102, 103
# frame flags
FIN, ABORT = 1, 2
# typed-data types (3.1)
T_NULL, T_BOOL, T_INT32, T_UINT32, T_INT64, T_UINT64 = 0, 1, 2, 3, 4, 5
T_IPV4, T_IPV6, T_STRING, T_BINARY = 6, 7, 8, 9
# DISCONNECT status codes used by the test agents
STATUS_NONE, STATUS_INVALID = 0, 4

U64 = 1 << 64
FRAME_HEAD = 4  # the big-endian length before each frame


class Malformed(ValueError):
    """Input the codec refuses: truncated, over 64 bits, reserved type."""


# ---- varint ("peers" encoding) ----

def varint_encode(v):
    if not 0 <= v < U64:
        raise ValueError("varint out of range: %d" % v)
    if v < 240:
        return bytes([v])
    out = bytearray([(v | 0xF0) & 0xFF])
    v = (v - 240) >> 4
    while v >= 128:
        out.append((v | 0x80) & 0xFF)
        v = (v - 128) >> 7
    out.append(v)
    return bytes(out)


def varint_decode(buf, pos):
    """Refuses what spop_varint_decode() refuses, with the same verdict."""
    if pos >= len(buf):
        raise Malformed("varint runs past the end")
    v = buf[pos]
    pos += 1
    if v < 240:
        return v, pos
    shift = 4
    while True:
        if pos >= len(buf):
            raise Malformed("varint runs past the end")
        b = buf[pos]
        pos += 1
        v += b << shift
        # the 10th byte (shift 60) may add at most 15; one that announces
        # an 11th is already over, so no separate length limit is needed
        if v >= U64:
            raise Malformed("varint over 64 bits")
        if b < 128:
            return v, pos
        shift += 7


# ---- strings and typed data ----

def bytes_encode(b):
    """varint length + bytes: names and message names (no type byte)."""
    if isinstance(b, str):
        b = b.encode()
    return varint_encode(len(b)) + b


def bytes_decode(buf, pos):
    n, pos = varint_decode(buf, pos)
    if n > len(buf) - pos:
        raise Malformed("string runs past the end")
    return bytes(buf[pos:pos + n]), pos + n


def value_encode(t, v=None):
    """Typed data: the type byte, then the value. Signed integers travel as
    the two's complement of a 64-bit value, as HAProxy sends them."""
    if t == T_NULL:
        return bytes([T_NULL])
    if t == T_BOOL:
        return bytes([T_BOOL | (0x10 if v else 0)])
    if t in (T_INT32, T_INT64):
        return bytes([t]) + varint_encode(v % U64)
    if t in (T_UINT32, T_UINT64):
        return bytes([t]) + varint_encode(v)
    if t in (T_IPV4, T_IPV6):
        if len(v) != (4 if t == T_IPV4 else 16):
            raise ValueError("address of %d bytes for type %d" % (len(v), t))
        return bytes([t]) + bytes(v)
    if t in (T_STRING, T_BINARY):
        return bytes([t]) + bytes_encode(v)
    raise ValueError("reserved type %d" % t)


def value_decode(buf, pos):
    """((type, value), pos): int for integers (signed for INT32/INT64),
    bool, None, bytes for addresses, strings and binaries."""
    if pos >= len(buf):
        raise Malformed("typed data runs past the end")
    tag = buf[pos]
    pos += 1
    t = tag & 0x0F
    if t == T_NULL:
        return (t, None), pos
    if t == T_BOOL:
        return (t, bool(tag & 0x10)), pos
    if t in (T_INT32, T_UINT32, T_INT64, T_UINT64):
        n, pos = varint_decode(buf, pos)
        if t in (T_INT32, T_INT64) and n >= U64 // 2:
            n -= U64
        if t == T_INT32 and not -(1 << 31) <= n < (1 << 31):
            raise Malformed("INT32 out of range")
        if t == T_UINT32 and n >= 1 << 32:
            raise Malformed("UINT32 out of range")
        return (t, n), pos
    if t in (T_IPV4, T_IPV6):
        size = 4 if t == T_IPV4 else 16
        if size > len(buf) - pos:
            raise Malformed("address runs past the end")
        return (t, bytes(buf[pos:pos + size])), pos + size
    if t in (T_STRING, T_BINARY):
        s, pos = bytes_decode(buf, pos)
        return (t, s), pos
    raise Malformed("reserved type %d" % t)


# ---- KV-lists ----

def kv_encode(name, t, v=None):
    return bytes_encode(name) + value_encode(t, v)


def kv_list_decode(buf, pos=0):
    """{name (str): (type, value)} to the end of buf."""
    out = {}
    while pos < len(buf):
        name, pos = bytes_decode(buf, pos)
        out[name.decode("latin-1")], pos = value_decode(buf, pos)
    return out


# ---- frames ----

def frame_encode(ftype, flags, sid, fid, payload=b""):
    body = (bytes([ftype]) + struct.pack(">I", flags) + varint_encode(sid)
            + varint_encode(fid) + payload)
    return struct.pack(">I", len(body)) + body


def frame_length(head):
    """The length in the 4 bytes before a frame."""
    return struct.unpack(">I", head)[0]


def frame_decode(body):
    """(type, flags, stream-id, frame-id, payload) of a frame without its
    length prefix."""
    if len(body) < 5:
        raise Malformed("frame of %d bytes has no metadata" % len(body))
    ftype = body[0]
    (flags,) = struct.unpack(">I", body[1:5])
    sid, pos = varint_decode(body, 5)
    fid, pos = varint_decode(body, pos)
    return ftype, flags, sid, fid, bytes(body[pos:])


def agent_hello(max_frame_size, caps, version="2.0"):
    return frame_encode(AGENT_HELLO, FIN, 0, 0,
                        kv_encode("version", T_STRING, version)
                        + kv_encode("max-frame-size", T_UINT32, max_frame_size)
                        + kv_encode("capabilities", T_STRING, caps))


def haproxy_hello(max_frame_size, caps="pipelining,async", version="2.0"):
    """HAProxy's side of the handshake, for tests that play HAProxy."""
    return frame_encode(HAPROXY_HELLO, FIN, 0, 0,
                        kv_encode("supported-versions", T_STRING, version)
                        + kv_encode("max-frame-size", T_UINT32, max_frame_size)
                        + kv_encode("capabilities", T_STRING, caps))


def agent_disconnect(status, message):
    """The message is cut to the 255 bytes the protocol allows."""
    if isinstance(message, str):
        message = message.encode()
    return frame_encode(AGENT_DISCONNECT, FIN, 0, 0,
                        kv_encode("status-code", T_UINT32, status)
                        + kv_encode("message", T_STRING, message[:255]))


def ack(sid, fid, actions=b""):
    return frame_encode(ACK, FIN, sid, fid, actions)


# ---- NOTIFY messages ----

def notify(sid, fid, messages):
    """A NOTIFY frame (FIN) carrying messages [(name, [(arg, type, value)])]."""
    payload = b""
    for name, args in messages:
        payload += bytes_encode(name) + bytes([len(args)])
        payload += b"".join(kv_encode(a, t, v) for a, t, v in args)
    return frame_encode(NOTIFY, FIN, sid, fid, payload)


def headers_bin_encode(pairs):
    """req.hdrs_bin / res.hdrs_bin: each name and value length-prefixed, then
    two empty strings."""
    return b"".join(bytes_encode(n) + bytes_encode(v) for n, v in pairs) + b"\x00\x00"


def messages_decode(payload, pos=0):
    """[(name, [(arg name, (type, value))])] to the end of payload; names as
    str (latin-1: HAProxy does not promise UTF-8)."""
    msgs = []
    while pos < len(payload):
        name, pos = bytes_decode(payload, pos)
        if pos >= len(payload):
            raise Malformed("message without nb-args")
        nargs = payload[pos]
        pos += 1
        args = []
        for _ in range(nargs):
            aname, pos = bytes_decode(payload, pos)
            value, pos = value_decode(payload, pos)
            args.append((aname.decode("latin-1"), value))
        msgs.append((name.decode("latin-1"), args))
    return msgs


# ---- header blocks (req.hdrs_bin, req.hdrs) ----

def headers_bin_decode(block):
    """[(name, value)] as bytes, up to the two empty strings that end it."""
    pos, out = 0, []
    while True:
        name, pos = bytes_decode(block, pos)
        value, pos = bytes_decode(block, pos)
        if not name and not value:
            return out
        out.append((name, value))


def headers_text_decode(block):
    """[(name, value)] as bytes of an HTTP/1 header block `Name: value\\r\\n`."""
    out = []
    for line in bytes(block).split(b"\r\n"):
        if line:
            name, _, value = line.partition(b":")
            out.append((name.strip(), value.strip()))
    return out


# ---- reading frames (the caller owns the socket or stream) ----

def _checked_length(head, max_size):
    n = frame_length(head)
    if n > max_size:
        raise Malformed("frame of %d bytes over %d" % (n, max_size))
    return n


def recv_exact(sock, n):
    data = bytearray()
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return bytes(data)


def recv_frame(sock, max_size):
    """One frame from a blocking socket, decoded as by frame_decode()."""
    n = _checked_length(recv_exact(sock, FRAME_HEAD), max_size)
    return frame_decode(recv_exact(sock, n))


async def stream_read_frame(reader, max_size):
    """One frame from an asyncio StreamReader, decoded as by frame_decode()."""
    n = _checked_length(await reader.readexactly(FRAME_HEAD), max_size)
    return frame_decode(await reader.readexactly(n))
