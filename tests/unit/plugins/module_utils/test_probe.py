"""The probe against real HTTP servers on 127.0.0.1."""

import http.server
import json
import socket
import threading
import time

import pytest

from ansible.module_utils.testing import patch_module_args
from ansible_collections.lastgood.webstack.plugins.module_utils._probe import (
    Probe,
    ProbeError,
    describe_failure,
    percentile,
    verdict,
)
from ansible_collections.lastgood.webstack.plugins.modules import health_probe


class Behaviour:
    """What the test server does; the test changes it while it runs."""

    def __init__(self):
        self.status = 200
        self.body = b"lastgood demo release v1"
        self.delay = 0.0
        self.fail_after = None   # requests answered 200 before switching to 500
        self.drop_keepalive = False  # close each connection after answering, without saying so
        self.count = 0
        self.hosts = []
        self.lock = threading.Lock()


@pytest.fixture
def server():
    behaviour = Behaviour()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            with behaviour.lock:
                behaviour.count += 1
                number = behaviour.count
                behaviour.hosts.append(self.headers.get("Host"))
            if behaviour.delay:
                time.sleep(behaviour.delay)
            status, body = behaviour.status, behaviour.body
            if behaviour.fail_after is not None and number > behaviour.fail_after:
                status, body = 500, b"PHP Fatal error:  Uncaught Error: Call to undefined function"
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            if behaviour.drop_keepalive:
                self.close_connection = True

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    behaviour.url = "http://127.0.0.1:%d/" % httpd.server_address[1]
    yield behaviour
    httpd.shutdown()
    httpd.server_close()


def closed_port():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def test_healthy_site(server):
    summary = Probe([server.url], host_header="demo.test", requests=40, concurrency=4).run()
    assert (summary["total"], summary["ok"], summary["errors"]) == (40, 40, 0)
    assert summary["status_counts"] == {"200": 40}
    assert summary["p50_ms"] <= summary["p95_ms"] <= summary["max_ms"]
    assert summary["first_failure_after_ms"] is None and summary["stopped_by"] is None
    assert set(server.hosts) == {"demo.test"}
    assert verdict(summary) == []


def test_fail_fast_ends_the_probe_at_the_first_burst(server):
    server.fail_after = 10
    summary = Probe([server.url], requests=1000, concurrency=2, fail_fast=3).run()
    assert summary["stopped_by"] == "fail_fast"
    assert summary["ok"] == 10
    # Each worker may have one request in flight when the third failure lands.
    assert 3 <= summary["errors"] <= 3 + 2
    assert summary["total"] < 20
    assert summary["first_failure_after_ms"] is not None
    sample = summary["failure_samples"][0]
    assert sample["status"] == 500 and sample["body"].startswith("PHP Fatal error")
    problems = verdict(summary, fail_fast=3)
    assert problems[0].startswith("3 consecutive requests failed (fail_fast 3)")
    assert "first failure after" in describe_failure(summary, problems)


def test_duration_bounds_the_probe_and_rate_paces_it(server):
    summary = Probe([server.url], duration=1.0, concurrency=2, rate=20).run()
    assert 950 <= summary["elapsed_ms"] < 3000
    # 20 per second for one second, give or take the edges.
    assert 10 <= summary["total"] <= 30, summary


def test_error_rate_and_body_and_latency_thresholds(server):
    server.body = b"maintenance"
    summary = Probe([server.url], requests=10, expect_body="release v[0-9]", fail_fast=0).run()
    assert summary["errors"] == 10 and summary["stopped_by"] is None
    assert "body does not match" in summary["failure_samples"][0]["reason"]
    assert verdict(summary, max_error_rate=0.5)[0] == "error rate 100.0% (10 of 10) is above max_error_rate 50%"
    server.body = b"release v2"
    server.delay = 0.05
    summary = Probe([server.url], requests=6, concurrency=2).run()
    assert summary["errors"] == 0 and summary["p95_ms"] >= 50
    assert verdict(summary, max_p95_ms=10)[0].startswith("p95 latency")


def test_unexpected_status_timeouts_and_refused_connections_are_failures(server):
    server.status = 503
    summary = Probe([server.url], requests=3, fail_fast=0).run()
    assert summary["status_counts"] == {"503": 3}
    server.status = 200
    server.delay = 0.5
    summary = Probe([server.url], requests=2, timeout=0.1, fail_fast=0).run()
    assert summary["status_counts"] == {"no_answer": 2}
    summary = Probe(["http://127.0.0.1:%d/" % closed_port()], requests=3, fail_fast=0).run()
    assert summary["status_counts"] == {"no_answer": 3}
    assert summary["failure_samples"][0]["reason"].startswith("no answer:")


