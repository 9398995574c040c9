"""Shared by the web_refs tests: build a site on disk from a config
template, run the checker, and find lines in what was written."""

import os
import socket

from ansible_collections.lastgood.webstack.plugins.module_utils._webconf.validate import validate


def bind_socket(path):
    """A real listening unix socket at ``path``; the caller closes it."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(path)
    return sock


def line_of(path, text, occurrence=1):
    """1-based line number of the ``occurrence``-th line holding ``text``."""
    seen = 0
    with open(path) as handle:
        for number, line in enumerate(handle, 1):
            if text in line:
                seen += 1
                if seen == occurrence:
                    return number
    raise AssertionError("%r not in %s" % (text, path))


def run(server, config, path_map=None, check_sockets=True):
    return validate(server, str(config), path_map=path_map, check_sockets=check_sockets).report


def located(report, severity="error"):
    """(file, line, directive) of each finding of ``severity``."""
    return [(finding["file"], finding["line"], finding["directive"])
            for finding in report.findings if finding["severity"] == severity]
