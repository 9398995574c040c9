# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a validator found: every reference with where it is written, and the
findings (error, warning, info) among them. One model and one format for the
findings of every check, web server configuration and PHP. Pure standard
library."""

from __future__ import annotations

ERROR = "error"
WARNING = "warning"
INFO = "info"
SEVERITIES = (ERROR, WARNING, INFO)

# Said of a script path that reaches PHP-FPM through a link a switch changes.
SWITCHED_SCRIPT_PATHS = (
    "PHP-FPM's opcache keeps each script compiled under that path, so without a reload the code compiled before "
    "a switch, with its __DIR__ in the old release, keeps answering after it; lastgood reloads PHP-FPM gracefully "
    "after every switch, before the probe (the release module's php_fpm option, on in the deploy, rollback and "
    "watchdog roles), so keep that on")


def make_finding(severity, file, line, directive, path, message, **extra):
    """A finding as every checker reports it, web server or PHP: its
    ``severity`` (ERROR, WARNING or INFO), the ``file`` and ``line`` where
    the ``directive`` is written (an nginx or Apache directive, a PHP
    statement or ini setting, ``php -l``), the ``path`` it names and a
    ``message`` for a person. ``extra``: keys a kind of finding adds to these
    (PHP: ``statement`` and ``expression``)."""
    finding = {
        "severity": severity,
        "file": file,
        "line": line,
        "directive": directive,
        "path": path,
        "message": message,
    }
    if extra:
        finding.update(extra)
    return finding


class Findings:
    """Collects findings in the order they are met."""

    def __init__(self):
        self.findings = []

    def finding(self, severity, file, line, directive, path, message, **extra):
        self.findings.append(make_finding(severity, file, line, directive, path, message, **extra))

    def errors(self):
        return [finding for finding in self.findings if finding["severity"] == ERROR]

    def counts(self):
        counts = dict.fromkeys(SEVERITIES, 0)
        for finding in self.findings:
            counts[finding["severity"]] += 1
        return counts


class Report(Findings):
    """Collects references and findings in the order they are met, the PHP
    files a web server configuration reaches itself (entry points), the
    directories under which it runs the PHP file a request names (roots),
    glob patterns of the PHP files under those roots that no request runs
    (hidden), and the include_path values it sets for PHP."""

    def __init__(self):
        super().__init__()
        self.references = []
        self.php_entrypoints = []
        self.php_roots = []
        self.php_hidden = []
        self.php_include_path = []
        self._entrypoints_seen = set()
        self._roots_seen = set()

    def reference(self, file, line, directive, kind, path, checked, exists, context):
        self.references.append({
            "file": file,
            "line": line,
            "directive": directive,
            "kind": kind,
            "path": path,
            "checked": checked,
            "exists": exists,
            "context": context,
        })

    def entrypoint(self, path):
        if path not in self._entrypoints_seen:
            self._entrypoints_seen.add(path)
            self.php_entrypoints.append(path)

    def include_path(self, value):
        """An include_path the configuration sets for PHP, each value once."""
        if value not in self.php_include_path:
            self.php_include_path.append(value)

    def php_root(self, path):
        if path not in self._roots_seen:
            self._roots_seen.add(path)
            self.php_roots.append(path)


def format_finding(finding):
    """One line per finding: ``file:line: directive: message`` (``file:
    directive: message`` without a line)."""
    location = finding["file"] if finding["line"] is None else "%s:%s" % (finding["file"], finding["line"])
    return "%s: %s: %s" % (location, finding["directive"], finding["message"])
