# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment(object):

    # Every module of the collection runs on the managed host.
    DOCUMENTATION = r"""
attributes:
  check_mode:
    description: Can run in check mode and report what would change without changing anything.
  diff_mode:
    description: Shows what changed (or would change, in check mode) in diff mode.
  platform:
    description: Runs on the managed host with its Python standard library alone.
    support: full
    platforms: posix
"""

    # A module that only reads.
    READ_ONLY = r"""
attributes:
  check_mode:
    support: full
    details: The module only reads, so check mode runs it as it is.
  diff_mode:
    support: none
    details: Nothing is changed, so there is nothing to show.
"""
