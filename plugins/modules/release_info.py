#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
---
module: release_info
short_description: Read the release registry of one site on one host
version_added: 0.1.0
description:
  - Returns what M(lastgood.webstack.release) keeps under O(base_dir)/O(site)/, the release C(current) points at,
    the known-good ones, every release with its status, checksum and timestamps, and the freeze record.
  - Reads without taking the site's lock, so it answers even while a deploy holds it.
author:
  - lastgood.webstack contributors (!UNKNOWN)
options:
  release_id:
    description: Also return this release as RV(release).
    type: str
  rollback_target:
    description:
      - Also choose the release a rollback would restore, RV(rollback.target) - the newest known-good release that
        is not current and whose files still match its manifest (each candidate is checked file by file).
        A damaged one is passed over for the next older and listed in RV(rollback.skipped).
    type: bool
    default: false
  rollback_to:
    description: With O(rollback_target), restore this known-good release instead of the newest one (still checked).
    type: str
  events:
    description:
      - Also return the site's last O(events) events (RV(events)), oldest first; the registry keeps the last 200.
      - 0 returns none.
    type: int
    default: 0
  php_fpm_pidfile:
    description:
      - Also tell whether a PHP-FPM master runs under this pid file (RV(php_fpm)), the one a switch would reload
        (see O(lastgood.webstack.release#module:php_fpm)), so that a deploy can stop before anything changes.
    type: path
  php_fpm_versions:
    description:
      - Also list the PHP-FPM versions installed on the host (RV(php_fpm_versions)), so that a deploy that was not
        told which one runs the site finds out in the same call.
    type: bool
    default: false
extends_documentation_fragment:
  - lastgood.webstack.site
  - lastgood.webstack.attributes
  - lastgood.webstack.attributes.read_only
seealso:
  - module: lastgood.webstack.release
"""

EXAMPLES = r"""
- name: Read the registry of the shop site
  lastgood.webstack.release_info:
    site: shop
  register: shop_releases

- name: Choose the release a rollback restores, checked against its manifest
  lastgood.webstack.release_info:
    site: shop
    rollback_target: true
  register: shop_rollback

- name: Show what is live and what would be restored
  ansible.builtin.debug:
    msg: "live {{ shop_releases.current }}, known good {{ shop_releases.known_good }}"
"""

RETURN = r"""
exists:
  description: Whether the site has a release directory on this host.
  returned: always
  type: bool
  sample: true
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
  description: Every registered release (id, checksum, status, timestamps, reason), oldest first.
  returned: always
  type: list
  elements: dict
  sample:
    - id: 20261124T1015
      checksum: 9f2c0e...
      status: known_good
      staged_at: "2026-11-24T10:15:02.123456Z"
release:
  description: The release named by O(release_id).
  returned: when O(release_id) is registered
  type: dict
frozen:
  description: The freeze record (reason, by, since) when the site is frozen, else null.
  returned: always
  type: dict
  sample: {reason: incident 42, by: alice, since: "2026-11-24T10:20:00Z"}
rollback:
  description: With O(rollback_target), the release a rollback restores and the ones passed over.
  returned: when O(rollback_target=true)
  type: dict
  contains:
    target:
      description: The release to restore, or null when there is no intact known-good release other than current.
      type: str
    skipped:
      description: Known-good releases passed over because their files no longer match their manifest, with why.
      type: list
      elements: dict
  sample: {target: 20261120T0900, skipped: [{id: 20261122T1400, reason: "changed: app/index.php",
           differences: {changed: [app/index.php], missing: [], added: []}}]}
events:
  description:
    - With O(events), the site's last events, oldest first, as the M(lastgood.webstack.release) module (and the
      watchdog) recorded them; see RV(lastgood.webstack.release#module:events) there.
  returned: when O(events) is above 0
  type: list
  elements: dict
  sample: [{"at": "2026-11-28T05:02:09.000000Z", "event": "rolled_back", "site": "shop", "release": "v1",
            "from": "v3", "to": "v1", "by": "watchdog"}]
php_fpm:
  description: With O(php_fpm_pidfile), the pid in it and whether that process runs.
  returned: when O(php_fpm_pidfile) is given
  type: dict
  sample: {pidfile: /run/php/php8.2-fpm.pid, pid: 71, running: true}
php_fpm_versions:
  description:
    - With O(php_fpm_versions), each PHP-FPM installed on the host (a C(/usr/sbin/php-fpm<version>)), with the pid
      file Debian's packages give it and whether a PHP-FPM runs under that file.
  returned: when O(php_fpm_versions=true)
  type: list
  elements: dict
  sample: [{version: "8.2", pidfile: /run/php/php8.2-fpm.pid, running: true}]
lease:
  description: The lease a change of many steps (a deploy) holds on the site, else null.
  returned: always
  type: dict
  sample: {owner: deploy 3f2a9c1b0d4e, user: root, host: web1, since: "2026-11-24T10:15:00.000000Z",
           expires: "2026-11-24T10:45:00Z", expires_epoch: 1795601100.0}
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.lastgood.webstack.plugins.module_utils._release import layout, registry, rollback
from ansible_collections.lastgood.webstack.plugins.module_utils._release.services import (
    installed_php_fpm,
    read_pid,
    running_php_fpm,
)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            site=dict(type="str", required=True),
            base_dir=dict(type="path", default="/srv/lastgood"),
            release_id=dict(type="str"),
            rollback_target=dict(type="bool", default=False),
            rollback_to=dict(type="str"),
            events=dict(type="int", default=0),
            php_fpm_pidfile=dict(type="path"),
            php_fpm_versions=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    try:
        site = registry.Site(module.params["base_dir"], module.params["site"])
        state = site.load_state()
        result = dict(changed=False, exists=site.exists(), **registry.describe(site, state))
        release_id = module.params["release_id"]
        if release_id is not None and release_id in state["releases"]:
            result["release"] = registry.public_release(state, release_id)
        if module.params["events"] > 0:
            result["events"] = state.get("events", [])[-module.params["events"]:]
        if module.params["rollback_target"]:
            wanted = module.params["rollback_to"]
            if wanted is not None:
                layout.check_release_id(wanted)
            target, skipped = rollback.rollback_target(site, state, wanted)
            result["rollback"] = dict(target=target, skipped=skipped)
        pidfile = module.params["php_fpm_pidfile"]
        if pidfile:
            result["php_fpm"] = dict(pidfile=pidfile, pid=read_pid(pidfile), running=running_php_fpm(pidfile) is not None)
        if module.params["php_fpm_versions"]:
            result["php_fpm_versions"] = installed_php_fpm()
    except layout.ReleaseError as error:
        module.fail_json(msg=str(error))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
