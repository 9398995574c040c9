"""Events as the release modules write them, on the day of one run, for the
tests of the timeline library and of the callback."""

import datetime

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
