# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading Linux ``/proc``. Pure standard library."""

from __future__ import annotations


def stat_fields(pid):
    """The fields of ``/proc/<pid>/stat`` after the command name (which may
    hold spaces and parentheses): state, ppid, ...; None when unreadable."""
    try:
        with open("/proc/%d/stat" % int(pid), "rb") as handle:
            stat = handle.read()
    except OSError:
        return None
    return stat[stat.rfind(b")") + 2:].split()
