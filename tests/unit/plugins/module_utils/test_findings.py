"""One finding model and one format for the web server checks and PHP."""
from ansible_collections.lastgood.webstack.plugins.module_utils._common.findings import (
    ERROR,
    INFO,
    WARNING,
    Findings,
    Report,
    format_finding,
    make_finding,
)
from ansible_collections.lastgood.webstack.plugins.module_utils._php.ini import check_ini_files
from ansible_collections.lastgood.webstack.plugins.module_utils._php.resolve import scan
from ansible_collections.lastgood.webstack.plugins.module_utils._common.paths import PathMap

CORE = ["severity", "file", "line", "directive", "path", "message"]


def test_make_finding_core_keys_then_extra():
    assert list(make_finding(ERROR, "/f", 3, "root", "/p", "m")) == CORE
    finding = make_finding(INFO, "/f", None, "require", "/p", "m", statement="require", expression="'/p'")
    assert list(finding) == CORE + ["statement", "expression"]
    assert finding["expression"] == "'/p'"


def test_report_keeps_its_api():
    report = Report()
    report.finding(ERROR, "/etc/nginx/x.conf", 4, "root", "/srv/x", "/srv/x does not exist")
    report.finding(WARNING, "/etc/nginx/x.conf", 5, "index", "/srv/x/i", "w")
    report.reference("/etc/nginx/x.conf", 4, "root", "dir", "/srv/x", "/srv/x", False, "server")
    assert report.findings[0] == {"severity": "error", "file": "/etc/nginx/x.conf", "line": 4, "directive": "root",
                                  "path": "/srv/x", "message": "/srv/x does not exist"}
    assert report.errors() == report.findings[:1]
    assert report.counts() == {"error": 1, "warning": 1, "info": 0}
    assert isinstance(report, Findings)


def test_format_with_and_without_a_line():
    assert format_finding(make_finding(ERROR, "/f", 3, "root", "/p", "gone")) == "/f:3: root: gone"
    assert format_finding(make_finding(ERROR, "/f", None, "php -l", "/f", "bad")) == "/f: php -l: bad"


def test_php_findings_have_the_core_keys_and_their_own(make_tree):
    root = make_tree({"app/index.php": "<?php\nrequire __DIR__ . '/lib.phpp';\n",
                      "pool.conf": "php_admin_value[auto_prepend_file] = /nonexistent/p.php\n"})
    result = scan([str(root / "app")], include_path=["."])
    check_ini_files([str(root / "pool.conf")], PathMap(), result)
    require, setting = result.findings
    assert list(require) == list(setting) == CORE + ["statement", "expression"]
    assert (require["directive"], require["statement"], require["expression"]) == \
        ("require", "require", "__DIR__ . '/lib.phpp'")
    assert (setting["directive"], setting["statement"], setting["expression"]) == \
        ("auto_prepend_file", "auto_prepend_file", "/nonexistent/p.php")
    assert format_finding(require) == "%s/app/index.php:2: require: %s/app/lib.phpp does not exist" % (root, root)
    assert [f["severity"] for f in result.errors()] == ["error", "error"]
    assert result.files == [(str(root / "app/index.php"), str(root / "app/index.php"))]
