"""Load on the host's own loopback while a deploy runs.

Threads send one GET after another and record when each answered and how;
when the stop file appears (or --max-seconds pass) a JSON summary is written:
how many requests failed, when the first and the last failure were, and the
longest run of failures. Standard library only; loopback only."""

import argparse
import http.client
import json
import os
import threading
import time


def worker(args, stop, results, lock, started):
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
            results.append((round(begin - started, 4), round(end - started, 4), status, ok, retried))


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
    args = parser.parse_args()

    stop = threading.Event()
    results = []
    lock = threading.Lock()
    started = time.monotonic()
    wall_start = time.time()
    threads = [threading.Thread(target=worker, args=(args, stop, results, lock, started), daemon=True)
               for dummy in range(args.threads)]
    for thread in threads:
        thread.start()
    while not os.path.exists(args.stop_file) and time.monotonic() - started < args.max_seconds:
        time.sleep(0.05)
    stop.set()
    for thread in threads:
        thread.join(10)

    results.sort()
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
    with open(args.out + ".tmp", "w") as handle:
        json.dump(summary, handle, indent=2, sort_keys=True)
    os.replace(args.out + ".tmp", args.out)


if __name__ == "__main__":
    main()
