# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One call that loads an nginx or Apache configuration and checks every
reference in it: what the web_refs module runs, and what the benchmark
times. Pure standard library."""

from __future__ import annotations

from ansible_collections.lastgood.webstack.plugins.module_utils._webconf import apache_parse, apache_refs, errors, logs, nginx_parse, nginx_refs
from ansible_collections.lastgood.webstack.plugins.module_utils._webconf.nginx_routing import Router
from ansible_collections.lastgood.webstack.plugins.module_utils._common.params import gc_paused
from ansible_collections.lastgood.webstack.plugins.module_utils._common.paths import AllowedRoots, FileSystem, PathMap
from ansible_collections.lastgood.webstack.plugins.module_utils._common.findings import ERROR, WARNING, Report

SERVERS = ("nginx", "apache")
DEFAULT_CONFIG = {
    "nginx": "/etc/nginx/nginx.conf",
    "apache": "/etc/apache2/apache2.conf",
}


class Result:
    """A Report plus the files that were read to fill it: ``files_parsed``
    where they were read (after path_map), in reading order, a file
    included again each time; ``config_files`` the same files as the server
    would name them (live paths, before path_map), each once; and the
    ``access_logs`` and ``error_logs`` of the site (logs.py)."""

    __slots__ = ("report", "files_parsed", "config_files", "access_logs", "error_logs")

    def __init__(self, report, files_parsed, path_map=None, site_logs=None):
        self.report = report
        self.files_parsed = files_parsed
        self.access_logs = list(site_logs.access_logs) if site_logs is not None else []
        self.error_logs = list(site_logs.error_logs) if site_logs is not None else []
        path_map = path_map if isinstance(path_map, PathMap) else PathMap(path_map)
        self.config_files = []
        seen = set()
        for path in files_parsed:
            live = path_map.unapply(path)
            if live not in seen:
                seen.add(live)
                self.config_files.append(live)


def validate(server, config=None, path_map=None, check_sockets=True, apache_version=None,
             apache_defines=(), pool_sockets=(), allowed_roots=()):
    """Load ``config`` (live path; read where ``path_map`` puts it) of
    ``server`` and check each reference. With ``allowed_roots``, each
    reference and include that reaches outside those trees is an error, and
    such includes are not read. Raises ConfigError (errors.py) when the
    configuration cannot be read or parsed."""
    if server not in SERVERS:
        raise ValueError("server must be one of %s, not %r" % (", ".join(SERVERS), server))
    with gc_paused():
        return _validate(server, config, path_map, check_sockets, apache_version, apache_defines, pool_sockets,
                         allowed_roots)


def _validate(server, config, path_map, check_sockets, apache_version, apache_defines, pool_sockets, allowed_roots):
    config = config or DEFAULT_CONFIG[server]
    path_map = path_map if isinstance(path_map, PathMap) else PathMap(path_map)
    roots = AllowedRoots(allowed_roots, path_map)
    report = Report()
    fs = FileSystem(sockets=pool_sockets)
    if server == "nginx":
        loader = nginx_parse.Loader(path_map, allowed_roots=roots)
        tree = loader.load(config)
        nginx_refs.check(tree, loader, fs, report, check_sockets=check_sockets)
        site_logs = logs.nginx_logs(tree, report, logs.release_files(path_map), Router().prefix_path)
    else:
        options = {"defines": apache_defines}
        if apache_version is not None:
            options["version"] = apache_version
        loader = apache_parse.Loader(path_map, allowed_roots=roots, **options)
        tree = loader.load(config)
        for file, line, message in loader.warnings:
            report.finding(WARNING, file, line, "Define", None, message)
        apache_refs.check(tree, loader, fs, report, check_sockets=check_sockets)
        site_logs = logs.apache_logs(tree, report, logs.release_files(path_map), loader.resolve)
    if roots:
        check_allowed_roots(report, roots)
    return Result(report, list(loader.files_parsed), path_map, site_logs)


def check_allowed_roots(report, roots):
    """An error for each reference that reaches outside ``roots``. Includes
    are left out: the loader reported those and did not read them."""
    seen = set()
    for reference in report.references:
        checked = reference["checked"]
        if reference["kind"] == "include" or not isinstance(checked, str) or not checked.startswith("/"):
            continue
        outside = roots.outside(checked)
        if outside is None:
            continue
        key = (reference["file"], reference["line"], checked)
        if key in seen:
            continue
        seen.add(key)
        report.finding(ERROR, reference["file"], reference["line"], reference["directive"], reference["path"],
                       "%s %s" % (reference["path"], outside))


# What validate() raises, for its callers to catch.
ConfigError = errors.ConfigError
