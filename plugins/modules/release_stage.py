#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
---
module: release_stage
short_description: Hold a site, stage a release from its bundle and validate it, in one call
version_added: 0.3.0
description:
  - Takes the site's lease for O(lock_owner) (see M(lastgood.webstack.release)'s
    O(lastgood.webstack.release#module:state=leased)), unpacks the release bundle (a C(.tar.gz)) and stages it as
    C(releases/<release_id>/) with its manifest, then, with O(validate), checks it before anything live changes and
    records it C(validated), or C(invalid) with the reason.
  - The checks are those of M(lastgood.webstack.web_refs), M(lastgood.webstack.php_refs) and
    M(lastgood.webstack.config_test), run with the release in place of C(current) - on the live configuration, on
    the release's PHP code from the entry points the configuration reaches, on a candidate copy of the server's
    configuration (and of PHP-FPM's when the release brings pools). They fail closed - a release whose own
    C(nginx/*.conf) or C(apache/*.conf) the live configuration does not include is C(invalid), since nothing of
    it was checked.
  - The action plugin uploads O(src), a bundle on the controller, into the connection's temporary directory
    first; the module removes it once unpacked. Without O(src) and O(bundle) the release must be staged already
    (as for validating it again, or after hooks).
  - The whole is one module call on the host, so a deploy makes few round trips whatever the connection.
author:
  - lastgood.webstack contributors (!UNKNOWN)
extends_documentation_fragment:
  - lastgood.webstack.site
  - lastgood.webstack.attributes
attributes:
  check_mode:
    support: full
    details:
      - Nothing is uploaded, leased, staged or recorded; a release the host holds already is validated (the checks
        only read), and C(status) says what would be recorded.
  diff_mode:
    support: none
    details: The registry's changes are returned as C(actions) and C(events).
  action:
    description: Indicates this has a corresponding action plugin so some parts of the options can be executed on the controller.
    support: full
    details: The action plugin uploads O(src).
options:
  release_id:
    description: The release, 1 to 64 letters, digits, C(.), C(_) or C(-), starting with a letter or digit.
    type: str
    required: true
  src:
    description:
      - The release bundle on the controller, a C(.tar.gz) of the release's directory (C(nginx/) or C(apache/),
        C(app/), C(php-fpm/), C(probe.json)). Uploaded by the action plugin and removed from the host after.
      - Not uploaded when the host holds the release already, in check mode, or with O(bundle).
    type: path
  bundle:
    description: The release bundle already on the host.
    type: path
  remove_bundle:
    description: Remove O(bundle), and its directory when that is then empty, once it was unpacked (the action
      plugin sets it for the copy it uploaded).
    type: bool
    default: false
  checksum:
    description: The checksum the release must have (its manifest's sha256, as the controller computed it); a
      bundle that arrives with other content is refused.
    type: str
  lock_owner:
    description: Who holds the site for this deploy (the lease's owner, checked by every later change).
    type: str
    required: true
  lock_timeout:
    description: Seconds to wait for another change of the same site to finish.
    type: float
    default: 30
  lease:
    description: The lease this call takes for O(lock_owner) (see M(lastgood.webstack.release)).
    type: dict
    suboptions:
      seconds:
        description: How long the lease holds without being renewed.
        type: int
        default: 1800
      holder:
        description: Who holds it, as the P(lastgood.webstack.controller_run#lookup) lookup describes the run.
        type: dict
      break_lease_of:
        description: Break the lease of this owner first (a deploy whose run is gone).
        type: str
  shared_paths:
    description: See M(lastgood.webstack.release)'s O(lastgood.webstack.release#module:shared_paths).
    type: list
    elements: str
    default: []
  writable_paths:
    description: See M(lastgood.webstack.release)'s O(lastgood.webstack.release#module:writable_paths).
    type: list
    elements: str
    default: []
  writable_owner:
    description: See M(lastgood.webstack.release)'s O(lastgood.webstack.release#module:writable_owner).
    type: str
  writable_group:
    description: See M(lastgood.webstack.release)'s O(lastgood.webstack.release#module:writable_group).
    type: str
  upload_dir:
    description: Where the bundle is unpacked before it is staged (removed after).
    type: path
    default: /var/tmp/lastgood-upload
  validate:
    description: Validate the staged release and record it C(validated) or C(invalid). Not set, only stage.
    type: dict
    suboptions:
      server:
        description: The web server that serves the site.
        type: str
        required: true
        choices: [nginx, apache]
      check_sockets:
        description: Check that the unix sockets the configuration names exist (or that the release's pools create them).
        type: bool
        default: true
      check_php:
        description: Follow include and require through the release's C(app/) with M(lastgood.webstack.php_refs).
        type: bool
        default: true
      php:
        description:
          - Options of the PHP check, C(constants), C(exclude), C(include_path) (empty - the one the configuration
            sets, else the host's), C(cli_entrypoints) (paths inside the release) and C(lint), as
            M(lastgood.webstack.php_refs) takes them.
        type: dict
        default: {}
      php_fpm_config_dir:
        description: The PHP-FPM configuration to test the release's pools with; not set, the newest C(/etc/php/*/fpm).
        type: path
      include_line:
        description: The line that includes the site's releases in the server's configuration, for the message of a
          release that is not included.
        type: str
      include_file:
        description: The file that holds O(validate.include_line).
        type: str
      host_label:
        description: The host's name in messages (the inventory name).
        type: str
      note:
        description: Facts recorded on the release with C(validated) (see M(lastgood.webstack.release)'s O(lastgood.webstack.release#module:note)).
        type: dict
seealso:
  - module: lastgood.webstack.release
  - module: lastgood.webstack.release_switch
  - module: lastgood.webstack.web_refs
  - module: lastgood.webstack.php_refs
  - module: lastgood.webstack.config_test
notes:
  - Run it as root (become) - the release's files and the checks' candidate copies are written as root.
"""

EXAMPLES = r"""
- name: Upload, stage and validate release v3 of shop
  lastgood.webstack.release_stage:
    site: shop
    release_id: v3
    src: /tmp/lastgood-bundles/shop-v3.tar.gz
    lock_owner: deploy v3 from ci1
    validate:
      server: nginx
      php:
        cli_entrypoints: [bin/console]
"""

RETURN = r"""
status:
  description: The release's status after the call (V(staged), V(validated), V(invalid), or in check mode what would be recorded).
  returned: always
  type: str
  sample: validated
staged:
  description: Whether this call staged the release (it was not on the host before).
  returned: always
  type: bool
release:
  description: The release's record (as M(lastgood.webstack.release_info) returns it).
  returned: when the release is staged
  type: dict
checks:
  description:
    - What each check returned - C(web_refs), C(php_refs), C(config_test), C(php_fpm_test) (as their modules
      return them), C(release_config_files), and C(timings) in milliseconds.
  returned: with O(validate)
  type: dict
pool_sockets:
  description: The unix sockets the release's own pools listen on (the switch waits for them).
  returned: with O(validate)
  type: list
  elements: str
bundle_removed:
  description: Whether O(bundle) was removed (O(remove_bundle)).
  returned: always
  type: bool
bundle_dir_removed:
  description: Whether the directory of O(bundle) was removed too, being empty then.
  returned: always
  type: bool
lease_broken:
  description: The stale lease this call broke (O(lease.break_lease_of)).
  returned: when one was broken
  type: dict
events:
  description: The events the call added to the site's history.
  returned: always
  type: list
  elements: dict
actions:
  description: What was done, one sentence each.
  returned: always
  type: list
  elements: str
timings:
  description: Milliseconds of C(lease), C(unpack), C(stage) and C(validate).
  returned: always
  type: dict
"""

import os
import shutil
import tempfile
import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.lastgood.webstack.plugins.module_utils._common.host import CheckFailed, ModuleHost
from ansible_collections.lastgood.webstack.plugins.module_utils._common.params import OptionError
from ansible_collections.lastgood.webstack.plugins.module_utils._release import layout, registry, states
from ansible_collections.lastgood.webstack.plugins.module_utils._release.validation import ReleaseChecks

ARGUMENT_SPEC = dict(
    site=dict(type="str", required=True),
    base_dir=dict(type="path", default="/srv/lastgood"),
    release_id=dict(type="str", required=True),
    src=dict(type="path"),
    bundle=dict(type="path"),
    remove_bundle=dict(type="bool", default=False),
    checksum=dict(type="str"),
    lock_owner=dict(type="str", required=True),
    lock_timeout=dict(type="float", default=30),
    lease=dict(type="dict", options=dict(
        seconds=dict(type="int", default=1800),
        holder=dict(type="dict"),
        break_lease_of=dict(type="str"),
    )),
    shared_paths=dict(type="list", elements="str", default=[]),
    writable_paths=dict(type="list", elements="str", default=[]),
    writable_owner=dict(type="str"),
    writable_group=dict(type="str"),
    upload_dir=dict(type="path", default="/var/tmp/lastgood-upload"),
    validate=dict(type="dict", options=dict(
        server=dict(type="str", required=True, choices=["nginx", "apache"]),
        check_sockets=dict(type="bool", default=True),
        check_php=dict(type="bool", default=True),
        php=dict(type="dict", default={}),
        php_fpm_config_dir=dict(type="path"),
        include_line=dict(type="str"),
        include_file=dict(type="str"),
        host_label=dict(type="str"),
        note=dict(type="dict"),
    )),
)


class Stager:
    """The steps of one call, each a registry change under the site's lock."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.site = registry.Site(self.params["base_dir"], self.params["site"])
        self.result = dict(changed=False, events=[], actions=[], timings={}, staged=False, bundle_removed=False,
                           bundle_dir_removed=False)

    def change(self, wanted, **options):
        params = dict(site=self.params["site"], base_dir=self.params["base_dir"], state=wanted,
                      release_id=self.params["release_id"], lock_owner=self.params["lock_owner"],
                      lock_timeout=self.params["lock_timeout"], reason=None, note=None, php_fpm=None, src=None,
                      keep=5, lease_seconds=1800, lease_holder=None, break_lease_of=None, force=False,
                      config_test=None, shared_paths=[], writable_paths=[], writable_owner=None, writable_group=None)
        params.update(options)
        extra = {}
        done = states.change_locked(self.site, params, self.module.check_mode, extra)
        self.result["events"].extend(done["events"])
        self.result["actions"].extend(done["actions"])
        self.result["changed"] = self.result["changed"] or bool(done["actions"])
        if "lease_broken" in extra:
            self.result["lease_broken"] = extra["lease_broken"]
        return done["state"]

    def timed(self, name, function):
        started = time.monotonic()
        try:
            return function()
        finally:
            self.result["timings"][name + "_ms"] = round((time.monotonic() - started) * 1000.0, 1)

    def lease(self):
        lease = self.params["lease"] or {}
        if self.module.check_mode:
            return
        self.timed("lease", lambda: self.change(
            "leased", lease_seconds=lease.get("seconds") or 1800, lease_holder=lease.get("holder"),
            break_lease_of=lease.get("break_lease_of")))

    def stage(self, state):
        release_id = self.params["release_id"]
        if release_id in state["releases"] and os.path.isdir(self.site.release_dir(release_id)) \
                and state["releases"][release_id].get("status") != "damaged":
            return state
        bundle = self.params["bundle"]
        if not bundle:
            if self.module.check_mode:
                self.result["actions"].append("would stage release %s from its bundle" % release_id)
                self.result["changed"] = True
                return state
            raise layout.ReleaseError("release %s is not staged on this host and no bundle was given (src or "
                                      "bundle)" % release_id)
        if not os.path.isfile(bundle):
            raise layout.ReleaseError("bundle %s is not a file on the host" % bundle)
        if not os.path.isdir(self.params["upload_dir"]):
            os.makedirs(self.params["upload_dir"], 0o700)
        unpacked = tempfile.mkdtemp(prefix="%s-%s." % (self.params["site"], release_id), dir=self.params["upload_dir"])
        try:
            self.timed("unpack", lambda: self.unpack(bundle, unpacked))
            state = self.timed("stage", lambda: self.change(
                "staged", src=unpacked, shared_paths=self.params["shared_paths"],
                writable_paths=self.params["writable_paths"], writable_owner=self.params["writable_owner"],
                writable_group=self.params["writable_group"]))
        finally:
            shutil.rmtree(unpacked, ignore_errors=True)
        self.result["staged"] = not self.module.check_mode
        return state

    def unpack(self, bundle, dest):
        # GNU tar: refuses member names with "..", and creates symlinks
        # only after the files, so a member cannot write through one.
        tar = self.module.get_bin_path("tar", required=True)
        rc, out, err = self.module.run_command([tar, "-x", "-z", "--no-same-owner", "-f", bundle, "-C", dest],
                                               environ_update={"LC_ALL": "C"})
        if rc != 0:
            raise layout.ReleaseError("cannot unpack the bundle %s: %s" % (bundle, (err or out).strip()))

    def check_checksum(self, state):
        record = state["releases"].get(self.params["release_id"]) or {}
        wanted = self.params["checksum"]
        if wanted and record.get("checksum") and record["checksum"] != wanted:
            raise layout.ReleaseError(
                "release %s has checksum %s on this host but %s on the controller: the bundle did not arrive as "
                "packed, or the release id was given to other content before" % (
                    self.params["release_id"], record["checksum"], wanted))

    def validate(self, state):
        settings = self.params["validate"]
        release_id = self.params["release_id"]
        record = state["releases"].get(release_id)
        if record is None:
            self.result["status"] = "staged"
            return state
        if record.get("status") in ("invalid", "bad"):
            raise layout.ReleaseError("release %s is %s (%s); fix it and deploy new content" % (
                release_id, record["status"], record.get("reason") or "no reason recorded"))
        checks = ReleaseChecks(self.site, release_id, settings, ModuleHost(self.module), settings["host_label"])
        started = time.monotonic()
        try:
            self.result["checks"] = checks.run()
        except (CheckFailed, OptionError) as error:
            self.result["checks"] = checks.results
            self.result["timings"]["validate_ms"] = round((time.monotonic() - started) * 1000.0, 1)
            reason = str(error)
            self.change("invalid", reason=reason[:2000])
            self.result["status"] = "invalid"
            self.module.fail_json(
                msg="Release %s of %s is invalid; nothing live was changed.\n%s" % (release_id, self.site.name, reason),
                reason=reason, **self.result)
        self.result["timings"]["validate_ms"] = round((time.monotonic() - started) * 1000.0, 1)
        self.result["pool_sockets"] = self.result["checks"]["web_refs"].get("pool_sockets", [])
        return self.change("validated", note=settings["note"])

    def run(self):
        layout.check_release_id(self.params["release_id"])
        try:
            self.lease()
            state = self.stage(self.site.load_state())
        finally:
            self.remove_upload()
        self.check_checksum(state)
        if self.params["validate"]:
            state = self.validate(state)
        record = state["releases"].get(self.params["release_id"])
        if record is not None:
            self.result["release"] = registry.public_release(state, self.params["release_id"])
        self.result.setdefault("status", (record or {}).get("status", "staged"))
        return self.result

    def remove_upload(self):
        bundle = self.params["bundle"]
        if not (bundle and self.params["remove_bundle"]) or self.module.check_mode:
            return
        try:
            os.unlink(bundle)
        except OSError:
            return
        self.result["bundle_removed"] = True
        try:
            os.rmdir(os.path.dirname(bundle))
        except OSError:
            return
        self.result["bundle_dir_removed"] = True


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, mutually_exclusive=[("src", "bundle")],
                           supports_check_mode=True)
    stager = Stager(module)
    try:
        result = stager.run()
    except layout.ReleaseError as error:
        module.fail_json(msg=str(error), **stager.result)
    except OSError as error:
        module.fail_json(msg="%s: %s" % (getattr(error, "filename", None) or module.params["site"],
                                         error.strerror or error), **stager.result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
