# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A switch that guards itself: point ``current`` at a release, reload,
watch it for the bake time (its probe, and the site's real requests in its
access log) and, at the first failure burst, switch back to the known-good
release and reload, all in one process on the host. The time from the
first failed request to the known-good release serving again is then the
host's own reaction, whatever the connection or the controller's load.

The steps are given as callables, so that the sequence is tested without a
web server: ``change(state, release_id, **options)`` makes one registry
change under the site's lock (the release module's ``change_locked``) and
returns its result; ``reload(php_fpm)`` reloads PHP-FPM and the web server
after a switch; ``make_probe(expect_body)`` returns a fresh
:class:`_probe.Probe`-like object (``run()``, ``stop(reason)``,
``failing`` event); ``watch`` is a traffic watch (``poll()``,
``verdict()``, ``summary()``) or None. Pure standard library."""

from __future__ import annotations

import threading
import time

from ansible_collections.lastgood.webstack.plugins.module_utils._probe import describe_failure, verdict

POLL_SECONDS = 0.05
RESTORED_PROBE_REQUESTS = 20


class SwitchFailed(Exception):
    """The release failed after the switch (or the switch itself failed);
    ``result`` says what happened, including whether the host is back on
    its known-good release."""

    def __init__(self, message, result):
        super().__init__(message)
        self.result = result


def _ms(seconds):
    return round(seconds * 1000.0, 1)


class GuardedSwitch:
    """One guarded switch of ``release_id``; :meth:`run` returns the result
    or raises :class:`SwitchFailed`."""

    def __init__(self, release_id, known_good, change, reload, make_probe, watch=None, expect_body=None,
                 restore_expect_body=None, max_error_rate=0.0, fail_fast=3, mark_known_good=True,
                 clock=time.monotonic, poll_seconds=POLL_SECONDS, site_name=None, preview=None):
        self.release_id = release_id
        self.label = "Release %s%s" % (release_id, " of %s" % site_name if site_name else "")
        self.known_good = known_good if known_good != release_id else None
        self.change = change
        self.reload = reload
        self.make_probe = make_probe
        self.preview = preview
        self.watch = watch
        self.expect_body = expect_body
        self.restore_expect_body = restore_expect_body
        self.max_error_rate = max_error_rate
        self.fail_fast = fail_fast
        self.mark_known_good = mark_known_good
        self.clock = clock
        self.poll_seconds = poll_seconds
        self.events = []
        self.actions = []
        self.timings = {}
        self.result = {"release_id": release_id, "restored": None}

    def _change(self, state, release_id=None, **options):
        done = self.change(state, release_id, **options)
        self.events.extend(done.get("events", []))
        self.actions.extend(done.get("actions", []))
        return done

    def run(self):
        if self.preview is not None:
            self._preview()
        # Made before the switch, so that none of its setup delays the
        # first probe request after it.
        probe = self.make_probe(self.expect_body)
        started = self.clock()
        if self.watch is not None:
            # From here on: what real clients get from the release switched in.
            self.watch.poll()
        try:
            switched = self._change("live", self.release_id)
        except Exception as error:  # noqa: BLE001 -- nothing was switched: said as it is
            self.result["outcome"] = "not_switched"
            raise SwitchFailed("%s was not switched in: %s; nothing live was changed" % (self.label, error),
                               self._finish())
        self.timings["switch_ms"] = _ms(self.clock() - started)
        self.result["switched_from"] = switched["before"].get("current")
        reload_started = self.clock()
        try:
            self.result["services"] = self.reload(switch_to=self.release_id)
        except Exception as error:  # noqa: BLE001 -- switched but not reloaded: switched back
            self._fail("the reload after the switch to %s failed: %s" % (self.release_id, error), self.clock())
        self.timings["reload_ms"] = _ms(self.clock() - reload_started)
        bake_started = self.clock()
        problem, failed_at = self._bake(probe)
        self.timings["bake_ms"] = _ms(self.clock() - bake_started)
        if problem:
            self._fail(problem, failed_at)
        if self.mark_known_good:
            self._change("known_good", self.release_id)
        self.result["outcome"] = "known_good" if self.mark_known_good else "live"
        return self._finish()

    def _preview(self):
        """Probe the release on the preview listener before anything live
        changes; a release that fails there is bad, and nothing is switched."""
        preview_started = self.clock()
        problem, summary = self.preview()
        self.timings["preview_ms"] = _ms(self.clock() - preview_started)
        self.result["preview"] = summary
        if not problem:
            return
        problem = "preview before the switch: %s" % problem
        self._change("bad", self.release_id, reason=problem)
        self.result.update(outcome="preview_failed", problem=problem)
        raise SwitchFailed("%s failed its probe on the preview listener (%s) and is marked bad; it served no "
                           "production request, nothing live was changed" % (self.label, problem), self._finish())

    def _bake(self, probe):
        """Run ``probe`` and watch until the bake is over or a failure burst;
        the problem (None when it passed) and when it was seen."""
        summary = {}
        runner = threading.Thread(target=lambda: summary.update(probe.run()), daemon=True)
        runner.start()
        problem = None
        failed_at = None
        while runner.is_alive():
            if probe.failing.wait(self.poll_seconds):
                failed_at = self.clock()
                break
            if self.watch is not None:
                self.watch.poll()
                traffic_problem = self.watch.verdict()
                if traffic_problem:
                    failed_at = self.clock()
                    problem = "real traffic: %s" % traffic_problem
                    probe.stop("traffic")
                    break
        runner.join()
        if self.watch is not None:
            self.watch.poll()
            if problem is None:
                traffic_problem = self.watch.verdict()
                if traffic_problem:
                    failed_at = failed_at or self.clock()
                    problem = "real traffic: %s" % traffic_problem
            self.result["traffic"] = self.watch.summary()
        self.result["probe"] = summary
        if problem is None:
            problems = [text for text in verdict(summary, self.max_error_rate, fail_fast=self.fail_fast)
                        if probe.stopped_by != "traffic"]
            if problems:
                problem = "probe after the switch: %s" % describe_failure(summary, problems)
                failed_at = failed_at or self.clock()
        return problem, failed_at

    def _fail(self, problem, failed_at):
        """Switch back to the known-good release (or to no release), reload,
        mark the release bad and raise SwitchFailed."""
        restore_started = self.clock()
        restore_error = None
        try:
            if self.known_good is not None:
                self._change("live", self.known_good)
            else:
                self._change("unswitched")
            self.result["restore_services"] = self.reload(switch_to=self.known_good)
        except Exception as error:  # noqa: BLE001 -- reported; the release is still marked bad below
            restore_error = str(error)
        restored_at = self.clock()
        self.timings["restore_ms"] = _ms(restored_at - restore_started)
        if failed_at is not None:
            self.timings["failure_to_restored_ms"] = _ms(restored_at - failed_at)
        try:
            self._change("bad", self.release_id, reason=problem)
        except Exception as error:  # noqa: BLE001
            restore_error = (restore_error + "; " if restore_error else "") + "marking it bad failed: %s" % error
        self.result["outcome"] = "rolled_back" if restore_error is None else "restore_failed"
        self.result["restored"] = self.known_good
        self.result["problem"] = problem
        if restore_error is None and self.known_good is not None:
            self.result["restored_probe"] = self._probe_restored()
        message = "%s failed after the switch (%s) and is marked bad; " % (self.label, problem)
        if restore_error is not None:
            message += "switching back to %s failed: %s" % (self.known_good or "no release", restore_error)
        else:
            message += "the host is back on %s %.0f ms after the failure was seen" % (
                self.known_good or "no release (there was no known-good one)",
                self.timings.get("failure_to_restored_ms", self.timings["restore_ms"]))
            restored_probe = self.result.get("restored_probe")
            if restored_probe:
                message += ", which answered %d of %d probe requests" % (
                    restored_probe["ok"], restored_probe["total"])
        self.result["msg"] = message
        raise SwitchFailed(message, self._finish())

    def _probe_restored(self):
        probe = self.make_probe(self.restore_expect_body, requests=RESTORED_PROBE_REQUESTS)
        summary = probe.run()
        return {key: summary[key] for key in ("total", "ok", "errors", "status_counts", "failure_samples")}

    def _finish(self):
        self.result.update(events=self.events, actions=self.actions, timings=self.timings)
        return self.result
