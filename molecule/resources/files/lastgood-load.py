"""Load on the host's own loopback while a deploy runs.

Threads send one GET after another and record when each answered and how;
when the stop file appears (or --max-seconds pass) a JSON summary is written:
how many requests failed, when the first and the last failure were, and the
longest run of failures. Standard library only; loopback only.

With --site-dir, an answer counts only when it comes from the right release:
its body must match the expect_body (probe.json) of a release that the
site's ``current`` pointed at from --grace seconds before the request began
until it ended. An answer from any other release is a failed request
(``wrong_release``), so a switch that PHP does not see cannot pass."""

import argparse
import http.client
import json
import os
import re
import threading
import time


class Releases:
    """Where ``current`` pointed and when (polled every few milliseconds),
    and how each release's answers look."""

    def __init__(self, site_dir, grace):
        self.site_dir = site_dir
        self.grace = grace
        self.history = [(time.monotonic(), self._current())]
        self.patterns = {}
        self.lock = threading.Lock()

    def _current(self):
        try:
            return os.path.basename(os.readlink(os.path.join(self.site_dir, "current")))
        except OSError:
            return None

    def watch(self, stop):
        while not stop.is_set():
            current = self._current()
            if current != self.history[-1][1]:
                with self.lock:
                    self.history.append((time.monotonic(), current))
            time.sleep(0.002)

    def pattern(self, release):
        if release not in self.patterns:
            try:
                with open(os.path.join(self.site_dir, "releases", release, "probe.json")) as handle:
                    self.patterns[release] = re.compile(json.load(handle)["expect_body"].encode())
            except (OSError, ValueError, KeyError):
                self.patterns[release] = None
        return self.patterns[release]

    def answered_by(self, body):
        """The releases whose expect_body the body matches."""
        with self.lock:
            known = {release for _at, release in self.history if release is not None}
        return sorted(release for release in known if self.pattern(release) is not None
                      and self.pattern(release).search(body))

    def live_during(self, begin, end):
        """Releases current pointed at from ``grace`` seconds before ``begin`` until ``end``."""
        with self.lock:
            history = list(self.history)
        live = set()
        for index, (at, release) in enumerate(history):
            until = history[index + 1][0] if index + 1 < len(history) else float("inf")
            if at <= end and until >= begin - self.grace:
                live.add(release)
        return live

    def stale_seconds(self, release, begin, end):
        """How long before ``begin`` current had stopped pointing at
        ``release``: 0 when it pointed there at some time from ``begin`` to
        ``end`` (the request saw it live)."""
        with self.lock:
            history = list(self.history)
        left = None
        for index, (at, current) in enumerate(history):
            until = history[index + 1][0] if index + 1 < len(history) else float("inf")
            if current == release and at <= end and until >= begin:
                return 0.0
            if at <= begin and index > 0 and history[index - 1][1] == release:
                left = at
        return max(0.0, begin - left) if left is not None else 0.0


def judge(releases, body, begin, end):
    """``(ok, answered_by, stale_seconds)`` of a 200 answer."""
    answered = releases.answered_by(body)
    if not answered:
        return False, "unknown", 0.0
    live = releases.live_during(begin, end)
    right = [release for release in answered if release in live]
    if not right:
        return False, answered[0], releases.stale_seconds(answered[0], begin, end)
    return True, right[0], min(releases.stale_seconds(release, begin, end) for release in right)


