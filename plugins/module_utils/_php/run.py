# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The php_refs check as one call: its options, the scan with the host's
include_path and tokenizer, the ini files, composer's maps and the lint;
what the php_refs module returns. Run by that module and by release_stage.
Pure standard library."""

from __future__ import annotations

import time

from ansible_collections.lastgood.webstack.plugins.module_utils._common.findings import ERROR, format_finding
from ansible_collections.lastgood.webstack.plugins.module_utils._common.host import CheckFailed
from ansible_collections.lastgood.webstack.plugins.module_utils._common.params import (
    OptionError,
    checked_allowed_roots,
    checked_path_map,
)
from ansible_collections.lastgood.webstack.plugins.module_utils._common.paths import PathMap
from ansible_collections.lastgood.webstack.plugins.module_utils._php.composer import check_composer_maps
from ansible_collections.lastgood.webstack.plugins.module_utils._php.ini import check_ini_files
from ansible_collections.lastgood.webstack.plugins.module_utils._php.lint import lint
from ansible_collections.lastgood.webstack.plugins.module_utils._php.php_extract import Php
from ansible_collections.lastgood.webstack.plugins.module_utils._php.resolve import scan

DEFAULT_INCLUDE_PATH = [".", "/usr/share/php"]
# Errors the failure message lists; all of them are in findings.
MESSAGE_ERRORS = 50

ARGUMENT_SPEC = dict(
    paths=dict(type="list", elements="path", required=True),
    include_path=dict(type="list", elements="str"),
    constants=dict(type="dict", default={}),
    ini_files=dict(type="list", elements="path", default=[]),
    path_map=dict(type="dict", default={}),
    exclude=dict(type="list", elements="str", default=[]),
    lint=dict(type="bool", default=False),
    allowed_roots=dict(type="list", elements="path", default=[]),
    jobs=dict(type="int"),
    web_entrypoints=dict(type="list", elements="path", default=[]),
    web_roots=dict(type="list", elements="path", default=[]),
    web_hidden=dict(type="list", elements="str", default=[]),
    cli_entrypoints=dict(type="list", elements="path", default=[]),
    tokenizer=dict(type="str", choices=["auto", "php", "python"], default="auto"),
)


def host_include_path(host):
    php = host.get_bin_path("php")
    if php is None:
        return DEFAULT_INCLUDE_PATH
    rc, out, dummy = host.run_command([php, "-r", "echo get_include_path();"])
    if rc != 0 or not out.strip():
        return DEFAULT_INCLUDE_PATH
    return [entry for entry in out.strip().split(":") if entry]


def tokenizer_php(host, tokenizer):
    """The Php for scan() that ``tokenizer`` asks for, or None."""
    if tokenizer == "python":
        return None
    binary = host.get_bin_path("php")
    if binary is None and tokenizer == "php":
        raise OptionError("tokenizer=php: no php binary on the PATH; install the PHP CLI (8.0 or later) or leave "
                          "tokenizer to auto")
    return None if binary is None else Php(binary, tokenizer == "php")


def run_php_refs(params, host):
    """Scan as ``params`` (ARGUMENT_SPEC's options, defaults filled in) say.
    Returns what the php_refs module returns; raises OptionError for an
    option it refuses and CheckFailed (with that result) when a reference
    is broken or the scan could not finish."""
    path_map = PathMap(checked_path_map(params["path_map"]))
    checked_allowed_roots(params["allowed_roots"])
    if params["jobs"] is not None and params["jobs"] < 1:
        raise OptionError("jobs: %d is not a number of processes; give 1 or more, or leave it out" % params["jobs"])
    include_path = params["include_path"] if params["include_path"] is not None else host_include_path(host)
    php = tokenizer_php(host, params["tokenizer"])
    started = time.monotonic()
    result = scan(params["paths"], include_path=include_path, constants=params["constants"], path_map=path_map,
                  exclude=params["exclude"], allowed_roots=params["allowed_roots"], jobs=params["jobs"],
                  web_entrypoints=params["web_entrypoints"], web_roots=params["web_roots"],
                  web_hidden=params["web_hidden"], cli_entrypoints=params["cli_entrypoints"], php=php)
    if params["tokenizer"] == "php" and result.tokenizer == "python":
        host.warn("tokenizer=php: %s could not tokenize (PHP 8.0 or later with the tokenizer extension is needed); "
                  "the module's own tokenizer read the files" % php.binary)
    check_ini_files(params["ini_files"], path_map, result, params["allowed_roots"])
    composer = check_composer_maps(params["paths"], path_map, result)
    output = dict(
        findings=result.findings,
        files_scanned=result.files_scanned,
        includes_total=result.includes_total,
        includes_resolved=result.includes_resolved,
        unresolved=result.unresolved,
        include_path=include_path,
        composer=dict(vendor_dirs=composer.dirs, maps=composer.maps, entries=composer.entries),
        tokenizer=result.tokenizer,
    )
    if params["lint"]:
        lint_findings = lint(host.get_bin_path("php", required=True), result.files, params["jobs"])
        output["findings"] = result.findings + lint_findings
        output["lint_errors"] = len(lint_findings)
    output["duration_ms"] = round((time.monotonic() - started) * 1000.0, 1)
    if result.problems:
        raise CheckFailed("; ".join(result.problems), output)
    errors = [finding for finding in output["findings"] if finding["severity"] == ERROR]
    if errors:
        shown = [format_finding(finding) for finding in errors[:MESSAGE_ERRORS]]
        if len(errors) > MESSAGE_ERRORS:
            shown.append("... and %d more errors in findings" % (len(errors) - MESSAGE_ERRORS))
        raise CheckFailed("\n".join(shown), output)
    return output
