# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The web_refs check as one call: its options, the installed Apache's
version, the sockets of the pools given, validate(), and the warnings
shown; what the web_refs module returns. Run by that module and by
release_stage. Pure standard library."""

from __future__ import annotations

import os
import re

from ansible_collections.lastgood.webstack.plugins.module_utils._common.findings import WARNING, format_finding
from ansible_collections.lastgood.webstack.plugins.module_utils._common.host import SBIN, CheckFailed
from ansible_collections.lastgood.webstack.plugins.module_utils._common.params import (
    OptionError,
    checked_allowed_roots,
    checked_path_map,
)
from ansible_collections.lastgood.webstack.plugins.module_utils._common.paths import PathMap
from ansible_collections.lastgood.webstack.plugins.module_utils._webconf.fpm import unix_sockets
from ansible_collections.lastgood.webstack.plugins.module_utils._webconf.validate import (
    DEFAULT_CONFIG,
    ConfigError,
    validate,
)

_APACHE_VERSION = re.compile(r"Apache/(\d+)\.(\d+)\.(\d+)")
# Warnings shown as Ansible warnings; all are in findings.
MAX_SHOWN_WARNINGS = 10

ARGUMENT_SPEC = dict(
    server=dict(type="str", required=True, choices=["nginx", "apache"]),
    config=dict(type="path"),
    path_map=dict(type="dict", default={}),
    check_sockets=dict(type="bool", default=True),
    apache_defines=dict(type="list", elements="str", default=[]),
    php_fpm_pools=dict(type="list", elements="path", default=[]),
    allowed_roots=dict(type="list", elements="path", default=[]),
)


def apache_version(host):
    """The (major, minor, patch) of the installed httpd, or None."""
    for name in ("apache2", "httpd"):
        binary = host.get_bin_path(name, opt_dirs=SBIN)
        if binary is None:
            continue
        rc, out, dummy = host.run_command([binary, "-v"])
        match = _APACHE_VERSION.search(out or "")
        if rc == 0 and match:
            return tuple(int(part) for part in match.groups())
    return None


def pool_sockets(pools, path_map):
    """The unix sockets the given pool files (or directories of them) listen on."""
    sockets = set()
    for live in pools:
        checked = path_map.apply(live)
        if os.path.isdir(checked):
            files = sorted(os.path.join(checked, name) for name in os.listdir(checked) if name.endswith(".conf"))
        elif os.path.isfile(checked):
            files = [checked]
        else:
            continue
        for path in files:
            with open(path, encoding="utf-8") as handle:
                sockets.update(unix_sockets(handle.read()))
    return sorted(sockets)


def run_web_refs(params, host):
    """Check as ``params`` (ARGUMENT_SPEC's options, defaults filled in)
    say, showing the first warnings through ``host``. Returns what the
    web_refs module returns; raises OptionError for an option it refuses and
    CheckFailed (with that result) for a broken reference or a
    configuration that cannot be read."""
    server = params["server"]
    config = params["config"] or DEFAULT_CONFIG[server]
    path_map = checked_path_map(params["path_map"])
    checked_allowed_roots(params["allowed_roots"])
    try:
        sockets = pool_sockets(params["php_fpm_pools"], PathMap(path_map))
    except (OSError, UnicodeDecodeError) as error:
        raise OptionError("php_fpm_pools: %s" % error)
    try:
        result = validate(
            server,
            config=config,
            path_map=path_map,
            check_sockets=params["check_sockets"],
            apache_version=apache_version(host) if server == "apache" else None,
            apache_defines=params["apache_defines"],
            pool_sockets=sockets,
            allowed_roots=params["allowed_roots"],
        )
    except ConfigError as error:
        raise CheckFailed("%s configuration cannot be checked: %s" % (server, error),
                          dict(file=error.file, line=error.line, findings=[], references=[]))
    report = result.report
    output = dict(
        findings=report.findings,
        references=report.references,
        php_entrypoints=report.php_entrypoints,
        php_roots=report.php_roots,
        php_hidden=report.php_hidden,
        php_include_path=report.php_include_path,
        files_parsed=result.files_parsed,
        config_files=result.config_files,
        access_logs=result.access_logs,
        error_logs=result.error_logs,
        counts=report.counts(),
        pool_sockets=sockets,
    )
    errors = report.errors()
    if errors:
        raise CheckFailed("\n".join(format_finding(finding) for finding in errors), output)
    warnings = [finding for finding in report.findings if finding["severity"] == WARNING]
    for finding in warnings[:MAX_SHOWN_WARNINGS]:
        host.warn(format_finding(finding))
    if len(warnings) > MAX_SHOWN_WARNINGS:
        host.warn("%d more warnings in findings" % (len(warnings) - MAX_SHOWN_WARNINGS))
    return output
