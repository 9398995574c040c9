#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
---
module: release_switch
short_description: Switch a release in, watch it, and switch back by itself at the first failure burst
version_added: 0.3.0
description:
  - Points C(current) at a staged or validated release, reloads PHP-FPM and the web server gracefully, and watches
    the release for the bake time with its O(probe) and, with O(traffic), the site's real requests in its access
    log. All of it runs in this one module call on the host.
  - At the first failure burst (O(probe.fail_fast) consecutive failed probe requests, any failed one while
    O(probe.max_error_rate) is V(0), or real traffic crossing the O(traffic) thresholds) the module switches
    C(current) back to the site's known-good release (or removes it when there is none), reloads, marks the
    release C(bad) with what failed, probes the restored release and fails. The time from the failure seen to the
    known-good release serving again is the host's own reaction, returned as C(timings.failure_to_restored_ms).
  - When the bake passes, the release is marked C(known_good) (unless O(mark_known_good=false), for checks that
    run after this call; then M(lastgood.webstack.release) with O(lastgood.webstack.release#module:state=known_good)
    marks it).
  - Every registry change holds the site's lock, and a lease held by O(lock_owner) is respected as by
    M(lastgood.webstack.release).
author:
  - lastgood.webstack contributors (!UNKNOWN)
extends_documentation_fragment:
  - lastgood.webstack.site
  - lastgood.webstack.attributes
attributes:
  check_mode:
    support: full
    details: Nothing is switched or probed; the result says what would be switched.
  diff_mode:
    support: full
    details: Shows the registry before and after, as M(lastgood.webstack.release) does.
options:
  release_id:
    description: The release to switch in; it must be staged, validated, live or known good.
    type: str
    required: true
  lock_owner:
    description: Who makes the change, the name the deploy's lease was taken under.
    type: str
  lock_timeout:
    description: Seconds to wait for another change of the same site to finish.
    type: float
    default: 30
  reload:
    description:
      - The web server to reload gracefully after each switch (and each switch back), with the command Debian's
        units use (C(nginx -s reload), C(apache2ctl graceful)).
    type: str
    choices: [nginx, apache]
  php_fpm:
    description:
      - The PHP-FPM that runs the site, reloaded gracefully before the web server after each switch (see
        M(lastgood.webstack.release)'s O(lastgood.webstack.release#module:php_fpm)).
    type: dict
    suboptions:
      pidfile:
        description: Its pid file.
        type: path
        required: true
      wait_for:
        description: Sockets of the release's own pools that must exist before the web server is reloaded.
        type: list
        elements: path
        default: []
      timeout:
        description: Seconds the graceful reload may take.
        type: float
        default: 30
  probe:
    description: The synthetic requests that watch the release (as M(lastgood.webstack.health_probe) makes them).
    type: dict
    required: true
    suboptions:
      urls:
        description: URLs to ask, in turn, on the host's own loopback as a rule.
        type: list
        elements: str
        required: true
      host_header:
        description: The C(Host) header to send.
        type: str
      expect_status:
        description: The statuses that count as success.
        type: list
        elements: int
        default: [200]
      expect_body:
        description:
          - A regular expression the body must match. Not set, the release's own C(probe.json) C(expect_body) is
            used, so that an answer from another release is a failure.
        type: str
      bake_seconds:
        description: How long to watch the release; V(0) makes O(probe.requests) requests instead.
        type: float
        default: 10
      requests:
        description: With O(probe.bake_seconds=0), how many requests to make.
        type: int
        default: 10
      concurrency:
        description: Requests in flight at once.
        type: int
        default: 2
      rate:
        description: Requests a second over all workers, V(0) for no limit.
        type: float
        default: 50
      timeout:
        description: Seconds to wait for each answer.
        type: float
        default: 5
      max_error_rate:
        description: The share of failed requests allowed over the bake; with V(0) the first one is a failure burst.
        type: float
        default: 0.0
      fail_fast:
        description: This many consecutive failed requests are a failure burst.
        type: int
        default: 3
      validate_certs:
        description: Check the certificates of C(https) URLs.
        type: bool
        default: true
  traffic:
    description:
      - Also watch the site's real requests during the bake - the 5xx answers its access logs record for requests
        that are not the probe's, and the PHP fatal errors of its error logs - and count a burst of them as a
        failure. Not set, or with no logs, only the probe watches.
      - The burst is at least O(traffic.min_errors) errors within O(traffic.window) seconds that are at least
        O(traffic.max_error_rate) of the real requests in it, so that a normal site's rare error does not fire.
    type: dict
    suboptions:
      access_logs:
        description: The site's access logs (nginx C(combined), Apache C(combined), C(common), C(vhost_combined)).
        type: list
        elements: path
        default: []
      error_logs:
        description: The web server's and PHP-FPM's error logs of the site.
        type: list
        elements: path
        default: []
      min_errors:
        description: Errors within the window that make a burst.
        type: int
        default: 5
      max_error_rate:
        description: The share of real requests within the window that must have failed for a burst.
        type: float
        default: 0.2
      window:
        description: Seconds the counts cover.
        type: float
        default: 10
      ignore_paths:
        description: Request paths (prefixes) that do not count, such as other tools' health checks.
        type: list
        elements: str
        default: []
  preview:
    description:
      - Before the switch, serve the release with the host's real web server and PHP-FPM on a loopback-only
        preview listener (copies of their configuration with the release in place of C(current), every listener,
        socket, pid file and log moved into a preview directory) and send it O(preview.requests) of the probe's
        requests (its C(http) URLs). A release whose answers fail there (no answer, a 5xx, or an expected status
        whose body does not match) is marked C(bad) having served no production request, and nothing is switched.
      - An answer that is another status (a redirect to C(https), say) is not judged there; a preview that
        cannot start is a warning. The guarded switch judges the release then.
    type: dict
    suboptions:
      server:
        description: The web server that serves the site.
        type: str
        required: true
        choices: [nginx, apache]
      php_fpm_config_dir:
        description: The PHP-FPM configuration (V(/etc/php/8.2/fpm)) to start the preview's PHP-FPM from; not set, the
          preview's web server passes PHP requests to the live PHP-FPM.
        type: path
      requests:
        description: Requests sent to the preview.
        type: int
        default: 20
      timeout:
        description: Seconds the preview may take to start.
        type: float
        default: 20
  mark_known_good:
    description: Mark the release C(known_good) once its bake passed.
    type: bool
    default: true
seealso:
  - module: lastgood.webstack.release
  - module: lastgood.webstack.health_probe
notes:
  - Run it as root (become), since it signals PHP-FPM and reloads the web server.
"""

EXAMPLES = r"""
- name: Switch release v3 in, watch it for 10 s, switch back by itself when it fails
  lastgood.webstack.release_switch:
    site: shop
    release_id: v3
    lock_owner: deploy v3
    reload: nginx
    php_fpm:
      pidfile: /run/php/php8.2-fpm.pid
    probe:
      urls: [http://127.0.0.1/, http://127.0.0.1/cart]
      host_header: shop.example
      bake_seconds: 10
"""

RETURN = r"""
outcome:
  description:
    - V(known_good) (the bake passed and the release was marked), V(live) (passed, O(mark_known_good=false)),
      V(rolled_back) (it failed and the host is back on C(restored)), V(restore_failed) (it failed and switching
      back failed too; see C(msg)), V(would_switch) in check mode.
  returned: always
  type: str
  sample: rolled_back
switched_from:
  description: The release C(current) pointed at before the switch (null for none).
  returned: when switched
  type: str
  sample: v2
restored:
  description: The known-good release switched back to (null when there was none or nothing failed).
  returned: always
  type: str
  sample: v2
problem:
  description: What failed, when the release failed.
  returned: when the release failed
  type: str
  sample: "probe after the switch: 3 consecutive requests failed (fail_fast 3), probe stopped after 24 ms; first failure after 3 ms: 500 Internal Server Error"
preview:
  description:
    - With O(preview), what the preview listener answered (the probe's figures), C(startup_ms), C(port), and
      C(error_output) (the tail of the preview's error logs, in live paths) when it failed; C(skipped) says why
      there was no preview.
  returned: with O(preview)
  type: dict
traffic:
  description: With O(traffic), what the real requests during the bake came to (requests, errors, samples with file:line).
  returned: when switched with O(traffic)
  type: dict
probe:
  description: The probe's figures over the bake (as M(lastgood.webstack.health_probe) returns them).
  returned: when switched
  type: dict
restored_probe:
  description: 20 requests to the restored release after switching back, C(total), C(ok), C(errors), C(status_counts), C(failure_samples).
  returned: when the host was switched back to a known-good release
  type: dict
timings:
  description:
    - Milliseconds, C(switch_ms) (lock, symlink rename, registry), C(reload_ms) (PHP-FPM and the web server),
      C(bake_ms), and on a failure C(restore_ms) (switch back and reload) and C(failure_to_restored_ms) (from the
      moment the failure was seen to the known-good release serving again).
  returned: always
  type: dict
  sample: {switch_ms: 2.1, reload_ms: 61.7, bake_ms: 83.0, restore_ms: 58.2, failure_to_restored_ms: 59.0}
services:
  description: What reloaded after the switch, C(php_fpm) and C(reload) (see M(lastgood.webstack.release)).
  returned: when switched
  type: dict
events:
  description: The events the call added to the site's history (see M(lastgood.webstack.release)).
  returned: always
  type: list
  elements: dict
actions:
  description: What was done, one sentence each.
  returned: always
  type: list
  elements: str
current:
  description: The release C(current) points at after the call.
  returned: always
  type: str
known_good:
  description: The site's known-good release after the call.
  returned: always
  type: str
"""

import gc

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.lastgood.webstack.plugins.module_utils._common.host import ModuleHost
from ansible_collections.lastgood.webstack.plugins.module_utils._probe import Probe, ProbeError, describe_failure
from ansible_collections.lastgood.webstack.plugins.module_utils._release import layout, registry, states
from ansible_collections.lastgood.webstack.plugins.module_utils._release.guard import GuardedSwitch, SwitchFailed
from ansible_collections.lastgood.webstack.plugins.module_utils._traffic import TrafficWatch
from ansible_collections.lastgood.webstack.plugins.module_utils._webconf import preview as preview_server
from ansible_collections.lastgood.webstack.plugins.module_utils._release.services import (
    MASTER_PIDFILES,
    ServiceError,
    reload_after_switch,
    reload_command_for,
    wait_for_new_workers,
    workers_before_reload,
)

PROBE_SPEC = dict(
    urls=dict(type="list", elements="str", required=True),
    host_header=dict(type="str"),
    expect_status=dict(type="list", elements="int", default=[200]),
    expect_body=dict(type="str"),
    bake_seconds=dict(type="float", default=10),
    requests=dict(type="int", default=10),
    concurrency=dict(type="int", default=2),
    rate=dict(type="float", default=50),
    timeout=dict(type="float", default=5),
    max_error_rate=dict(type="float", default=0.0),
    fail_fast=dict(type="int", default=3),
    validate_certs=dict(type="bool", default=True),
)

ARGUMENT_SPEC = dict(
    site=dict(type="str", required=True),
    base_dir=dict(type="path", default="/srv/lastgood"),
    release_id=dict(type="str", required=True),
    lock_owner=dict(type="str"),
    lock_timeout=dict(type="float", default=30),
    reload=dict(type="str", choices=["nginx", "apache"]),
    php_fpm=dict(type="dict", options=dict(
        pidfile=dict(type="path", required=True),
        wait_for=dict(type="list", elements="path", default=[]),
        timeout=dict(type="float", default=30),
    )),
    probe=dict(type="dict", required=True, options=PROBE_SPEC),
    traffic=dict(type="dict", options=dict(
        access_logs=dict(type="list", elements="path", default=[]),
        error_logs=dict(type="list", elements="path", default=[]),
        min_errors=dict(type="int", default=5),
        max_error_rate=dict(type="float", default=0.2),
        window=dict(type="float", default=10),
        ignore_paths=dict(type="list", elements="str", default=[]),
    )),
    preview=dict(type="dict", options=dict(
        server=dict(type="str", required=True, choices=["nginx", "apache"]),
        php_fpm_config_dir=dict(type="path"),
        requests=dict(type="int", default=20),
        timeout=dict(type="float", default=20),
    )),
    mark_known_good=dict(type="bool", default=True),
)


def change_params(params, state, release_id, reason=None):
    """The release module's parameters for one registry change."""
    return dict(site=params["site"], base_dir=params["base_dir"], state=state, release_id=release_id,
                lock_owner=params["lock_owner"], lock_timeout=params["lock_timeout"], reason=reason, note=None,
                # Only a switch forward needs a running PHP-FPM; a switch back is never refused for it.
                php_fpm=params["php_fpm"] if state == "live" and release_id == params["release_id"] else None, src=None, keep=5, lease_seconds=1800,
                lease_holder=None, break_lease_of=None, force=False, config_test=None)


def expected_body(probe_params, state, release_id):
    """What the answers of ``release_id`` must match: the option, else its probe.json."""
    if probe_params["expect_body"]:
        return probe_params["expect_body"]
    record = state["releases"].get(release_id or "") or {}
    return ((record.get("probe") or {}).get("expect_body") or "").strip() or None


class SwitchSteps:
    """The steps GuardedSwitch calls, done through the module."""

    def __init__(self, module, site):
        self.module = module
        self.params = module.params
        self.probe_params = module.params["probe"]
        self.site = site
        self.reload_command = reload_command_for(self.params["reload"], None)

    def change(self, wanted, target, reason=None):
        return states.change_locked(self.site, change_params(self.params, wanted, target, reason), False, {})

    def reload(self, switch_to):
        php_fpm = self.params["php_fpm"]
        if php_fpm and switch_to != self.params["release_id"]:
            # The release switched back to does not have this release's pool sockets.
            php_fpm = dict(php_fpm, wait_for=[])
        # The reload is a signal: the probe that follows at once must meet
        # the new workers (a first release's port is not even open before).
        before = workers_before_reload(MASTER_PIDFILES.get(self.params["reload"] or ""))
        try:
            done = reload_after_switch(
                lambda argv: self.module.run_command(argv, environ_update={"LC_ALL": "C"}, handle_exceptions=False),
                php_fpm=php_fpm, reload_command=self.reload_command)
        except OSError as error:
            raise ServiceError("the reload could not run: %s" % error)
        if "reload" in done:
            done["reload"]["new_workers_after_ms"] = wait_for_new_workers(before)
        return done

    def preview(self, expect_body):
        """Serve the release on a preview listener and probe it; ``(problem, summary)``."""
        settings = self.params["preview"]
        urls = [url for url in self.probe_params["urls"] if url.lower().startswith("http://")]
        if not urls:
            return None, {"skipped": "the probe's URLs are https; the preview serves plain HTTP"}
        host = ModuleHost(self.module)
        try:
            listener = preview_server.start(
                settings["server"], {self.site.current_link: self.site.release_dir(self.params["release_id"])},
                host.get_bin_path, lambda argv, environ=None: host.run_command(argv, environ),
                php_fpm_config_dir=settings["php_fpm_config_dir"], timeout=settings["timeout"])
        except preview_server.PreviewError as error:
            self.module.warn("the preview of release %s could not start, so the guarded switch alone judges it: %s" % (
                self.params["release_id"], error))
            return None, {"skipped": str(error)}
        try:
            probe = self.make_probe(expect_body, requests=settings["requests"],
                                    urls=[listener.url_for(url) for url in urls])
            summary = probe.run()
            failed, other = preview_failures(probe.results, self.probe_params["expect_status"])
            summary.update(startup_ms=round(listener.startup_ms, 1), port=listener.port)
            if failed:
                summary["error_output"] = listener.error_output()[-4000:]
        finally:
            listener.stop()
        if failed:
            problem = describe_failure(summary, ["%d of %d requests failed" % (len(failed), summary["total"])])
            fatal = [line for line in summary["error_output"].splitlines() if "PHP " in line and "rror" in line]
            return problem + ("; %s" % fatal[0].strip()[:400] if fatal else ""), summary
        if other:
            self.module.warn("the preview of release %s answered %s, which is not judged there (a redirect to https?); "
                             "the guarded switch judges it" % (self.params["release_id"], sorted(set(other))))
        return None, summary

    def make_probe(self, expect_body, requests=None, urls=None):
        probe = self.probe_params
        if requests is None and probe["bake_seconds"] <= 0:
            requests = probe["requests"]
        return Probe(
            urls or probe["urls"], host_header=probe["host_header"], expect_status=probe["expect_status"],
            expect_body=expect_body, requests=requests, duration=None if requests else probe["bake_seconds"],
            concurrency=probe["concurrency"], timeout=probe["timeout"], fail_fast=probe["fail_fast"],
            rate=probe["rate"], validate_certs=probe["validate_certs"], stop_on_error=probe["max_error_rate"] == 0)


def preview_failures(results, expect_status):
    """Of the preview's answers, those that show the release failing: no
    answer, a 5xx, or an expected status with the wrong body; and how many
    were another status, not judged."""
    failed = [status for _ms, status, ok in results if not ok and (
        status == 0 or status >= 500 or status in expect_status)]
    other = [status for _ms, status, ok in results if not ok and status not in failed]
    return failed, other


def traffic_watch(params):
    """The watch of the site's real requests, or None."""
    traffic = params["traffic"]
    if not traffic or not (traffic["access_logs"] or traffic["error_logs"]):
        return None
    return TrafficWatch(traffic["access_logs"], error_logs=traffic["error_logs"], min_errors=traffic["min_errors"],
                        max_error_rate=traffic["max_error_rate"], window=traffic["window"],
                        ignore_paths=traffic["ignore_paths"])


def load_site(module):
    """The site and its registry, or the module fails saying why."""
    params = module.params
    probe = params["probe"]
    if not 0 <= probe["max_error_rate"] <= 1:
        module.fail_json(msg="probe.max_error_rate is a share between 0 and 1, not %s" % probe["max_error_rate"])
    if probe["bake_seconds"] < 0:
        module.fail_json(msg="probe.bake_seconds must not be negative, not %s" % probe["bake_seconds"])
    try:
        layout.check_release_id(params["release_id"])
        site = registry.Site(params["base_dir"], params["site"])
        state = site.load_state()
    except layout.ReleaseError as error:
        module.fail_json(msg=str(error))
    except OSError as error:
        module.fail_json(msg="%s: %s" % (getattr(error, "filename", None) or params["site"], error.strerror or error))
    if params["release_id"] not in state["releases"]:
        module.fail_json(msg="release %s of %s is not staged on this host (releases: %s)" % (
            params["release_id"], params["site"], ", ".join(registry.releases_by_age(state)) or "none"))
    return site, state


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    params = module.params
    site, state = load_site(module)
    release_id = params["release_id"]
    known_good = state.get("known_good")
    if module.check_mode:
        module.exit_json(changed=site.current() != release_id, outcome="would_switch", restored=None,
                         switched_from=site.current(), events=[], actions=[
                             "would switch current from %s to %s and watch it for %g s" % (
                                 site.current() or "nothing", release_id, params["probe"]["bake_seconds"])],
                         timings={}, current=state.get("current"), known_good=known_good)
    steps = SwitchSteps(module, site)
    try:
        steps.make_probe(None)
    except ProbeError as error:
        module.fail_json(msg="probe: %s" % error)
    guarded = GuardedSwitch(
        release_id, known_good, steps.change, steps.reload, steps.make_probe, watch=traffic_watch(params),
        expect_body=expected_body(params["probe"], state, release_id),
        restore_expect_body=expected_body(params["probe"], state, known_good),
        max_error_rate=params["probe"]["max_error_rate"], fail_fast=params["probe"]["fail_fast"],
        mark_known_good=params["mark_known_good"], site_name=params["site"],
        preview=(lambda: steps.preview(expected_body(params["probe"], state, release_id))) if params["preview"] else None)
    # Latency and reaction are what is measured: no collector pauses in them.
    gc.disable()
    failed = None
    try:
        result = guarded.run()
    except SwitchFailed as error:
        failed, result = str(error), error.result
    finally:
        gc.enable()
        if guarded.watch is not None:
            guarded.watch.close()
    after = site.load_state()
    result.update(changed=bool(result["actions"]), current=site.current(), known_good=after.get("known_good"))
    if module._diff and result["actions"]:
        result["diff"] = dict(before=states.summary(state), after=states.summary(after),
                              before_header="%s (before)" % site.state_path, after_header="%s (after)" % site.state_path)
    if failed:
        result.pop("msg", None)
        module.fail_json(msg=failed, **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
