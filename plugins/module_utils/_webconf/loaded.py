# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which configuration files a web server's own config test loaded, read
from what it prints: the dump of ``nginx -T`` and the list of
``apachectl -t -D DUMP_INCLUDES``. Pure standard library."""

from __future__ import annotations

import re

# nginx -T writes "# configuration file <path>:" and then the file's text,
# for each file it read (each once, in reading order).
_NGINX_FILE = re.compile(r"^# configuration file (/.*):$")
# apachectl -t -D DUMP_INCLUDES writes this line, then "  (*) <main config>"
# and "    (<line>) <file>" for each included file, indented by depth.
_APACHE_HEADER = "Included configuration files:"
_APACHE_FILE = re.compile(r"^ +\((\*|[0-9]+)\) (/.*)$")


def _once(paths):
    seen = set()
    out = []
    for path in paths:
        if path not in seen:
            seen.add(path)
            out.append(path)
    return out


def nginx_dump_files(stdout):
    """The files ``nginx -T`` dumped, in order, each once. A line of a
    file's own text that reads exactly like the header of the dump is taken
    for one: nginx does not say where a file's text ends."""
    return _once(match.group(1) for match in map(_NGINX_FILE.match, stdout.splitlines()) if match)


def apache_dump_includes(stdout):
    """``(files, rest)``: the files ``apachectl -t -D DUMP_INCLUDES`` listed,
    the main configuration first, each once, and the lines of ``stdout``
    that are not the list (such as "Syntax OK" or "Action ... failed.")."""
    files = []
    rest = []
    in_list = False
    for line in stdout.splitlines():
        if line == _APACHE_HEADER:
            in_list = True
            continue
        match = _APACHE_FILE.match(line) if in_list else None
        if match:
            files.append(match.group(2))
            continue
        in_list = False
        rest.append(line)
    return _once(files), "\n".join(rest)


def loaded_files(server, stdout):
    """``(files, rest)``: the files the test of ``server`` says it loaded
    and what else it printed on stdout. nginx's stdout is its dump and
    nothing else; PHP-FPM's test lists no files."""
    if server == "nginx":
        return nginx_dump_files(stdout), ""
    if server == "apache":
        return apache_dump_includes(stdout)
    return [], stdout
