"""test_hostile.py - malformed HTTP, slow senders, oversized bodies, traversal, disconnects:
the server answers or closes, never crashes, hangs or keeps working for nobody."""
import json
import select
import socket
import struct
import threading
import time

import pytest
import requests

from conftest import Server, free_port, post


def raw(server, data, timeout=10, read=True):
    """Sends bytes on a fresh connection and returns what comes back until close/timeout."""
    s = socket.create_connection(("127.0.0.1", server.port), timeout=timeout)
    try:
        s.sendall(data)
        out = b""
        if read:
            while True:
                try:
                    chunk = s.recv(65536)
                except socket.timeout:
                    break
                if not chunk:
                    break
                out += chunk
        return out
    finally:
        s.close()


def status_of(reply):
    return int(reply.split(b" ", 2)[1]) if reply.startswith(b"HTTP/1.") else None


def healthy(server):
    assert requests.get(server.url + "/health", timeout=10).status_code == 200
    server.check_alive()


def test_malformed_request_lines(server):
    for junk in (b"GARBAGE\r\n\r\n", b"GET\r\n\r\n", b"GET / HTTP/9.9\r\nHost: x\r\n\r\n",
                 b"\x00\x01\x02\x03\r\n\r\n", b"GET /health HTTP/1.1\r\nBad Header\r\n\r\n",
                 b"POST /synthesize HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
                 b"POST /synthesize HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                 b"Transfer-Encoding: chunked\r\n\r\nzz\r\n"):
        reply = raw(server, junk, timeout=5)
        code = status_of(reply)
        assert code is None or 400 <= code < 600, (junk, reply[:200])
    healthy(server)


def test_huge_headers_are_refused(server):
    reply = raw(server, b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100000 + b"\r\n\r\n")
    code = status_of(reply)
    assert code is None or code in (400, 413, 431), reply[:200]
    healthy(server)


def test_huge_content_length_is_413_before_the_body(server):
    reply = raw(server, b"POST /synthesize HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
                        b"\r\nContent-Length: 99999999999\r\n\r\n", timeout=5)
    assert status_of(reply) == 413, reply[:300]
    assert b"PayloadTooLarge" in reply
    healthy(server)


def test_oversized_chunked_body_gets_413(server):
    """A chunked body (no declared length) past the limit: the client that sends it whole
    reads a 413 that says the limit, not a dropped connection."""
    s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    s.sendall(b"POST /synthesize HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
    chunk = b"a" * 16384
    try:
        for _ in range(64):  # 1 MiB, far past the 64 KiB limit
            s.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
        s.sendall(b"0\r\n\r\n")
        reply = b""
        while True:
            data = s.recv(65536)
            if not data:
                break
            reply += data
    finally:
        s.close()
    assert status_of(reply) == 413, reply[:200]
    body = json.loads(reply.split(b"\r\n\r\n", 1)[1])
    assert body["error"] == "PayloadTooLarge" and body["details"]["max_bytes"] == 65536
    healthy(server)


def test_endless_chunked_body_is_dropped(server):
    """Past 16 MiB of a too-large body the server stops reading and closes."""
    s = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    s.sendall(b"POST /synthesize HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
    chunk = b"%x\r\n" % 65536 + b"a" * 65536 + b"\r\n"
    sent = 0
    try:
        while sent < 64 << 20:
            s.sendall(chunk)
            sent += len(chunk)
    except (BrokenPipeError, ConnectionResetError):
        pass
    finally:
        s.close()
    assert sent < 40 << 20, f"the server read {sent} bytes of a body it had refused"
    healthy(server)


def test_expect_100_continue_with_too_large_body(server):
    reply = raw(server, b"POST /synthesize HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                        b"Expect: 100-continue\r\nContent-Length: 10000000\r\n\r\n", timeout=5)
    assert status_of(reply) == 413 and b"100 Continue" not in reply


def test_slow_sender_is_dropped_and_does_not_block_others(server):
    """A client that sends half a request and stalls is closed after the idle timeout (4 s
    here) while other clients are served normally."""
    s = socket.create_connection(("127.0.0.1", server.port), timeout=20)
    s.sendall(b"POST /synthesize HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"te")
    t0 = time.time()
    for _ in range(3):
        assert requests.get(server.url + "/health", timeout=5).status_code == 200
    try:
        data = s.recv(1024)
    except ConnectionResetError:
        data = b""
    waited = time.time() - t0
    s.close()
    assert data == b"" or status_of(data) in (408, 400), data
    assert 2 < waited < 15, waited


def test_trickling_headers_are_bounded(server):
    """Headers sent a byte at a time, slower than the idle timeout, get the connection closed."""
    s = socket.create_connection(("127.0.0.1", server.port), timeout=20)
    s.sendall(b"GET /health HTTP/1.1\r\n")
    time.sleep(5)
    try:
        s.sendall(b"Host: x\r\n\r\n")
        data = s.recv(1024)
    except (BrokenPipeError, ConnectionResetError):
        data = b""
    s.close()
    assert data == b"", data[:100]
    healthy(server)


def test_many_idle_connections_do_not_stop_service(server):
    socks = [socket.create_connection(("127.0.0.1", server.port), timeout=10) for _ in range(40)]
    # 40 stays under the per-address cap (64), so /health below still finds a slot
    try:
        assert requests.get(server.url + "/health", timeout=5).status_code == 200
    finally:
        for s in socks:
            s.close()


def test_web_path_traversal_is_refused(server):
    for path in ("/web/../secret.txt", "/web/%2e%2e/secret.txt", "/web/..%2fsecret.txt",
                 "/web/link.txt", "/web/sub/../../secret.txt", "/web/.hidden", "/web//etc/passwd",
                 "/web/%00index.html", "/web/sub/..%5c..%5csecret.txt"):
        reply = raw(server, b"GET " + path.encode() + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert b"outside the web folder" not in reply, path
        assert status_of(reply) in (400, 404), (path, reply[:200])
    healthy(server)


def test_invalid_json_floods_leave_no_trace(server):
    bodies = [b"{", b"[" * 100000, b'{"text":"' + b"\xff" * 1000 + b'"}', b"\x00" * 1000,
              b'{"text": "a", "text": "a"}', b'{"a":' * 5000]
    for b in bodies:
        r = requests.post(server.url + "/synthesize", data=b, timeout=30,
                          headers={"Content-Type": "application/json"})
        assert r.status_code in (400, 413), (b[:20], r.status_code)
    healthy(server)


def test_disconnect_cancels_streaming_work(server):
    """A client that goes away mid-stream stops its synthesis: the job shows up as cancelled
    and the workers are free again soon after."""
    def metric(name):
        for line in requests.get(server.url + "/metrics", timeout=10).text.splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
        return 0.0

    before = metric("kokoro_cancelled_total")
    long_text = " ".join(f"This is sentence number {i} of a long text." for i in range(40))
    s = socket.create_connection(("127.0.0.1", server.port), timeout=300)
    body = ('{"input": "%s", "response_format": "pcm"}' % long_text).encode()
    s.sendall(b"POST /v1/audio/speech HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"Content-Length: %d\r\n\r\n" % len(body) + body)
    first = s.recv(4096)
    assert status_of(first) == 200
    s.close()
    deadline = time.time() + 120
    while time.time() < deadline and metric("kokoro_cancelled_total") <= before:
        time.sleep(0.2)
    assert metric("kokoro_cancelled_total") > before
    deadline = time.time() + 120
    while time.time() < deadline and metric("kokoro_workers_busy") > 0:
        time.sleep(0.2)
    assert metric("kokoro_workers_busy") == 0


def test_disconnect_while_waiting_for_synthesize(server):
    """A /synthesize client whose connection is reset before its audio is ready cancels the
    job. (A plain close sends only a FIN, which a half-closing client sends too: that request
    runs on until its answer cannot be written; test_half_close_still_gets_the_audio.)"""
    text = " ".join(f"Sentence {i} keeps the worker busy." for i in range(20))
    s = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    body = ('{"text": "%s"}' % text).encode()
    s.sendall(b"POST /synthesize HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"X-Request-Id: hung-up-on\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
    time.sleep(1.0)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close = RST
    s.close()
    t0 = time.time()
    log = []
    while time.time() < t0 + 60 and not log:
        time.sleep(0.2)
        log = [l for l in server.log_lines() if l.get("request_id") == "hung-up-on"]
    assert log and log[-1]["status"] in (200, 503), log
    while True:  # the worker lets go of the cancelled job at its next step
        busy = [l for l in requests.get(server.url + "/metrics", timeout=10).text.splitlines()
                if l.startswith("kokoro_workers_busy ")]
        if (busy and float(busy[0].split()[1]) == 0) or time.time() > t0 + 30:
            break
        time.sleep(0.2)
    assert busy and float(busy[0].split()[1]) == 0, busy
    assert time.time() - t0 < 30, f"the job ran {time.time() - t0:.0f} s after the reset"
    healthy(server)


def test_concurrent_garbage_and_good_requests(server):
    errors = []

    def garbage():
        try:
            raw(server, b"POST /synthesize HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n{{{{{{{{{{",
                timeout=5)
        except OSError as e:
            errors.append(e)

    threads = [threading.Thread(target=garbage) for _ in range(20)]
    for t in threads:
        t.start()
    r = post(server.url + "/dev/phonemize", {"text": "still fine"})
    for t in threads:
        t.join()
    assert r.status_code == 200
    healthy(server)


# ------------------------------------------------------------------ issue 11: connections
# Every attack below is bounded in time and count and stays on 127.0.0.1.

def closed_at(sock, t0, wait):
    """Seconds after t0 at which the server closed sock (EOF, reset or an answer), or None
    when it was still open after `wait` seconds."""
    sock.settimeout(max(0.01, wait))
    try:
        sock.recv(65536)
    except socket.timeout:
        return None
    except OSError:
        pass
    return time.time() - t0


def test_trickling_headers_are_cut_off_by_the_request_deadline(server):
    """20 clients that send their request head one byte a second (each byte well inside the
    idle timeout, 4 s here) are closed when the request deadline passes: 10 s by default
    (--request-timeout), plus the sweep's quarter second. Before the deadline existed they
    stayed open for as long as they kept trickling."""
    head = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 60 + b"\r\n\r\n"
    t0 = time.time()
    socks = [socket.create_connection(("127.0.0.1", server.port), timeout=5) for _ in range(20)]
    closed = {}
    try:
        for i in range(16):  # 16 s at most
            for k, s in enumerate(socks):
                if k in closed:
                    continue
                try:
                    s.send(head[i:i + 1])
                except OSError:
                    closed[k] = time.time() - t0
            deadline = t0 + i + 1
            for k, s in enumerate(socks):
                if k not in closed:
                    at = closed_at(s, t0, deadline - time.time())
                    if at is not None:
                        closed[k] = at
            if len(closed) == len(socks):
                break
    finally:
        for s in socks:
            s.close()
    assert len(closed) == 20, f"{20 - len(closed)} trickling connections still open after 16 s"
    assert all(8.5 <= t <= 12.5 for t in closed.values()), sorted(closed.values())
    healthy(server)


def test_one_address_holds_at_most_the_per_ip_cap(server):
    """By default one client address may hold 64 connections (--max-per-ip); the 65th and later
    are closed at once, so a single client cannot take every slot. Before, there was no cap.
    (Checked within a second, well inside the 4 s idle timeout that closes them all later.)"""
    socks = []
    try:
        for _ in range(80):
            socks.append(socket.create_connection(("127.0.0.1", server.port), timeout=5))
        time.sleep(0.5)
        readable, _, _ = select.select(socks, [], [], 0.5)
        dropped = 0
        for s in readable:
            try:
                dropped += s.recv(1024) == b""
            except OSError:
                dropped += 1
    finally:
        for s in socks:
            s.close()
    assert 80 - dropped <= 64, f"{80 - dropped} connections from one address stayed open"
    assert dropped <= 20, dropped
    time.sleep(0.5)
    healthy(server)


def test_half_close_still_gets_the_audio(server):
    """A client that shuts down its sending side after the request (shutdown(SHUT_WR), as
    `curl --data @- ... < file` or a proxy may) still gets its audio: a FIN is not a
    disconnect. Before, it got 503 "client gone"."""
    for path, body in (("/synthesize", {"text": "Half closed, still heard.", "output_format": "wav"}),
                       ("/v1/audio/speech", {"input": "Half closed, still streamed.",
                                              "response_format": "pcm"})):
        data = json.dumps(body).encode()
        s = socket.create_connection(("127.0.0.1", server.port), timeout=120)
        try:
            s.sendall(b"POST " + path.encode() + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                      b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(data)
                      + data)
            s.shutdown(socket.SHUT_WR)
            reply = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                reply += chunk
        finally:
            s.close()
        assert status_of(reply) == 200, (path, reply[:300])
        head, _, payload = reply.partition(b"\r\n\r\n")
        assert len(payload) > 10000, (path, len(payload))
        if path == "/synthesize":
            assert payload.startswith(b"RIFF")
        else:
            assert payload.endswith(b"0\r\n\r\n"), payload[-20:]  # the stream ran to its end
    healthy(server)


@pytest.fixture(scope="module")
def keyed():
    """A server with an API key; the model need not be loaded for 401s."""
    s = Server("--api-key", "s3cret", "--max-body", "65536", wait_ready=False)
    yield s
    s.stop()


def test_auth_is_checked_before_the_body(keyed):
    """A request without the key is answered 401 as soon as its headers are in: the server
    neither waits for nor buffers the body (a length under the body limit), and says 401 rather
    than 413 to a stranger announcing 10 MB. Before, the 60,000-byte body was awaited first."""
    for length in (60000, 10000000):
        s = socket.create_connection(("127.0.0.1", keyed.port), timeout=5)
        try:
            s.sendall(b"POST /synthesize HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      b"Content-Length: %d\r\n\r\n" % length)
            t0 = time.time()
            reply = s.recv(65536)
        except socket.timeout:
            reply = b""
        finally:
            s.close()
        assert status_of(reply) == 401, (length, reply[:300])
        assert b"WWW-Authenticate: Bearer" in reply
        assert time.time() - t0 < 3
    ok = requests.post(keyed.url + "/synthesize", data="{}", timeout=10,
                       headers={"Authorization": "Bearer s3cret",
                                "Content-Type": "application/json"})
    assert ok.status_code != 401


@pytest.fixture(scope="module")
def probed():
    """A server with a probe listener and no per-address cap: what it looks like behind a
    sidecar, where every connection comes from 127.0.0.1."""
    port = free_port()
    s = Server("--probe-port", str(port), "--max-per-ip", "0", wait_ready=False)
    s.probe_url = f"http://127.0.0.1:{port}"
    yield s
    s.stop()


def test_probes_are_answered_while_idle_connections_fill_the_api_port(probed):
    """300 idle connections take all 256 slots of the API port; /health and /ready on the
    probe port (--probe-port) are still answered, so the kubelet does not restart the pod.
    Before, /health got a connection reset."""
    socks = []
    try:
        for _ in range(300):
            try:
                socks.append(socket.create_connection(("127.0.0.1", probed.port), timeout=2))
            except OSError:
                break
        time.sleep(0.5)
        for _ in range(5):
            assert requests.get(probed.probe_url + "/health", timeout=5).status_code == 200
            assert requests.get(probed.probe_url + "/ready", timeout=5).status_code in (200, 503)
        assert requests.get(probed.probe_url + "/metrics", timeout=5).status_code == 200
        assert requests.get(probed.probe_url + "/v1/models", timeout=5).status_code == 404
    finally:
        for s in socks:
            s.close()
    probed.check_alive()


def test_phonemize_inputs_that_crashed_espeak(server):
    """Words espeak-ng had to spell with letters from several other languages (ŉß, ǅß, ĸß in
    pt-br: a use-after-free inside libespeak-ng under ASan) now read as their plain letters,
    and the server stays up."""
    cases = {"ŉß": "nss", "ǅß": "Dzss", "ĸß": "kss", "þß": "thss", "ſß": "sss"}
    for lang in ("pt-br", "es", "fr", "it"):
        for text, plain in cases.items():
            got = post(server.url + "/dev/phonemize", {"text": text, "language": lang})
            want = post(server.url + "/dev/phonemize", {"text": plain, "language": lang})
            assert got.status_code == want.status_code == 200, (lang, text, got.text)
            assert got.json()["phonemes"] == want.json()["phonemes"], (lang, text)
    for lang in ("en-us", "en-gb", "hi"):  # English names ß itself ("sharp s"); ŉ, ǅ, ĸ fold
        for text in cases:
            r = post(server.url + "/dev/phonemize", {"text": text, "language": lang})
            assert r.status_code == 200 and r.json()["phonemes"], (lang, text, r.text)
    healthy(server)


def test_phonemize_is_bounded(server):
    """/dev/phonemize runs on the connection's thread, so it is bounded by its own count (the
    worker count): past it 503 Overloaded with Retry-After, never a pile of threads queued
    on espeak-ng. Each request carries different long Spanish text, so none is cached."""
    def one(i):
        words = " ".join(f"palabra{chr(97 + (i + k) % 26)}{chr(97 + k % 26)}{k}" for k in range(150))
        r = post(server.url + "/dev/phonemize", {"text": words, "language": "es"}, timeout=120)
        return r.status_code, r.headers.get("Retry-After"), r.text

    import concurrent.futures as cf
    with cf.ThreadPoolExecutor(24) as ex:
        results = list(ex.map(one, range(48)))
    codes = [c for c, _, _ in results]
    assert set(codes) <= {200, 503}, codes
    assert codes.count(503) > 0, "48 concurrent phonemize requests were all let through"
    for c, ra, text in results:
        if c == 503:
            assert ra and int(ra) >= 1 and "Overloaded" in text, (ra, text)
    healthy(server)
