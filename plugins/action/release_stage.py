# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import os

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):
    """Upload the bundle O(src) into the connection's temporary directory
    and run the release_stage module on it, which unpacks, stages and
    validates it and removes the upload: a temporary directory, one file
    transfer and one module call, whatever the connection."""

    TRANSFERS_FILES = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        args = dict(self._task.args)
        src = args.pop("src", None)
        if src is None or self._task.check_mode:
            result.update(self._execute_module(module_name="lastgood.webstack.release_stage", module_args=args,
                                               task_vars=task_vars))
            return result
        if args.get("bundle"):
            raise AnsibleActionFail("src and bundle are mutually exclusive: src is a bundle on the controller to "
                                    "upload, bundle one on the host already")
        src = os.path.expanduser(src)
        if not os.path.isfile(src):
            raise AnsibleActionFail("src %s is not a file on the controller (a .tar.gz of the release)" % src)
        tmpdir = self._make_tmp_path()
        remote = self._connection._shell.join_path(tmpdir, os.path.basename(src))
        self._transfer_file(src, remote)
        self._fixup_perms2((tmpdir, remote), execute=False)
        args.update(bundle=remote, remove_bundle=True)
        result.update(self._execute_module(module_name="lastgood.webstack.release_stage", module_args=args,
                                           task_vars=task_vars))
        if result.get("bundle_removed"):
            # The module removed the upload and its directory: no call to remove them again.
            self._connection._shell.tmpdir = None
        return result
