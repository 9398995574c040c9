# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The watchdog of one site on one host.

It probes the live release every ``interval`` seconds. After ``failures``
consecutive failed checks (re-checked every ``retry_interval`` seconds once
one failed) it restores the last known-good release through the same code
as the rollback (``_release.rollback.restore_known_good``: manifest check, the
server's own config test, switch, the failing release marked bad), reloads
the servers, probes again and records every step as an event in the site's
registry. It never acts while a deploy holds the site, rolls back from a
release at most once, and only reports when there is nothing good to go
back to.

With ``access_logs`` (and ``error_logs``) it also watches real traffic
between checks (``_traffic.TrafficWatch``, polled every
``traffic_poll_interval`` seconds): when 5xx answers to real requests (or PHP
fatal errors) cross ``traffic_min_errors`` and ``traffic_max_error_rate``
within ``traffic_window`` seconds, it acts at once, as for failed checks,
and the event's reason says that real traffic fired. The count starts again
whenever ``current`` changes and while a deploy holds the site (the deploy
watches its own bake). Where each log was read is saved to
``traffic_positions_file`` every few seconds and resumed by the next run
when it is recent.

Standard library only; the watchdog role installs these module_utils
on the host and runs::

    python3 -m ansible_collections.lastgood.webstack.plugins.module_utils._watchdog CONFIG [--supervise | --check]
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.parse

from ansible_collections.lastgood.webstack.plugins.module_utils._release import layout, manifest, registry, rollback
from ansible_collections.lastgood.webstack.plugins.module_utils._release.services import (
    ServiceError,
    reload_after_switch,
    reload_command_for,
)
from ansible_collections.lastgood.webstack.plugins.module_utils._traffic import TrafficWatch
from ansible_collections.lastgood.webstack.plugins.module_utils._probe import (
    Probe,
    ProbeError,
    describe_failure,
    verdict,
)

WATCHER = "watchdog"
# Not __name__, which is "__main__" when run with -m.
MODULE = "ansible_collections.lastgood.webstack.plugins.module_utils._watchdog"
DEFAULTS = {
    "base_dir": "/srv/lastgood",
    "urls": ["http://127.0.0.1/"],
    "host_header": None,
    "expect_status": [200],
    "expect_body": None,
    "timeout": 2.0,
    "interval": 5.0,
    "retry_interval": 1.0,
    "failures": 3,
    "server": None,
    "reload": None,
    "reload_command": [],
    "php_fpm": None,
    "confirm_requests": 5,
    "alert_command": [],
    "alert_url": None,
    "lock_timeout": 2.0,
    "access_logs": [],
    "error_logs": [],
    "traffic_min_errors": 5,
    "traffic_max_error_rate": 0.2,
    "traffic_window": 10.0,
    "traffic_ignore_paths": [],
    "traffic_poll_interval": 0.5,
    "traffic_positions_file": None,
}
# Saved positions older than this are not resumed: what was written since
# is old news, and counting it now would judge the live release by it.
RESUME_WITHIN = 60.0
SAVE_EVERY = 5.0
_SBIN = ["/usr/sbin", "/sbin", "/usr/local/sbin"]


class ConfigError(Exception):
    pass


def load_config(path):
    """The watchdog's settings from a JSON file, defaults filled in."""
    try:
        with open(path) as handle:
            given = json.load(handle)
    except OSError as error:
        raise ConfigError("cannot read %s: %s" % (path, error.strerror))
    except ValueError as error:
        raise ConfigError("%s is not JSON: %s" % (path, error))
    if not isinstance(given, dict) or not given.get("site"):
        raise ConfigError("%s must be a JSON object with at least site" % path)
    unknown = sorted(set(given) - set(DEFAULTS) - {"site"})
    if unknown:
        raise ConfigError("%s: unknown settings %s" % (path, ", ".join(unknown)))
    config = dict(DEFAULTS, **given)
    if config["failures"] < 1 or config["interval"] <= 0 or config["retry_interval"] <= 0:
        raise ConfigError("%s: failures must be at least 1 and the intervals above 0" % path)
    if config["server"] not in (None, "nginx", "apache"):
        raise ConfigError("%s: server must be nginx, apache or null, not %r" % (path, config["server"]))
    if config["reload"] not in (None, "nginx", "apache"):
        raise ConfigError("%s: reload must be nginx, apache or null, not %r" % (path, config["reload"]))
    if config["reload"] and config["reload_command"]:
        raise ConfigError("%s: reload and reload_command are mutually exclusive" % path)
    config["reload_command"] = reload_command_for(config["reload"], config["reload_command"]) or []
    for key in ("access_logs", "error_logs", "traffic_ignore_paths"):
        if not isinstance(config[key], list) or not all(isinstance(item, str) and item for item in config[key]):
            raise ConfigError("%s: %s must be a list of non-empty strings" % (path, key))
    for key in ("access_logs", "error_logs"):
        relative = [item for item in config[key] if not item.startswith("/")]
        if relative:
            raise ConfigError("%s: %s must be absolute paths, not %s" % (path, key, ", ".join(relative)))
    if not (isinstance(config["traffic_min_errors"], int) and config["traffic_min_errors"] >= 1):
        raise ConfigError("%s: traffic_min_errors must be an integer of at least 1" % path)
    if not 0 <= config["traffic_max_error_rate"] <= 1:
        raise ConfigError("%s: traffic_max_error_rate must be between 0 and 1" % path)
    if config["traffic_window"] <= 0 or config["traffic_poll_interval"] <= 0:
        raise ConfigError("%s: traffic_window and traffic_poll_interval must be above 0" % path)
    php_fpm = config["php_fpm"]
    if php_fpm is not None and not (isinstance(php_fpm, dict) and isinstance(php_fpm.get("pidfile"), str)):
        raise ConfigError("%s: php_fpm must be null or an object with pidfile (and optionally wait_for, timeout)" % path)
    return config


def run_command(argv, environ=None, stdin=None, timeout=60):
    """``(rc, stdout, stderr)`` of argv, no shell, LC_ALL=C."""
    env = dict(os.environ)
    env["LC_ALL"] = "C"
    env.update(environ or {})
    try:
        completed = subprocess.run(argv, input=stdin, capture_output=True, text=True, env=env, timeout=timeout,
                                   check=False)
    except (OSError, subprocess.SubprocessError) as error:
        return 127, "", str(error)
    return completed.returncode, completed.stdout, completed.stderr


def find_binary(name, required, dirs):
    for directory in dirs or []:
        candidate = os.path.join(directory, name)
        if os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which(name)
    if found is None and required:
        raise layout.ReleaseError("%s is not installed (looked in %s and PATH)" % (name, ", ".join(dirs or [])))
    return found


def probe(config, requests, expect_body=None):
    """``(problems, summary)`` of ``requests`` requests over the URLs; the
    answers must match ``expect_body`` (else the configured one) when given."""
    try:
        summary = Probe(config["urls"], host_header=config["host_header"], expect_status=config["expect_status"],
                        expect_body=expect_body or config["expect_body"], requests=requests, concurrency=1,
                        timeout=config["timeout"], fail_fast=None).run()
    except ProbeError as error:
        return [str(error)], None
    return verdict(summary), summary


class Watchdog:
    """One site's watcher. ``probe``, ``run``, ``log`` and ``traffic`` (a
    TrafficWatch) are injectable for tests; ``step()`` is one check and
    returns the seconds to wait; ``watch_traffic()`` is one poll of the logs
    and says whether it acted."""

    def __init__(self, config, probe_fn=probe, run_fn=run_command, log=None, alert_fn=None, traffic=None):
        self.config = config
        self.site = registry.Site(config["base_dir"], config["site"])
        self.probe = probe_fn
        self.run = run_fn
        self.log = log or (lambda text: sys.stderr.write(text + "\n"))
        self.alert = alert_fn or self._alert
        self.failed_checks = 0
        self.first_failure_at = None
        self.reported = set()
        self._expected = {}
        self.traffic = traffic if traffic is not None else self._traffic_watch()
        self._traffic_release = None
        self._saved_at = None

    # The loop ---------------------------------------------------------------

    def step(self):
        config = self.config
        current = self.site.current()
        if current is None or self.site.lease() is not None:
            # No release, or a deploy holds the site and probes it itself.
            self.failed_checks = 0
            return config["interval"]
        problems, summary = self.probe(config, max(1, len(config["urls"])), self.expected_body(current))
        if not problems:
            if self.failed_checks:
                self.log("%s: %s answers again after %d failed check(s)" % (self.site.name, current, self.failed_checks))
            self.failed_checks = 0
            self.first_failure_at = None
            return config["interval"]
        self.failed_checks += 1
        if self.first_failure_at is None:
            self.first_failure_at = layout.now()
        why = describe_failure(summary, problems) if summary else "; ".join(problems)
        self.log("%s: %s failed check %d of %d: %s" % (self.site.name, current, self.failed_checks,
                                                       config["failures"], why))
        if self.failed_checks < config["failures"]:
            return config["retry_interval"]
        self.act(current, why)
        self.failed_checks = 0
        self.first_failure_at = None
        return config["interval"]

    def forever(self):
        self.log("watching %s (%s) every %gs" % (
            self.site.name, ", ".join(self.config["urls"]), self.config["interval"]))
        if self.traffic is not None:
            self.log("watching real traffic in %s" % ", ".join(
                self.config["access_logs"] + self.config["error_logs"]))
        while True:
            wait = self._guarded(self.step, self.config["interval"])
            self.sleep_watching(wait)

    def _guarded(self, call, fallback):
        try:
            return call()
        except layout.ReleaseError as error:
            self.log("%s: %s" % (self.site.name, error))
        except Exception as error:  # pylint: disable=broad-except
            # Keep watching; the supervisor would restart a dead watcher
            # but lose the count of failed checks.
            self.log("%s: unexpected error, still watching: %s: %s" % (self.site.name, type(error).__name__, error))
        return fallback

    def sleep_watching(self, seconds, sleep=time.sleep, clock=time.monotonic):
        """Wait ``seconds``, polling the traffic meanwhile; returns early
        when the traffic made it act."""
        end = clock() + seconds
        while True:
            left = end - clock()
            if left <= 0:
                return
            if self.traffic is None:
                sleep(left)
                return
            sleep(min(left, self.config["traffic_poll_interval"]))
            if self._guarded(self.watch_traffic, False):
                return

    # Real traffic -------------------------------------------------------------

    def _traffic_watch(self):
        config = self.config
        if not (config["access_logs"] or config["error_logs"]):
            return None
        traffic = TrafficWatch(config["access_logs"], config["error_logs"], min_errors=config["traffic_min_errors"],
                               max_error_rate=config["traffic_max_error_rate"], window=config["traffic_window"],
                               ignore_paths=config["traffic_ignore_paths"])
        saved = self._saved_positions()
        if saved:
            traffic.restore(saved)
        return traffic

    def _saved_positions(self):
        path = self.config["traffic_positions_file"]
        if not path:
            return None
        try:
            if time.time() - os.stat(path).st_mtime > RESUME_WITHIN:
                return None
            with open(path) as handle:
                saved = json.load(handle)
        except (OSError, ValueError):
            return None
        return saved if isinstance(saved, dict) else None

    def save_positions(self):
        path = self.config["traffic_positions_file"]
        if not path or self.traffic is None:
            return
        temporary = "%s.%d.tmp" % (path, os.getpid())
        try:
            with open(temporary, "w") as handle:
                json.dump(self.traffic.positions(), handle)
            os.replace(temporary, path)
        except OSError as error:
            self.log("%s: cannot save where the logs were read to %s: %s" % (self.site.name, path, error))

    def watch_traffic(self):
        """Read what the logs got; act when real traffic crossed the
        thresholds. True when it acted."""
        traffic = self.traffic
        if traffic is None:
            return False
        traffic.poll()
        now = time.monotonic()
        if self._saved_at is None or now - self._saved_at >= SAVE_EVERY:
            self._saved_at = now
            self.save_positions()
        current = self.site.current()
        if self.site.lease() is not None:
            current = None
        if current is None or current != self._traffic_release:
            # A release switched in (or a deploy holds the site and watches
            # it itself): what was counted is not this release's.
            traffic.reset()
            self._traffic_release = current
            return False
        verdict = traffic.verdict()
        if verdict is None:
            return False
        self.log("%s: %s fails on real traffic: %s" % (self.site.name, current, verdict))
        traffic.reset()
        self.act(current, verdict, reason="%s failed on real traffic: %s" % (current, verdict))
        return True

    def expected_body(self, release_id):
        """What answers of ``release_id`` match, from its probe.json (unless the
        settings name one for every release), so that an answer from another
        release counts as a failure."""
        if self.config["expect_body"] or release_id is None:
            return None
        if release_id not in self._expected:
            try:
                settings = manifest.read_probe(self.site.release_dir(release_id)) or {}
            except (OSError, layout.ReleaseError) as error:
                self.log("%s: not checking which release answers: %s" % (self.site.name, error))
                settings = {}
            self._expected[release_id] = settings.get("expect_body")
        return self._expected[release_id]

    # Acting -------------------------------------------------------------------

    def act(self, failing, why, reason=None):
        """Restore the known-good release in place of ``failing``, or
        report why not. ``reason``: what fired, when not the probe's
        checks. Returns the event recorded."""
        config = self.config
        site = self.site
        reason = reason or "%s failed %d consecutive checks since %s: %s" % (
            failing, config["failures"], self.first_failure_at, why)
        try:
            lock = site.lock(config["lock_timeout"])
            lock.acquire()
        except layout.ReleaseError as error:
            self.log("%s: not acting this time: %s" % (site.name, error))
            return None
        switched = None
        try:
            state = site.load_state()
            if site.current() != failing:
                return None
            if site.lease() is not None:
                return None
            memory = state.setdefault("watchdog", {"rolled_back_from": [], "restored": []})
            refusal = None
            if failing in memory["rolled_back_from"]:
                refusal = "it rolled back from %s automatically once already" % failing
            elif failing in memory["restored"]:
                refusal = "%s is the release it restored itself, and it fails too" % failing
            recorded = len(state.get("events", []))
            if refusal is None:
                try:
                    _actions, switched = rollback.restore_known_good(
                        site, state, None, "watchdog: " + reason, False, self._config_test(),
                        server=config["server"] or "the server")
                except layout.ReleaseError as error:
                    refusal = str(error)
            if switched is not None:
                memory["rolled_back_from"] = (memory["rolled_back_from"] + [failing])[-20:]
                memory["restored"] = (memory["restored"] + [switched["target"]])[-20:]
                events = state.get("events", [])[recorded:]
            else:
                key = (failing, refusal)
                if key in self.reported:
                    return None
                self.reported.add(key)
                events = [registry.add_event(state, "watchdog_alert", failing,
                                             reason="%s; not rolling back: %s" % (reason, refusal))]
            for event in events:
                event["by"] = WATCHER
            site.save_state(state)
        finally:
            lock.release()
        if switched is None:
            self.log("%s: ALERT %s" % (site.name, events[0]["reason"]))
            self.alert(events[0])
            return events[0]
        return self._after_switch(failing, switched, events)

    def _after_switch(self, failing, restored, events):
        config = self.config
        site = self.site
        target = restored["target"]
        notes = []
        try:
            done = reload_after_switch(self.run, php_fpm=config["php_fpm"], reload_command=config["reload_command"])
        except ServiceError as error:
            done = error.done
            notes.append("reload failed: %s" % error)
        if "php_fpm" in done:
            php_fpm = done["php_fpm"]
            notes.append("PHP-FPM %s" % ("reloaded in %s ms" % php_fpm["elapsed_ms"] if php_fpm["reloaded"]
                                         else "not running"))
        if "reload" in done and done["reload"]["rc"] == 0:
            notes.append("reload exit 0")
        problems, summary = self.probe(config, config["confirm_requests"], self.expected_body(target))
        rolled_back = next((event for event in events if event["event"] == "rolled_back"), events[0])
        rolled_back["detail"] = "; ".join(notes + [
            "probe of %s: %s" % (target, "%d/%d ok" % (summary["ok"], summary["total"]) if not problems
                                 else describe_failure(summary, problems) if summary else "; ".join(problems))])
        self.log("%s: rolled back from %s to %s (%s)" % (site.name, failing, target, rolled_back["detail"]))
        alert = None
        with site.lock(max(config["lock_timeout"], 10.0)):
            state = site.load_state()
            for event in state.get("events", []):
                if event.get("at") == rolled_back["at"] and event.get("event") == "rolled_back":
                    event["detail"] = rolled_back["detail"]
            if problems:
                # The known-good fails too: report, and never act on it (it is in "restored").
                alert = registry.add_event(state, "watchdog_alert", target, by=WATCHER,
                                           reason="%s, restored after %s failed, fails too: %s; only reporting" % (
                                               target, failing, rolled_back["detail"]))
            site.save_state(state)
        self.alert(rolled_back)
        if alert is not None:
            self.log("%s: ALERT %s" % (site.name, alert["reason"]))
            self.alert(alert)
        return rolled_back

    def _config_test(self):
        server = self.config["server"]
        if server is None:
            return None
        return rollback.candidate_config_test(self.site, server, find_binary, self.run)

    def _alert(self, event):
        """Run the alert command (the event as JSON on stdin) and post to the
        alert URL. A failing hook is logged, never fatal."""
        payload = json.dumps(dict(event, host=os.uname().nodename), sort_keys=True)
        if self.config["alert_command"]:
            rc, out, err = run_command(self.config["alert_command"], {"LASTGOOD_EVENT": event["event"]}, payload,
                                       timeout=30)
            if rc != 0:
                self.log("alert command %s failed (exit %d): %s" % (
                    self.config["alert_command"][0], rc, (err or out).strip()[:300]))
        if self.config["alert_url"]:
            try:
                status = post_json(self.config["alert_url"], payload)
                if not 200 <= status < 300:
                    self.log("alert URL %s answered %d" % (shown_url(self.config["alert_url"]), status))
            except (OSError, ValueError, http.client.HTTPException) as error:
                self.log("alert URL %s failed: %s" % (shown_url(self.config["alert_url"]), error))


def shown_url(url):
    """What the log may say of an alert URL: its scheme, host and port.
    A webhook's path, query and user info are often its secret."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or "?"
    if ":" in host:
        host = "[%s]" % host
    try:
        port = parts.port
    except ValueError:
        port = None
    hidden = "/..." if (parts.path not in ("", "/") or parts.query or parts.fragment or "@" in parts.netloc) else ""
    return "%s://%s%s%s" % (parts.scheme or "?", host, ":%d" % port if port else "", hidden)


def post_json(url, payload, timeout=5.0):
    """POST ``payload`` (JSON text) to an http(s) URL; the status."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("not an http(s) URL")
    connection_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = connection_class(parts.hostname, parts.port, timeout=timeout)
    try:
        connection.request("POST", (parts.path or "/") + ("?" + parts.query if parts.query else ""), body=payload.encode(),
                           headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        response.read(1024)
        return response.status
    finally:
        connection.close()
