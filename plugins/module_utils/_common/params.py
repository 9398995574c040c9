# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The options several modules share, checked once: ``path_map`` and
``allowed_roots``; and the garbage collector paused for a run that builds
many small objects and frees almost none. Pure standard library."""

from __future__ import annotations

import contextlib
import gc


class OptionError(ValueError):
    """An option value a module refuses, with the message it fails with."""


def checked_path_map(path_map):
    """``path_map`` as ``{live: candidate}`` of strings; OptionError when an
    entry does not map an absolute live path to an absolute path."""
    checked = {}
    for live, candidate in (path_map or {}).items():
        if not isinstance(candidate, str) or not str(live).startswith("/") or not candidate.startswith("/"):
            raise OptionError("path_map: %r: %r must map an absolute live path to an absolute path" % (live, candidate))
        checked[str(live)] = candidate
    return checked


def checked_allowed_roots(roots):
    """``allowed_roots`` as given; OptionError for a path that is not absolute."""
    for root in roots or ():
        if not root.startswith("/"):
            raise OptionError("allowed_roots: %r is not an absolute path" % root)
    return list(roots or ())


@contextlib.contextmanager
def gc_paused():
    """No cyclic garbage collection inside: a short run that builds many
    small objects and frees almost none spends a third of its time in the
    collector otherwise. Restores the collector as it was."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()
