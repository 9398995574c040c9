"""Events as the release modules write them, on the day of one run, and the
files the callback writes them to, for the tests of the timeline library, the
callback and the lookup that merges runs."""

import datetime
import json

UTC = datetime.timezone.utc
RUN_STARTED = datetime.datetime(2026, 11, 28, 5, 2, 0, tzinfo=UTC)


def at(clock):
    """'05:02:09.000' -> the modules' timestamp of that time on the run's day."""
    return "2026-11-28T%s000Z" % clock


def event(kind, clock, release=None, site="demo", **fields):
    return dict({"at": at(clock), "event": kind, "site": site, "release": release}, **fields)


def switched(clock, from_release, to_release, **fields):
    return event("switched", clock, to_release, **dict({"from": from_release, "to": to_release}, **fields))


def rolled_back(clock, from_release, to_release, by="deploy alice@ci1"):
    return event("rolled_back", clock, to_release, by=by, **{"from": from_release, "to": to_release})


def probe_failed(clock, release, started_clock, first_failure_after_ms):
    return event("probe_failed", clock, release, total=20, ok=3, errors=17, started_at=at(started_clock),
                 first_failure_after_ms=first_failure_after_ms, reason="17 of 20 requests failed")


def on(host, *events):
    return [dict(item, host=host) for item in events]


def write_run(directory, name, *entries, junk=()):
    """An events file as the callback writes it, with ``junk`` lines after."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text("".join(json.dumps(entry, sort_keys=True) + "\n" for entry in entries) + "".join(junk))
    return str(path)


def two_runs(directory):
    """A deploy whose v2b failed and was rolled back, then a status run whose
    release_info history repeats the deploy's events."""
    deploy = on("prod1", switched("05:02:09.000", "v1", "v2b"),
                probe_failed("05:02:09.040", "v2b", "05:02:09.020", 10.0),
                rolled_back("05:02:11.700", "v2b", "v1"))
    status = deploy[:1] + on("prod2", switched("05:03:00.000", "v1", "v3"), event("known_good", "05:03:05.000", "v3"))
    return [write_run(directory, "20261128T050200Z-deploy-41.jsonl", *deploy),
            write_run(directory, "20261128T050300Z-status-42.jsonl", *status)]
