"""php -l over the scanned files: its output as findings of the shared
model, as many at once as the scan's jobs policy says."""
import concurrent.futures
import os
import stat

import pytest

from ansible_collections.lastgood.webstack.plugins.module_utils._common.findings import format_finding
from ansible_collections.lastgood.webstack.plugins.module_utils._php import jobs as _php_jobs, lint as _php_lint
from ansible_collections.lastgood.webstack.plugins.module_utils._php.lint import lint, lint_finding

# A php that refuses the files whose name holds "bad", as php -n -l does.
FAKE_PHP = """#!/bin/sh
[ "$1 $2" = "-n -l" ] || exit 2
case "$3" in
  *bad*) echo; echo "PHP Parse error:  syntax error, unexpected end of file in $3 on line 7"
         echo "Errors parsing $3"; exit 255;;
esac
echo "No syntax errors detected in $3"
"""


@pytest.fixture
def php(tmp_path):
    path = tmp_path / "php"
    path.write_text(FAKE_PHP)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def test_findings_name_the_live_file_in_order(php, tmp_path):
    files = [("/srv/app/%s.php" % name, str(tmp_path / ("%s.php" % name))) for name in ("bad1", "good", "bad2")]
    findings = lint(php, files, jobs=2)
    assert [(f["file"], f["line"], f["path"]) for f in findings] == [
        ("/srv/app/bad1.php", 7, "/srv/app/bad1.php"), ("/srv/app/bad2.php", 7, "/srv/app/bad2.php")]
    assert findings[0]["message"] == \
        "PHP Parse error:  syntax error, unexpected end of file in %s on line 7" % files[0][1]
    assert format_finding(findings[0]) == "/srv/app/bad1.php:7: php -l: " + findings[0]["message"]


def test_a_finding_has_the_keys_of_every_finding():
    finding = lint_finding("/srv/a.php", "PHP Fatal error:  Cannot redeclare f() in /x/a.php on line 12\n"
                                         "Errors parsing /x/a.php\n")
    assert finding == {"severity": "error", "file": "/srv/a.php", "line": 12, "directive": "php -l",
                       "path": "/srv/a.php", "message": "PHP Fatal error:  Cannot redeclare f() in /x/a.php on line 12",
                       "statement": "php -l", "expression": ""}


@pytest.mark.parametrize("output", ["Could not open input file: /x/a.php\n", "odd output on line \n",
                                    "on line twelve\n", ""])
def test_no_line_when_php_names_none(output):
    finding = lint_finding("/srv/a.php", output)
    assert finding["line"] is None
    assert format_finding(finding).startswith("/srv/a.php: php -l: ")


@pytest.fixture
def workers(monkeypatch):
    """The max_workers of each thread pool lint opens."""
    asked = []
    real = concurrent.futures.ThreadPoolExecutor

    def spy(max_workers=None, **kwargs):
        asked.append(max_workers)
        return real(max_workers=max_workers, **kwargs)
    monkeypatch.setattr(_php_lint, "ThreadPoolExecutor", spy)
    return asked


def test_as_many_at_once_as_the_scan_has_jobs(php, tmp_path, workers, monkeypatch):
    files = [("/a.php", str(tmp_path / "a.php"))]
    lint(php, files, jobs=3)
    lint(php, files, jobs=1)
    monkeypatch.setattr(_php_jobs, "usable_cpus", lambda: 64)
    lint(php, files)
    monkeypatch.setattr(_php_jobs, "usable_cpus", lambda: 1)
    lint(php, files)
    # By default one per usable CPU, 8 at most, as the tokenizing jobs.
    assert workers == [3, 1, 8, 1]


def test_the_real_php(tmp_path):
    # hack/setup.sh installs the PHP CLI; without it this fails, never skips.
    (tmp_path / "good.php").write_text("<?php echo 1;\n")
    (tmp_path / "bad.php").write_text("<?php\n\necho 'x'\n$y = 2;\n")
    php = "/usr/bin/php" if os.path.exists("/usr/bin/php") else "php"
    [finding] = lint(php, [("/live/good.php", str(tmp_path / "good.php")), ("/live/bad.php", str(tmp_path / "bad.php"))])
    assert (finding["file"], finding["line"], finding["directive"]) == ("/live/bad.php", 4, "php -l")
    assert "syntax error" in finding["message"]
