# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""HTTP probing of a site for a bake period: many requests from a few
threads over kept-alive connections, each answer judged as it arrives, so a
burst of failures ends the probe at once. Pure standard library."""

from __future__ import annotations

import http.client
import math
import re
import ssl
import threading
import time
from urllib.parse import urlsplit

BODY_SAMPLE = 200
BODY_MATCH_LIMIT = 64 * 1024
MAX_SAMPLES = 5


class ProbeError(Exception):
    """Bad input, said for a person."""


class Target:
    __slots__ = ("url", "scheme", "host", "port", "path")

    def __init__(self, url):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise ProbeError("url %r: only http:// and https:// URLs can be probed" % url)
        if not parts.hostname:
            raise ProbeError("url %r has no host" % url)
        try:
            port = parts.port
        except ValueError:
            raise ProbeError("url %r has an invalid port" % url)
        self.url = url
        self.scheme = parts.scheme
        self.host = parts.hostname
        self.port = port or (443 if parts.scheme == "https" else 80)
        self.path = (parts.path or "/") + ("?" + parts.query if parts.query else "")


def percentile(sorted_values, fraction):
    """Nearest-rank percentile of already sorted values."""
    if not sorted_values:
        return None
    rank = max(1, int(math.ceil(fraction * len(sorted_values))))
    return sorted_values[rank - 1]


class Probe:
    """One probe run. ``requests`` or ``duration`` (seconds) bounds it;
    ``rate`` (requests per second over all workers, 0 for no limit) paces it;
    ``fail_fast`` consecutive failures end it, and so does the first one with
    ``stop_on_error``. ``failing`` is set the moment a failure ends it, so
    that a caller can act before the requests in flight return."""

    def __init__(self, urls, host_header=None, expect_status=(200,), expect_body=None, requests=None,
                 duration=None, concurrency=1, timeout=5.0, fail_fast=3, rate=0.0, validate_certs=True,
                 stop_on_error=False):
        if not urls:
            raise ProbeError("urls is empty: give at least one URL to probe")
        if (requests is None) == (duration is None):
            raise ProbeError("give either requests or duration")
        if requests is not None and requests < 1:
            raise ProbeError("requests must be at least 1, not %s" % requests)
        if duration is not None and duration < 0:
            raise ProbeError("duration must not be negative, not %s" % duration)
        if concurrency < 1:
            raise ProbeError("concurrency must be at least 1, not %s" % concurrency)
        if timeout <= 0:
            raise ProbeError("timeout must be positive, not %s" % timeout)
        self.targets = [Target(url) for url in urls]
        self.host_header = host_header
        self.expect_status = frozenset(expect_status)
        try:
            self.expect_body = re.compile(expect_body) if expect_body else None
        except re.error as error:
            raise ProbeError("expect_body %r is not a valid regular expression: %s" % (expect_body, error))
        self.requests = requests
        self.duration = duration
        self.concurrency = concurrency if requests is None else min(concurrency, requests)
        self.timeout = timeout
        self.fail_fast = fail_fast
        self.stop_on_error = stop_on_error
        self.interval = (self.concurrency / rate) if rate and rate > 0 else 0.0
        # Loading the CA bundle takes tens of milliseconds: only for https.
        self.ssl_context = None
        if any(target.scheme == "https" for target in self.targets):
            self.ssl_context = ssl.create_default_context()
            if not validate_certs:
                self.ssl_context.check_hostname = False
                self.ssl_context.verify_mode = ssl.CERT_NONE
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.failing = threading.Event()
        self._issued = 0
        self._consecutive = 0
        self.stopped_by = None
        self.results = []      # (latency_ms, status, ok)
        self.samples = []
        self.first_failure_ms = None

    def _connect(self, target):
        if target.scheme == "https":
            return http.client.HTTPSConnection(target.host, target.port, timeout=self.timeout,
                                               context=self.ssl_context)
        return http.client.HTTPConnection(target.host, target.port, timeout=self.timeout)

    def _ticket(self):
        """The number of the next request, or None when the probe is over."""
        with self._lock:
            if self._stop.is_set():
                return None
            if self.requests is not None and self._issued >= self.requests:
                return None
            if self.duration is not None and time.monotonic() - self.started >= self.duration:
                return None
            number = self._issued
            self._issued += 1
            return number

    def _one(self, connections, target):
        reused = target.url in connections
        answer = self._attempt(connections, target)
        if answer[0] == 0 and reused and answer[4]:
            # The server closed a kept-alive connection before answering (a
            # graceful reload does): resend once on a new connection, as
            # HTTP clients do for idempotent requests.
            answer = self._attempt(connections, target)
        return answer[:4]

    def _attempt(self, connections, target):
        connection = connections.get(target.url)
        if connection is None:
            connection = connections[target.url] = self._connect(target)
        headers = {"Host": self.host_header} if self.host_header else {}
        headers["User-Agent"] = "lastgood-health-probe"
        try:
            connection.request("GET", target.path, headers=headers)
            response = connection.getresponse()
            body = response.read(BODY_MATCH_LIMIT + 1)
            if len(body) > BODY_MATCH_LIMIT:
                # Not read to the end: this connection cannot be reused.
                connection.close()
                connections.pop(target.url, None)
            status = response.status
            reason = "%d %s" % (status, response.reason)
        except (OSError, http.client.HTTPException) as error:
            connection.close()
            connections.pop(target.url, None)
            closed = isinstance(error, (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError))
            return 0, False, "no answer: %s" % (str(error) or error.__class__.__name__), b"", closed
        ok = status in self.expect_status
        if ok and self.expect_body is not None:
            ok = self.expect_body.search(body.decode("utf-8", "replace")) is not None
            if not ok:
                reason += ", body does not match expect_body"
        return status, ok, reason, body, False

    def _worker(self, offset):
        connections = {}
        next_at = time.monotonic() + offset * self.interval / max(self.concurrency, 1)
        try:
            while True:
                if self.interval:
                    delay = next_at - time.monotonic()
                    if delay > 0 and self._stop.wait(delay):
                        return
                    next_at = max(next_at + self.interval, time.monotonic())
                number = self._ticket()
                if number is None:
                    return
                target = self.targets[number % len(self.targets)]
                begin = time.monotonic()
                status, ok, reason, body = self._one(connections, target)
                end = time.monotonic()
                self._record(target, begin, end, status, ok, reason, body)
        finally:
            for connection in connections.values():
                connection.close()

    def _record(self, target, begin, end, status, ok, reason, body):
        with self._lock:
            self.results.append(((end - begin) * 1000.0, status, ok))
            if ok:
                self._consecutive = 0
                return
            self._consecutive += 1
            if self.first_failure_ms is None:
                self.first_failure_ms = (end - self.started) * 1000.0
            if len(self.samples) < MAX_SAMPLES:
                self.samples.append({
                    "url": target.url,
                    "status": status,
                    "reason": reason,
                    "after_ms": round((end - self.started) * 1000.0, 1),
                    "body": body[:BODY_SAMPLE].decode("utf-8", "replace"),
                })
            if self._stop.is_set():
                return
            if self.fail_fast and self._consecutive >= self.fail_fast:
                self.stopped_by = "fail_fast"
            elif self.stop_on_error:
                self.stopped_by = "error"
            else:
                return
            self._stop.set()
            self.failing.set()

    def stop(self, reason):
        """End the probe early (the requests in flight still finish)."""
        with self._lock:
            if not self._stop.is_set():
                self.stopped_by = reason
                self._stop.set()

    def run(self):
        self.started = time.monotonic()
        workers = [threading.Thread(target=self._worker, args=(index,), daemon=True)
                   for index in range(self.concurrency)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        self.elapsed_ms = (time.monotonic() - self.started) * 1000.0
        return self.summary()

    def summary(self):
        latencies = sorted(result[0] for result in self.results)
        status_counts = {}
        for _latency, status, _ok in self.results:
            key = str(status) if status else "no_answer"
            status_counts[key] = status_counts.get(key, 0) + 1
        total = len(self.results)
        ok = sum(1 for result in self.results if result[2])

        def rounded(value):
            return None if value is None else round(value, 1)
        return {
            "total": total,
            "ok": ok,
            "errors": total - ok,
            "error_rate": round((total - ok) / total, 4) if total else 0.0,
            "status_counts": status_counts,
            "p50_ms": rounded(percentile(latencies, 0.50)),
            "p95_ms": rounded(percentile(latencies, 0.95)),
            "max_ms": rounded(latencies[-1] if latencies else None),
            "first_failure_after_ms": rounded(self.first_failure_ms),
            "elapsed_ms": rounded(self.elapsed_ms),
            "stopped_by": self.stopped_by,
            "failure_samples": self.samples,
        }


def verdict(summary, max_error_rate=0.0, max_p95_ms=None, fail_fast=None):
    """The thresholds crossed, one sentence each (empty: the probe passed)."""
    problems = []
    total = summary["total"]
    if total == 0:
        return ["no request was made (duration too short?)"]
    if summary["stopped_by"] == "fail_fast":
        problems.append("%d consecutive requests failed (fail_fast %d), probe stopped after %.0f ms" % (
            fail_fast, fail_fast, summary["elapsed_ms"]))
    if summary["error_rate"] > max_error_rate:
        problems.append("error rate %.1f%% (%d of %d) is above max_error_rate %g%%" % (
            summary["error_rate"] * 100, summary["errors"], total, max_error_rate * 100))
    if max_p95_ms is not None and summary["p95_ms"] is not None and summary["p95_ms"] > max_p95_ms:
        problems.append("p95 latency %.1f ms is above max_p95_ms %g" % (summary["p95_ms"], max_p95_ms))
    return problems


def describe_failure(summary, problems):
    text = "; ".join(problems)
    if summary["failure_samples"]:
        sample = summary["failure_samples"][0]
        body = " ".join(sample["body"].split())[:120]
        text += "; first failure after %.0f ms: %s %s" % (sample["after_ms"], sample["reason"],
                                                          '"%s"' % body if body else "")
    return text.strip()
