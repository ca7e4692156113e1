"""tools/http-sink: counts, HTTP/1.1 framing and the fault modes the
reliability tests rely on. Each test starts its own sink on a free port."""
import json
import os
import signal
import socket
import time

import pytest

from bench_helpers import HTTP_SINK, Child, read_json, sink_counts

pytestmark = pytest.mark.skipif(not os.access(HTTP_SINK, os.X_OK),
                                reason="tools/http-sink not built (make check builds it)")

PIPELINED = (b"GET /a HTTP/1.1\r\nHost: h\r\n\r\n"
             b"POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello"
             b"POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
             b"3;x=y\r\nabc\r\n0\r\nX-Trailer: 1\r\n\r\n"
             b"GET /d HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")


def sink(tmp_path, *args):
    return Child([HTTP_SINK, "--max-runtime", "60", "--stats-file", str(tmp_path / "stats.json"),
                  "--log", str(tmp_path / "log")] + list(args))


def read_all(s, timeout=5.0):
    s.settimeout(timeout)
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            return data
        data += chunk


def statuses(data):
    return [int(line.split()[1]) for line in data.split(b"\r\n") if line.startswith(b"HTTP/1.1 ")]


def test_pipelined_requests_answered_in_order_and_counted(tmp_path):
    sk = sink(tmp_path)
    try:
        with socket.create_connection(("127.0.0.1", sk.port)) as s:
            s.sendall(PIPELINED)
            data = read_all(s)
        assert statuses(data) == [200, 200, 200, 200]
        assert data.endswith(b"\r\n\r\n")  # the close came after the 4th answer
        c = sink_counts(sk.port)
        assert c["requests"] == 4 and c["completed"] == 4
        assert c["body_bytes"] == 8
        assert c["parse_errors"] == 0
        with open(tmp_path / "log") as f:
            assert [line.split()[:3] for line in f] == [
                ["GET", "/a", "0"], ["POST", "/b", "5"], ["POST", "/c", "3"], ["GET", "/d", "0"]]
    finally:
        sk.stop()


def test_requests_split_into_single_bytes_are_counted_the_same(tmp_path):
    sk = sink(tmp_path)
    try:
        with socket.create_connection(("127.0.0.1", sk.port)) as s:
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            for i in range(len(PIPELINED)):
                s.send(PIPELINED[i:i + 1])
            data = read_all(s)
        assert statuses(data) == [200, 200, 200, 200]
        c = sink_counts(sk.port)
        assert (c["completed"], c["body_bytes"]) == (4, 8)
    finally:
        sk.stop()


def test_large_body_counted_without_buffering(tmp_path):
    body = os.urandom(3 * 1024 * 1024)
    sk = sink(tmp_path)
    try:
        with socket.create_connection(("127.0.0.1", sk.port)) as s:
            s.sendall(b"PUT /big HTTP/1.1\r\nHost: h\r\nContent-Length: %d\r\n"
                      b"Connection: close\r\n\r\n" % len(body) + body)
            assert statuses(read_all(s)) == [200]
        assert sink_counts(sk.port)["body_bytes"] == len(body)
    finally:
        sk.stop()


def test_expect_100_continue_gets_interim_answer(tmp_path):
    sk = sink(tmp_path)
    try:
        with socket.create_connection(("127.0.0.1", sk.port), timeout=5) as s:
            s.sendall(b"POST /e HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n"
                      b"Expect: 100-continue\r\nConnection: close\r\n\r\n")
            assert s.recv(100).startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
            s.sendall(b"data")
            assert b"HTTP/1.1 200 OK" in read_all(s)
    finally:
        sk.stop()


def test_malformed_request_gets_400_and_close(tmp_path):
    sk = sink(tmp_path)
    try:
        with socket.create_connection(("127.0.0.1", sk.port)) as s:
            s.sendall(b"NONSENSE\r\n\r\n")
            assert statuses(read_all(s)) == [400]
        assert sink_counts(sk.port)["parse_errors"] == 1
    finally:
        sk.stop()


def test_status_mode_answers_that_status(tmp_path):
    sk = sink(tmp_path, "--mode", "status:503")
    try:
        with socket.create_connection(("127.0.0.1", sk.port)) as s:
            s.sendall(b"GET /x HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
            assert statuses(read_all(s)) == [503]
        assert sink_counts(sk.port)["answered"] == 1  # /__count still works
    finally:
        sk.stop()


def test_reset_mode_resets_mid_request(tmp_path):
    sk = sink(tmp_path, "--mode", "reset")
    try:
        with socket.create_connection(("127.0.0.1", sk.port)) as s:
            # the head and only part of the declared body
            s.sendall(b"POST /r HTTP/1.1\r\nHost: h\r\nContent-Length: 100000\r\n\r\npartial")
            with pytest.raises(ConnectionResetError):
                read_all(s)
                s.sendall(b"x" * 65536)  # a reset also shows on the next send
        c = sink_counts(sk.port)
        assert c["requests"] == 1 and c["resets"] == 1 and c["answered"] == 0
    finally:
        sk.stop()


def test_blackhole_mode_never_answers(tmp_path):
    sk = sink(tmp_path, "--mode", "blackhole")
    try:
        with socket.create_connection(("127.0.0.1", sk.port)) as s:
            s.sendall(b"GET /b HTTP/1.1\r\nHost: h\r\n\r\n")
            s.settimeout(0.5)
            with pytest.raises(socket.timeout):
                s.recv(10)
        c = sink_counts(sk.port)
        assert c["requests"] == 1 and c["answered"] == 0
    finally:
        sk.stop()


def test_slow_mode_sends_one_byte_per_second(tmp_path):
    sk = sink(tmp_path, "--mode", "slow")
    try:
        with socket.create_connection(("127.0.0.1", sk.port)) as s:
            s.sendall(b"GET /s HTTP/1.1\r\nHost: h\r\n\r\n")
            s.settimeout(3)
            got = b""
            start = time.monotonic()
            while time.monotonic() - start < 2.5:
                try:
                    got += s.recv(100)
                except socket.timeout:
                    break
        # 2.5 s: two or three bytes of "HTTP/1.1 200 OK..." and no more
        assert 2 <= len(got) <= 3 and b"HTTP/1.1".startswith(got)
    finally:
        sk.stop()


def test_delay_mode_answers_after_the_delay(tmp_path):
    sk = sink(tmp_path, "--mode", "delay:300")
    try:
        with socket.create_connection(("127.0.0.1", sk.port)) as s:
            start = time.monotonic()
            s.sendall(b"GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n"
                      b"Connection: close\r\n\r\n")
            data = read_all(s)
            elapsed = time.monotonic() - start
        assert statuses(data) == [200, 200]
        assert 0.29 <= elapsed < 1.5
    finally:
        sk.stop()


def test_reset_endpoint_and_stats_file_on_signal(tmp_path):
    sk = sink(tmp_path)
    try:
        with socket.create_connection(("127.0.0.1", sk.port)) as s:
            s.sendall(b"POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n"
                      b"Connection: close\r\n\r\nabc")
            read_all(s)
        os.unlink(tmp_path / "stats.json") if (tmp_path / "stats.json").exists() else None
        sk.signal(signal.SIGUSR1)
        assert read_json(tmp_path / "stats.json")["body_bytes"] == 3
        from bench_helpers import http_get
        status, body = http_get(sk.port, "/__reset")
        assert status == 200 and json.loads(body)["requests"] == 0
        assert sink_counts(sk.port)["completed"] == 0
    finally:
        assert sk.stop() == 0
    assert read_json(tmp_path / "stats.json")["requests"] == 0
