# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The PHP files under an nginx configuration's PHP roots that no request
from a client runs: each ``*.php`` file's URI (its path under a root, as the
location that registered the root maps URIs to files) is followed through
the configuration, and the file is hidden when what answers is not PHP-FPM
running that very file (``deny all``, ``return``, an ``internal`` location,
a rewrite elsewhere, a location that serves it as a file or runs another
script). Files the configuration reaches itself (its entry points) are not
hidden.

The result is glob patterns (fnmatch, live paths): a directory whose every
PHP file is hidden is given as ``<dir>/*``. The walk reads the directories
where the roots are checked (after path_map), does not follow symbolic links
to directories, and stops after MAX_FILES entries. Pure standard library."""

from __future__ import annotations

import os
import re

# The directory entries read at most, over all roots.
MAX_FILES = 50000
# Directories deeper than this under a root are not read.
MAX_DEPTH = 64
_GLOB_SPECIAL = re.compile(r"([*?\[])")


def glob_escape(path):
    """``path`` as an fnmatch pattern that matches only itself."""
    return _GLOB_SPECIAL.sub(r"[\1]", path)


class HiddenWalk:
    """Walks PHP roots and finds their hidden PHP files.

    ``routes``: ``{root (live): [(server, uri prefix), ...]}``, a file
    ``<root>/<rel>`` being requested as ``<uri prefix><rel>`` in that server;
    ``requests``: a nginx_requests.Requests; ``entrypoints``: live paths of
    files the configuration reaches itself."""

    def __init__(self, requests, routes, entrypoints, max_files=MAX_FILES):
        self.requests = requests
        self.routes = sorted((root.rstrip("/") + "/", pairs) for root, pairs in routes.items())
        self.entrypoints = frozenset(entrypoints)
        self.budget = max_files
        self.complete = True

    def hidden(self, live):
        """Whether no request from a client runs the PHP file ``live``."""
        if live in self.entrypoints:
            return False
        for base, pairs in self.routes:
            if not live.startswith(base):
                continue
            relative = live[len(base):]
            for server, prefix in pairs:
                if self.requests.executes(server, prefix + relative, live) is not False:
                    return False
        return True

    def walk(self, checked, live, depth=0):
        """``(php files, all hidden, patterns, complete)`` of the directory
        ``checked`` (on disk), whose live path is ``live``."""
        if depth > MAX_DEPTH:
            self.complete = False
            return 0, False, [], False
        try:
            with os.scandir(checked) as listing:
                entries = sorted(listing, key=lambda entry: entry.name)
        except OSError:
            return 0, True, [], True
        count = 0
        all_hidden = True
        complete = True
        patterns = []
        directories = []
        for entry in entries:
            if self.budget <= 0:
                self.complete = complete = False
                break
            self.budget -= 1
            try:
                if entry.is_dir(follow_symlinks=False):
                    directories.append(entry)
                    continue
                if not entry.name.endswith(".php") or not entry.is_file():
                    continue
            except OSError:
                continue
            count += 1
            path = live + "/" + entry.name
            if self.hidden(path):
                patterns.append(glob_escape(path))
            else:
                all_hidden = False
        for entry in directories:
            sub_count, sub_hidden, sub_patterns, sub_complete = self.walk(entry.path, live + "/" + entry.name, depth + 1)
            complete = complete and sub_complete
            if sub_count:
                count += sub_count
                all_hidden = all_hidden and sub_hidden
                patterns.extend(sub_patterns)
        all_hidden = all_hidden and complete
        if count and all_hidden:
            return count, True, [glob_escape(live) + "/*"], True
        return count, all_hidden, patterns, complete

    def run(self, roots):
        """Hidden patterns of the given roots: ``[(live root, checked root)]``
        (one inside another is walked as part of it)."""
        patterns = []
        outer = []
        for live, checked in sorted(roots):
            if any(live.startswith(seen.rstrip("/") + "/") or live == seen for seen, _checked in outer):
                continue
            outer.append((live, checked))
            patterns.extend(self.walk(checked, live.rstrip("/"))[2])
        return sorted(patterns)