def worker(args, stop, results, lock, started, releases):
    connection = None
    served = 0
    interval = 1.0 / args.rate if args.rate > 0 else 0.0
    next_at = time.monotonic()
    while not stop.is_set():
        if interval:
            # Paced: one request per interval and thread, so that the load
            # leaves the 2 cores to the deploy on several hosts at once.
            next_at += interval
            delay = next_at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        begin = time.monotonic()
        status = 0
        retried = False
        answered = None
        stale = 0.0
        for attempt in (1, 2):
            try:
                if connection is None:
                    connection = http.client.HTTPConnection("127.0.0.1", args.port, timeout=5)
                    served = 0
                connection.request("GET", args.path, headers={"Host": args.host})
                response = connection.getresponse()
                body = response.read(4096)
                status = response.status
                served += 1
                ok = status == 200 and (not args.expect or args.expect.encode() in body)
                if ok and releases is not None:
                    ok, answered, stale = judge(releases, body, begin, time.monotonic())
                break
            except (OSError, http.client.HTTPException) as error:
                ok = False
                stale = served > 0 and isinstance(error, (http.client.RemoteDisconnected, ConnectionResetError,
                                                          BrokenPipeError))
                if connection is not None:
                    connection.close()
                connection = None
                # A kept-alive connection the server closed (a graceful
                # reload does) before answering: browsers and HTTP clients
                # resend such an idempotent request once on a new
                # connection (RFC 9112, 9.3.1). Counted apart.
                if not (stale and attempt == 1):
                    break
                retried = True
        end = time.monotonic()
        with lock:
            results.append((round(begin - started, 4), round(end - started, 4), status, ok, retried, answered,
                            round(stale, 4)))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=80)
    parser.add_argument("--path", default="/")
    parser.add_argument("--host", default="demo.test")
    parser.add_argument("--expect", default="")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--stop-file", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--max-seconds", type=float, default=600)
    parser.add_argument("--rate", type=float, default=0, help="requests a second per thread; 0: as fast as answered")
    parser.add_argument("--site-dir", help="judge which release answers, by the probe.json of the releases here")
    parser.add_argument("--grace", type=float, default=1.0,
                        help="seconds after a switch during which the release switched from may still answer")
    args = parser.parse_args()

    stop = threading.Event()
    results = []
    lock = threading.Lock()
    started = time.monotonic()
    wall_start = time.time()
    releases = Releases(args.site_dir, args.grace) if args.site_dir else None
    threads = [threading.Thread(target=worker, args=(args, stop, results, lock, started, releases), daemon=True)
               for dummy in range(args.threads)]
    if releases is not None:
        threads.append(threading.Thread(target=releases.watch, args=(stop,), daemon=True))
    for thread in threads:
        thread.start()
    while not os.path.exists(args.stop_file) and time.monotonic() - started < args.max_seconds:
        time.sleep(0.05)
    stop.set()
    for thread in threads:
        thread.join(10)

    results.sort(key=lambda entry: (entry[0], entry[1]))
    failures = [entry for entry in results if not entry[3]]
    longest = current = 0
    for entry in results:
        current = current + 1 if not entry[3] else 0
        longest = max(longest, current)
    statuses = {}
    for entry in results:
        statuses[str(entry[2])] = statuses.get(str(entry[2]), 0) + 1
    summary = {
        "started_at": wall_start,
        "seconds": round(time.monotonic() - started, 3),
        "total": len(results),
        "failed": len(failures),
        "status_counts": statuses,
        "first_failure_s": failures[0][0] if failures else None,
        "last_failure_s": failures[-1][1] if failures else None,
        "failure_window_s": round(failures[-1][1] - failures[0][0], 3) if failures else 0,
        "longest_failure_run": longest,
        "stale_keepalive_retries": sum(1 for entry in results if entry[4]),
    }
    if releases is not None:
        answered = {}
        spans = {}
        for entry in results:
            if entry[5] is not None:
                answered[entry[5]] = answered.get(entry[5], 0) + 1
                # Results are in the order the requests began.
                span = spans.setdefault(entry[5], [entry[0], entry[1], entry[1]])
                span[2] = max(span[2], entry[1])
        wrong = [entry for entry in results if entry[2] == 200 and not entry[3]]
        summary.update({
            "grace_s": args.grace,
            "wrong_release": len(wrong),
            "wrong_release_samples": [{"at_s": entry[0], "answered_by": entry[5], "stale_s": entry[6]}
                                      for entry in wrong[:5]],
            "answered_by": answered,
            # When each release answered, in seconds since the start like the
            # switches: the first request it answered began and ended, the
            # last one ended.
            "answered_span_s": spans,
            # The longest a release answered a request begun after current
            # had left it: how long a switch took to reach PHP.
            "stale_max_s": max([entry[6] for entry in results if entry[5] is not None] or [0.0]),
            "switches": [{"at_s": round(at - started, 4), "to": release} for at, release in releases.history[1:]],
        })
    with open(args.out + ".tmp", "w") as handle:
        json.dump(summary, handle, indent=2, sort_keys=True)
    os.replace(args.out + ".tmp", args.out)


if __name__ == "__main__":
    main()