def test_kept_alive_connection_closed_by_the_server_is_retried_once(server):
    # As nginx's graceful reload does to idle kept-alive connections.
    server.drop_keepalive = True
    summary = Probe([server.url], requests=10, concurrency=1, fail_fast=0).run()
    assert summary["errors"] == 0, summary
    assert server.count == 10


def test_several_urls_in_turn(server):
    summary = Probe([server.url, server.url + "cart"], requests=4, concurrency=1).run()
    assert list(summary["status_counts"]) == ["200"] and summary["total"] == 4


@pytest.mark.parametrize("kwargs, message", [
    ({"urls": ["ftp://127.0.0.1/"], "requests": 1}, "only http:// and https://"),
    ({"urls": ["http:///x"], "requests": 1}, "has no host"),
    ({"urls": ["http://127.0.0.1:99999/"], "requests": 1}, "invalid port"),
    ({"urls": [], "requests": 1}, "urls is empty"),
    ({"urls": ["http://127.0.0.1/"], "requests": 1, "duration": 1}, "either requests or duration"),
    ({"urls": ["http://127.0.0.1/"], "requests": 1, "expect_body": "("}, "not a valid regular expression"),
])
def test_bad_input(kwargs, message):
    with pytest.raises(ProbeError) as caught:
        Probe(**kwargs)
    assert message in str(caught.value)


def test_percentile_nearest_rank():
    values = list(range(1, 101))
    assert percentile(values, 0.5) == 50 and percentile(values, 0.95) == 95 and percentile([], 0.5) is None


def run_module(capsys, **args):
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exited:
            health_probe.main()
    return exited.value.code, json.loads(capsys.readouterr().out)


def test_module_passes_and_fails_saying_why(server, capsys):
    code, result = run_module(capsys, urls=[server.url], host_header="demo.test")
    assert code == 0 and result["total"] == 20 and result["changed"] is False
    server.fail_after = 0
    code, result = run_module(capsys, urls=[server.url], duration=5)
    assert code == 1 and result["stopped_by"] == "fail_fast"
    assert result["elapsed_ms"] < 4000
    assert result["msg"].startswith("3 consecutive requests failed (fail_fast 3)")
    assert '500 Internal Server Error "PHP Fatal error' in result["msg"]


def test_module_bad_input(capsys):
    code, result = run_module(capsys, urls=["gopher://127.0.0.1/"])
    assert code == 1 and "only http:// and https://" in result["msg"]
    code, result = run_module(capsys, urls=["http://127.0.0.1/"], max_error_rate=5)
    assert code == 1 and "between 0 and 1" in result["msg"]


@pytest.fixture
def tls_server(server, tmp_path):
    """The test server behind TLS, with a self-signed certificate for 127.0.0.1."""
    import shutil
    import ssl
    import subprocess
    if not shutil.which("openssl"):
        pytest.skip("openssl is not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                    "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(cert), str(key))
    plain_port = int(server.url.rsplit(":", 1)[1].rstrip("/"))
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def relay(client):
        # TLS terminated here, the plain test server behind it.
        with client, socket.create_connection(("127.0.0.1", plain_port)) as upstream:
            try:
                tls = context.wrap_socket(client, server_side=True)
            except (ssl.SSLError, OSError):
                return
            with tls:
                tls.settimeout(5)
                request = tls.recv(65536)
                upstream.sendall(request.replace(b"HTTP/1.1", b"HTTP/1.0", 1))
                while True:
                    chunk = upstream.recv(65536)
                    if not chunk:
                        break
                    tls.sendall(chunk)

    def accept():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                client, dummy = listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=relay, args=(client,), daemon=True).start()

    accepting = threading.Thread(target=accept, daemon=True)
    accepting.start()
    yield "https://127.0.0.1:%d/" % listener.getsockname()[1]
    stop.set()
    accepting.join()
    listener.close()


def test_https_with_validate_certs_false_accepts_a_self_signed_certificate(tls_server):
    summary = Probe([tls_server], requests=3, validate_certs=False).run()
    assert (summary["total"], summary["ok"]) == (3, 3), summary


def test_https_with_validate_certs_checks_the_certificate(tls_server):
    summary = Probe([tls_server], requests=1).run()
    assert summary["ok"] == 0 and summary["status_counts"] == {"no_answer": 1}, summary
    assert "CERTIFICATE_VERIFY_FAILED" in summary["failure_samples"][0]["reason"], summary
