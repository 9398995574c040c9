# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the nginx and Apache readers share apart from either: the error a
configuration that cannot be used raises, the limits that bound what one
load reads, the reader of a config file, and what an include says of a file
it could not read. The limits of one server's language (include depth,
substitution) stay beside its parser.

Pure standard library."""

from __future__ import annotations

import errno

from ansible_collections.lastgood.webstack.plugins.module_utils._common.paths import read_regular

MAX_FILE_BYTES = 64 * 1024 * 1024
# What one load may read in all, a file counted each time it is included: a
# file that includes another twice, which includes another twice... would
# otherwise make 2**MAX_DEPTH copies.
MAX_LOAD_BYTES = 4 * MAX_FILE_BYTES
# Blocks (nginx) or sections (Apache) inside each other, counted across
# included files (the parsers and every walker over the tree stay far from
# Python's recursion limit).
MAX_NESTING = 100
_MIB = 1024 * 1024


class ConfigError(Exception):
    """A configuration the server would refuse, or one that cannot be read."""

    def __init__(self, message, file=None, line=None):
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line

    def __str__(self):
        if self.file is None:
            return self.message
        if self.line is None:
            return "%s: %s" % (self.file, self.message)
        return "%s:%d: %s" % (self.file, self.line, self.message)


def read_text(path):
    """Read a config file as text; bytes that are not UTF-8 are kept as
    surrogates so that positions and lines stay right. OSError for what is
    not a regular file (a FIFO would block, /dev/zero never end)."""
    data = read_regular(path, MAX_FILE_BYTES)
    if len(data) > MAX_FILE_BYTES:
        raise ConfigError("file is larger than %d MiB" % (MAX_FILE_BYTES // _MIB), path)
    return data.decode("utf-8", "surrogateescape")


def main_config_error(error, path):
    """The ConfigError of a main config ``path`` that read_text could not read."""
    return ConfigError("cannot read the main config: %s" % (error.strerror or error), path)


def check_load_bytes(loaded, what, file, line):
    """A ConfigError at ``file``:``line``, saying ``what`` grows past
    MAX_LOAD_BYTES, when ``loaded`` bytes are past it."""
    if loaded > MAX_LOAD_BYTES:
        raise ConfigError("%s past %d MiB" % (what, MAX_LOAD_BYTES // _MIB), file, line)


def included_again(path):
    """What grows when ``path`` makes a load read past MAX_LOAD_BYTES."""
    return "including %s (a file included over and over?) makes the files read grow" % path


# What an include directive says of the files it could not include.
NUL_IN_PATH = "holds a NUL byte, which no file name can"


def include_loop(file, real, chain):
    """The error of an include of ``file`` (``real``: its real path) from
    the files of ``chain`` (real paths, the main config first) when ``real``
    is one of them; None when it is not."""
    if real not in chain:
        return None
    return "include loop: %s includes itself through %s" % (file, " -> ".join(chain[chain.index(real):]))


def includes_too_deep(max_depth):
    return "includes nested deeper than %d files" % max_depth


def unreadable(error):
    """What an include says of a file read_text raised OSError ``error`` for."""
    if error.errno == errno.ELOOP:
        return "is a symlink loop"
    if error.errno in (errno.ENOENT, errno.ENOTDIR):
        return "does not exist"
    return "cannot be read: %s" % (error.strerror or error)
