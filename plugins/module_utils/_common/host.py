# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the checks need of the host they run on, given by the module that
runs them: finding a binary, running a command with ``LC_ALL=C``, showing
a warning. So one check runs the same from its own module and inside the
module that stages and validates a release. Pure standard library."""

from __future__ import annotations

SBIN = ["/usr/sbin", "/usr/local/sbin"]


class CheckFailed(Exception):
    """A check that failed; ``result`` holds what it returns anyway."""

    def __init__(self, message, result=None):
        super().__init__(message)
        self.result = result or {}


class ModuleHost:
    """The host as an AnsibleModule sees it."""

    def __init__(self, module):
        self.module = module

    def get_bin_path(self, name, required=False, opt_dirs=None):
        return self.module.get_bin_path(name, required=required, opt_dirs=opt_dirs or [])

    def run_command(self, argv, environ=None):
        """``(rc, stdout, stderr)``; a command that cannot start is exit 127, as in a shell."""
        environ_update = {"LC_ALL": "C"}
        environ_update.update(environ or {})
        try:
            return self.module.run_command(argv, environ_update=environ_update, handle_exceptions=False)
        except OSError as error:
            return 127, "", str(error)

    def warn(self, message):
        self.module.warn(message)
