# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import os
import shlex

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):
    """Upload the bundle O(src) into a private temporary directory of the
    connection's user and run the release_stage module on it, which unpacks,
    stages and validates it and removes the upload: three calls to the host
    (the directory, the transfer, the module), whatever the connection.
    Without an upload, one call."""

    # The directory is made only for an upload, in one command (see
    # _upload_dir): Ansible's own way, early, takes two more round trips.
    TRANSFERS_FILES = False

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
        tmpdir = self._upload_dir()
        remote = self._connection._shell.join_path(tmpdir, os.path.basename(src))
        self._transfer_file(src, remote)
        self._fixup_perms2((tmpdir, remote), execute=False)
        args.update(bundle=remote, remove_bundle=True)
        result.update(self._execute_module(module_name="lastgood.webstack.release_stage", module_args=args,
                                           task_vars=task_vars))
        if result.get("bundle_dir_removed"):
            # The module removed the upload and its directory: no call to remove them again.
            self._connection._shell.tmpdir = None
        return result

    def _upload_dir(self):
        """A new directory only the connection's user may read, under its
        remote_tmp, made in one command: the shell expands ``~`` itself. Named
        like Ansible's own (``-tmp-``), so that its clean-up removes it when
        the module did not."""
        base = self.get_shell_option("remote_tmp", default="~/.ansible/tmp")
        if base.startswith("~/"):
            base = '"$HOME"/' + shlex.quote(base[2:])
        elif base == "~":
            base = '"$HOME"'
        else:
            base = shlex.quote(base)
        command = "umask 77 && mkdir -p %s && mktemp -d %s/ansible-tmp-lastgood-upload-XXXXXXXXXX" % (base, base)
        done = self._low_level_execute_command(command, sudoable=False)
        path = done.get("stdout", "").strip().splitlines()[-1:] if done.get("rc") == 0 else []
        if not path or not path[0].startswith("/"):
            raise AnsibleActionFail("cannot make a directory for the upload on the host with %r: rc %s, %s" % (
                command, done.get("rc"), (done.get("stderr") or done.get("stdout") or "").strip()))
        self._connection._shell.tmpdir = path[0]
        self._cleanup_remote_tmp = True
        return path[0]
