#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
---
module: release
short_description: Stage, switch and record the releases of one site on one host
version_added: 0.1.0
description:
  - Keeps the release registry of one site under O(base_dir)/O(site)/ on the managed host,
    C(releases/<release_id>/) (immutable once staged, with a C(MANIFEST.sha256)), the C(current) symlink,
    C(state.json) and C(.lock).
  - A release is staged from a directory on the host, switched in by renaming a new C(current) symlink over the old
    one (a request sees the old or the new release, never neither), and marked C(known_good) after its probe passed,
    or C(invalid) (failed validation) or C(bad) (failed its probe).
  - Every change holds an exclusive lock on C(.lock); a second run on the same site waits O(lock_timeout) seconds,
    then fails saying who holds the lock since when. C(state.json) is written to a temporary file, fsynced and
    renamed, so a reader never sees half of it.
  - While the site is frozen (a C(FREEZE) file in the site directory) new releases are refused; switching back to
    a release that is known good is still allowed, so a freeze never blocks a rollback.
author:
  - lastgood.webstack contributors (!UNKNOWN)
options:
  release_id:
    description:
      - The release, 1 to 64 letters, digits, C(.), C(_) or C(-), starting with a letter or digit.
      - Required with O(state) V(staged), V(validated), V(live), V(known_good), V(invalid), V(bad), V(absent) and
        V(verified).
    type: str
  state:
    description:
      - V(staged) copies O(src) to C(releases/<release_id>/) and records its checksum (the sha256 of its manifest).
        Staging a release id again with the same content changes nothing; with other content it is refused.
      - V(validated) records that the release passed validation.
      - V(live) points C(current) at the release.
      - V(known_good) marks the live release good; the previous known-good one is kept as C(previous_known_good).
      - V(invalid) and V(bad) mark a release failed, with O(reason). A release marked bad stops being known good.
      - V(absent) removes a release (never the live one, the known-good one or the one a rollback would restore).
      - V(pruned) removes the oldest releases beyond O(keep), never the live one, the known-good one or the one a
        rollback would restore (the newest known-good release other than the live one).
      - V(unswitched) removes C(current), for a first release that failed while nothing was live before it.
      - V(rolled_back) restores a known-good release, O(release_id) or else the newest known-good one that is not
        current and whose files match its manifest, and marks the release it replaces C(bad) with O(reason). It is
        never refused by a freeze or by the lease of another change (a deploy that died or hangs); that lease is
        broken and reported, and the change that held it is refused from then on.
      - V(frozen) freezes the site with O(reason) (who, O(lock_owner) or else the user); new releases are refused
        until V(thawed). Rollbacks are still allowed.
      - V(verified) recomputes the manifest and fails when any file differs.
      - V(repaired) mends a registry that cannot be read or no longer matches the disk. It starts from C(state.json)
        when it parses, else from C(state.json.bak) (the registry before the last change), else from nothing, and
        keeps a damaged C(state.json) under a new name. Then it checks every release folder against its manifest;
        a registered release whose folder is gone is dropped, one whose files differ is marked C(damaged) (never
        switched in or rolled back to; it gets its status back once its files match again, for example after its
        bundle is staged again), a folder with a manifest but no record is registered as C(staged) (C(live) when
        C(current) points at it), and the known-good pointers follow. Leftovers of killed runs are removed; no
        file of a release is changed or removed. A registry rebuilt from the folders alone knows no known-good
        release; a deploy, or V(known_good) on the live release, sets one again.
      - V(leased) holds the site for a change of many steps (a deploy) for O(lease_seconds); until it is V(unleased)
        or expires, every change with another O(lock_owner) is refused, saying who holds the site.
      - To only read the registry, use M(lastgood.webstack.release_info).
    type: str
    required: true
    choices: [staged, validated, live, known_good, invalid, bad, absent, pruned, unswitched, verified, leased, unleased,
              rolled_back, frozen, thawed, repaired]
  src:
    description: With O(state=staged), the directory on the managed host to stage.
    type: path
  shared_paths:
    description:
      - With O(state=staged), paths inside the release (files or directories, such as V(app/uploads) or
        V(app/.env)) that the application writes and every release shares. Each lives in
        C(<base_dir>/<site>/shared/<path>); in the staged release it becomes an absolute symlink to that place,
        replacing whatever the bundle holds there. When C(shared/<path>) does not exist yet it is created from the
        bundle's copy, or else as an empty directory, owned by O(writable_owner) and O(writable_group); an existing
        one is never changed, and C(shared/) is never pruned.
      - Left out of the release's manifest check (as long as the link is in place), so an upload does not make a
        known-good release damaged for O(state=rolled_back), O(state=verified), O(state=repaired),
        M(lastgood.webstack.release_info) or the watchdog. The release's checksum stays the one of its bundle.
      - Recorded with the release; staging the same release id again with other O(shared_paths) is refused.
      - Refused with nothing staged - an absolute path, C(..), a wildcard, a path inside another shared path, a
        path also under O(writable_paths), a C(shared/<path>) that leads out of the site's directory through a
        symlink, or a C(shared/<path>) that is a directory where the bundle has a file (or the reverse).
    type: list
    elements: str
    default: []
  writable_paths:
    description:
      - With O(state=staged), globs of paths inside the release that the application may write, one copy per
        release, such as V(app/cache/**) (everything under C(app/cache)) or V(app/var/*). C(*) and C(?) match
        within one path segment, a whole C(**) segment any number of them, C([...]) as in the shell.
      - Files added, changed or removed there are not damage to the release (they are left out of its manifest
        check); anything else written into a release still is, and a rollback names the file.
      - The directory before each glob's first wildcard (created when the bundle has none) and the directories
        the glob matches are given to O(writable_owner) and O(writable_group).
      - Recorded with the release; staging the same release id again with other O(writable_paths) is refused.
    type: list
    elements: str
    default: []
  writable_owner:
    description:
      - With O(state=staged), the user (name or uid) that owns the shared paths the module creates and the
        directories of O(writable_paths), the one the application runs as (the PHP-FPM pool's C(user), V(www-data)
        on Debian; the P(lastgood.webstack.deploy#role) role passes V(www-data) by default).
      - Not set, they belong to the user the module runs as.
    type: str
  writable_group:
    description: With O(state=staged), the group (name or gid) of the same paths; not set, left as created.
    type: str
  reason:
    description:
      - With O(state=invalid), O(state=bad) or O(state=rolled_back), why; kept in the registry.
      - With O(state=frozen), why the site is frozen (required).
    type: str
  config_test:
    description:
      - With O(state=rolled_back), run this server's own config test on a candidate copy of its configuration with
        the release to restore in place of C(current) (as M(lastgood.webstack.config_test) does) before switching,
        under the same lock; when the server refuses it nothing is switched.
    type: str
    choices: [nginx, apache]
  note:
    description:
      - Facts to record on the release with this change, such as how it passed the promotion gate
        (a C(gate) key saying which staging hosts verified it). Merged into the release's C(notes).
    type: dict
  keep:
    description: With O(state=pruned), how many releases to keep (the live and the known-good ones are kept anyway).
    type: int
    default: 5
  prune_keep:
    description:
      - With O(state=unleased), first remove the oldest releases beyond this many, as O(state=pruned) does, under
        the lease, so that a deploy finishes in one call.
    type: int
  lock_timeout:
    description: Seconds to wait for another change of the same site to finish.
    type: float
    default: 30
  lock_owner:
    description:
      - Who makes this change, for the lease of O(state=leased). Changes with the owner of the current lease proceed;
        others are refused while it lasts.
    type: str
  lease_seconds:
    description: With O(state=leased), how long the lease lasts unless it is dropped first.
    type: int
    default: 1800
  lease_holder:
    description:
      - With O(state=leased), who runs the change on the controller, kept in the lease as C(controller), so that a
        later run on that controller can tell the lease of a killed deploy from a live one
        (the P(lastgood.webstack.controller_run#lookup) lookup gives it and judges it).
    type: dict
  break_lease_of:
    description:
      - With O(state=leased), first break the lease of this owner if it still holds the site, recorded as a rollback
        records it (an event, and that owner's changes refused from then on); for the lease of a deploy whose
        run is known to be gone. A lease held by anyone else is left alone and refuses this change as usual.
    type: str
  force:
    description: With O(state=unleased), drop a lease that another owner holds (after a deploy died).
    type: bool
    default: false
  reload_command:
    description:
      - With O(state=live) or O(state=rolled_back), a command (argv list, no shell) run right after C(current) was
        switched, such as
        V([/usr/sbin/nginx, -s, reload]) or V([/usr/sbin/apache2ctl, graceful]); not run when nothing was switched.
      - Switch and reload in one module call take a fraction of the time of two tasks, which is what a rollback
        waits for.
      - With O(state=unswitched), run after C(current) was removed.
      - Runs after the reload of O(php_fpm).
      - When the command fails the module fails; the switch stays recorded.
      - Mutually exclusive with O(reload).
    type: list
    elements: str
  reload:
    description:
      - The web server to reload gracefully after a switch, the way Debian's own units do, called directly
        (V([/usr/sbin/nginx, -s, reload]) for V(nginx), V([/usr/sbin/apache2ctl, graceful]) for V(apache)).
      - A shorthand for O(reload_command) with the same timing and failure handling; mutually exclusive with it.
    type: str
    choices: [nginx, apache]
  php_fpm:
    description:
      - The PHP-FPM that runs the site's PHP code. With O(state=live), O(state=rolled_back) or O(state=unswitched),
        whenever C(current) was switched it is reloaded gracefully (SIGUSR2) before O(reload_command), and the
        module returns only once PHP-FPM runs again from a new start, so that the code that answers is the release
        switched to, for every entry point.
      - Needed whenever the web server hands PHP-FPM script paths through C(current), as Apache's proxy_fcgi always
        does and nginx does with C($document_root) (Debian's C(snippets/fastcgi-php.conf)), since opcache keeps each
        script compiled under that path, with its C(__DIR__) in the release it was compiled from, and no change of
        files makes it compile again. A graceful reload lets the requests in flight finish (PHP-FPM's
        C(process_control_timeout), which the P(lastgood.webstack.site#role) role sets) while new requests wait in
        the socket's backlog.
      - With O(state=live), a switch is refused while no PHP-FPM runs under O(php_fpm.pidfile), since its code
        could not be made to follow; a rollback or V(unswitched) goes on and warns.
    type: dict
    suboptions:
      pidfile:
        description:
          - The pid file of the PHP-FPM master, such as V(/run/php/php8.2-fpm.pid).
          - Not set, every installed PHP-FPM that runs (C(/run/php/php<version>-fpm.pid) of each
            C(/usr/sbin/php-fpm<version>)) is reloaded, so that a rollback needs no call before it to find out.
        type: path
      wait_for:
        description:
          - Paths to wait for after the reload, such as the sockets of the pools the release brings, so that the
            web server is not reloaded before they exist. The module fails when one is still missing after
            10 seconds.
        type: list
        elements: path
        default: []
      timeout:
        description:
          - Seconds to wait for PHP-FPM to run again; longer than its C(process_control_timeout).
        type: float
        default: 30
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: Shows the registry (current, known good, each release's status) before and after.
extends_documentation_fragment:
  - lastgood.webstack.site
  - lastgood.webstack.attributes
seealso:
  - module: lastgood.webstack.release_info
  - module: lastgood.webstack.web_refs
"""

EXAMPLES = r"""
- name: Restore the newest intact known-good release, whatever holds the site, and reload nginx
  lastgood.webstack.release:
    site: shop
    state: rolled_back
    reason: "incident 42: 500s after the deploy"
    reload: nginx

- name: Freeze the shop while the incident is open
  lastgood.webstack.release:
    site: shop
    state: frozen
    reason: incident 42
    lock_owner: alice

- name: Stage a release copied to the host
  lastgood.webstack.release:
    site: shop
    release_id: 20261124T1015
    state: staged
    src: /var/tmp/shop-20261124T1015

- name: Stage a release whose uploads and .env live in shared/ and whose cache is its own to write
  lastgood.webstack.release:
    site: shop
    release_id: 20261124T1015
    state: staged
    src: /var/tmp/shop-20261124T1015
    shared_paths: [app/uploads, app/.env]
    writable_paths: ["app/cache/**"]
    writable_owner: www-data
    writable_group: www-data

- name: Switch it in
  lastgood.webstack.release:
    site: shop
    release_id: 20261124T1015
    state: live

- name: Record that the probe passed
  lastgood.webstack.release:
    site: shop
    release_id: 20261124T1015
    state: known_good

- name: Mend the registry after a crash or a full disk (see the message of the task that refused it)
  lastgood.webstack.release:
    site: shop
    state: repaired

- name: Keep the last five releases
  lastgood.webstack.release:
    site: shop
    state: pruned
    keep: 5
"""

RETURN = r"""
release:
  description: The release named by O(release_id), as recorded.
  returned: when O(release_id) is given and the release is registered
  type: dict
  sample:
    id: 20261124T1015
    checksum: 9f2c0e...
    status: known_good
    staged_at: "2026-11-24T10:15:02.123456Z"
    live_at: "2026-11-24T10:15:09.456789Z"
    known_good_at: "2026-11-24T10:15:40.000001Z"
    probe: {expect_body: "shop release 20261124T1015"}
current:
  description: The release C(current) points at, or null.
  returned: always
  type: str
  sample: 20261124T1015
known_good:
  description: The last release whose probe passed, or null.
  returned: always
  type: str
  sample: 20261124T1015
previous_known_good:
  description: The known-good release before RV(known_good), or null.
  returned: always
  type: str
  sample: 20261120T0900
releases:
  description: Every registered release, oldest first.
  returned: always
  type: list
  elements: dict
frozen:
  description: The freeze record (reason, by, since) when the site is frozen, else null.
  returned: always
  type: dict
lease:
  description: The lease a change of many steps holds on the site (owner, user, host, since, expires), else null.
  returned: always
  type: dict
actions:
  description: What the module did (or would do in check mode), one line each.
  returned: always
  type: list
  elements: str
  sample: ["switched current from 20261120T0900 to 20261124T1015"]
rollback:
  description: With O(state=rolled_back), the release rolled back from, the one restored, and known-good releases
    passed over because their files no longer match their manifest.
  returned: when O(state=rolled_back)
  type: dict
  sample: {rolled_from: 3f2a9c1b0d4e, target: 9b1d0c2e7a55, skipped: []}
lease_broken:
  description: With O(state=rolled_back), the lease of another change that the rollback broke.
  returned: when a lease was broken
  type: dict
  sample: {owner: deploy 3f2a9c1b0d4e from ci1 at 2026-11-24T10:15:00Z, since: "2026-11-24T10:15:01.000000Z"}
php_fpm:
  description:
    - With O(php_fpm), the reload of PHP-FPM after the switch, C(running) false when no PHP-FPM ran under its pid file
      (nothing to reload), C(pid_before) and C(pid) its master before and after, and how long it took.
  returned: when O(php_fpm) is given and C(current) was switched
  type: dict
  sample: {pidfile: /run/php/php8.2-fpm.pid, running: true, reloaded: true, pid_before: 71, pid: 228,
           elapsed_ms: 101.3}
reload:
  description: With O(reload) or O(reload_command), the command, its exit status, output and how long it took.
  returned: when O(reload) or O(reload_command) ran
  type: dict
  sample: {cmd: [/usr/sbin/nginx, -s, reload], rc: 0, stdout: "", stderr: "", elapsed_ms: 14.2}
events:
  description:
    - What this call did, as the events it added to the site's history (kept in C(state.json), the last 200); the
      C(lastgood.webstack.timeline) callback and the status playbook show them.
    - Each has C(at) (UTC), C(event) (V(staged), V(switched), V(rolled_back), V(known_good), V(invalid), V(bad),
      V(frozen), V(thawed), V(lease_broken)), C(site), C(release), C(by), and where they apply C(from), C(to),
      C(reason), C(checksum). Switching from a release that is not known good back to a known-good one is a
      V(rolled_back) event.
  returned: always
  type: list
  elements: dict
  sample: [{"at": "2026-11-28T05:02:05.123456Z", "event": "switched", "site": "shop", "release": "v3", "from": "v2",
            "to": "v3", "by": "deploy alice@ci1"}]
switch_ms:
  description: With O(state=live), milliseconds the switch took (lock, symlink rename, registry write).
  returned: when O(state=live) switched
  type: float
  sample: 3.1
repair:
  description:
    - With O(state=repaired), what the registry was rebuilt from (C(started_from)), what was wrong with
      C(state.json) (C(damaged_state)) and where the damaged file was kept (C(kept_as)), and the releases
      C(dropped) (folder gone), C(damaged), C(intact_again), C(registered) (from their folder), the
      C(leftovers_removed) of killed runs, the folders that are C(not_releases), and C(warnings), what it could not
      mend.
  returned: when O(state=repaired)
  type: dict
  sample: {started_from: state.json.bak, damaged_state: "is empty (0 bytes)",
           kept_as: /srv/lastgood/shop/state.json.damaged-2026-11-29T031501.123456Z, dropped: [v1], damaged: [v2],
           intact_again: [], registered: [v4], leftovers_removed: [.v4.812.staging], not_releases: [], warnings: []}
differences:
  description: With O(state=verified), the files whose content differs from the manifest.
  returned: when O(state=verified)
  type: dict
  sample: {changed: [app/index.php], missing: [], added: []}
"""

import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.lastgood.webstack.plugins.module_utils._release import layout, manifest, registry, rollback, states
from ansible_collections.lastgood.webstack.plugins.module_utils._release.services import (
    ServiceError,
    reload_after_switch,
    reload_command_for,
)


def run_argv(module, argv):
    """``(rc, stdout, stderr)`` of argv with LC_ALL=C; a command that cannot
    start is exit 127, as in a shell, so that the switch it follows is still
    reported."""
    try:
        return module.run_command(argv, environ_update={"LC_ALL": "C"}, handle_exceptions=False)
    except OSError as error:
        return 127, "", str(error)


ARGUMENT_SPEC = dict(
    site=dict(type="str", required=True),
    base_dir=dict(type="path", default="/srv/lastgood"),
    release_id=dict(type="str"),
    state=dict(type="str", required=True, choices=[
        "staged", "validated", "live", "known_good", "invalid", "bad", "absent", "pruned",
        "unswitched", "verified", "leased", "unleased", "rolled_back", "frozen", "thawed", "repaired"]),
    src=dict(type="path"),
    shared_paths=dict(type="list", elements="str", default=[]),
    writable_paths=dict(type="list", elements="str", default=[]),
    writable_owner=dict(type="str"),
    writable_group=dict(type="str"),
    reason=dict(type="str"),
    note=dict(type="dict"),
    config_test=dict(type="str", choices=["nginx", "apache"]),
    keep=dict(type="int", default=5),
    prune_keep=dict(type="int"),
    lock_timeout=dict(type="float", default=30),
    lock_owner=dict(type="str"),
    lease_seconds=dict(type="int", default=1800),
    lease_holder=dict(type="dict"),
    break_lease_of=dict(type="str"),
    force=dict(type="bool", default=False),
    reload_command=dict(type="list", elements="str"),
    reload=dict(type="str", choices=["nginx", "apache"]),
    php_fpm=dict(type="dict", options=dict(
        pidfile=dict(type="path"),
        wait_for=dict(type="list", elements="path", default=[]),
        timeout=dict(type="float", default=30),
    )),
)


def config_test_of(module, site):
    """The server's own test of a rollback's candidate configuration, or
    None without O(config_test)."""
    server = module.params["config_test"]
    if not server:
        return None
    return rollback.candidate_config_test(
        site, server, lambda name, required, dirs: module.get_bin_path(name, required=required, opt_dirs=dirs),
        lambda cmd, environ: module.run_command(cmd, environ_update=environ))


def reload_services(module, site, result):
    """After a switch: PHP-FPM, then the web server, in this module call."""
    params = module.params
    switched_to = site.current()
    try:
        result.update(reload_after_switch(
            lambda argv: run_argv(module, argv), php_fpm=params["php_fpm"],
            reload_command=reload_command_for(params["reload"], params["reload_command"])))
    except ServiceError as error:
        result.update(error.done)
        module.fail_json(msg="switched %s to %s, but %s" % (site.name, switched_to or "no release", error), **result)
    if params["php_fpm"] and not result["php_fpm"]["running"]:
        module.warn("switched %s to %s while no PHP-FPM ran under %s: nothing to reload" % (
            site.name, switched_to or "no release",
            params["php_fpm"]["pidfile"] or "the pid file of any installed PHP-FPM"))


def verify_release(module, site, state, result):
    release_id = module.params["release_id"]
    differences = manifest.verify(site, state, release_id)
    result["differences"] = differences or {"changed": [], "missing": [], "added": []}
    if differences:
        module.fail_json(msg="release %s differs from its manifest: %s" % (
            release_id, "; ".join("%s: %s" % (kind, ", ".join(paths)) for kind, paths in differences.items() if paths)),
            **result)


def main():
    module = AnsibleModule(
        argument_spec=ARGUMENT_SPEC,
        required_if=[("state", name, ("release_id",)) for name in states.NEEDS_RELEASE_ID],
        mutually_exclusive=[("reload", "reload_command")],
        supports_check_mode=True,
    )
    params = module.params
    wanted = params["state"]
    try:
        if params["release_id"] is not None:
            layout.check_release_id(params["release_id"])
        site = registry.Site(params["base_dir"], params["site"])
        extra = {}
        config_test = config_test_of(module, site)
        started = time.monotonic()
        change = states.change_locked(site, params, module.check_mode, extra, config_test)
        state, before, actions = change["state"], change["before"], change["actions"]
        for warning in extra.get("repair", {}).get("warnings", []):
            module.warn(warning)
        result = dict(changed=bool(actions), actions=actions, events=change["events"], **registry.describe(site, state))
        result.update(extra)
        if change["switched"] and actions and not module.check_mode:
            result["switch_ms"] = round((time.monotonic() - started) * 1000.0, 1)
            reload_services(module, site, result)
        if params["release_id"] is not None and params["release_id"] in state["releases"]:
            result["release"] = registry.public_release(state, params["release_id"])
        if wanted == "verified":
            verify_release(module, site, state, result)
        if module._diff and actions:
            result["diff"] = dict(before=states.summary(before), after=states.summary(state),
                                  before_header="%s (before)" % site.state_path,
                                  after_header="%s (after)" % site.state_path)
    except layout.ReleaseError as error:
        module.fail_json(msg=str(error))
    except OSError as error:
        module.fail_json(msg="%s: %s" % (getattr(error, "filename", None) or params["site"], error.strerror or error))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
