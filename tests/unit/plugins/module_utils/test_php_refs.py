import os
import shutil

import pytest

from ansible_collections.lastgood.webstack.plugins.module_utils._common.paths import PathMap
from ansible_collections.lastgood.webstack.plugins.module_utils._php.ini import check_ini_files, ini_references
from ansible_collections.lastgood.webstack.plugins.module_utils._php.resolve import scan


def findings(result, severity=None):
    return [(os.path.basename(f["file"]), f["line"], f["statement"], f["severity"]) for f in result.findings
            if severity is None or f["severity"] == severity]


def test_expressions_php_resolves(make_tree, tmp_path):
    root = make_tree({
        "app/lib/a.php": "<?php\n",
        "app/lib/sub/b.php": "<?php\n",
        "app/config.php": "<?php\ndefine('APP', __DIR__ . '/');\nconst LIB = 'lib';\ndefine('SUB', APP . LIB . '/sub');\n",
        "app/index.php": (
            "<?php\n"
            "require_once 'config.php';\n"                                       # 2: include_path '.' / own dir
            "require_once __DIR__ . '/lib/a.php';\n"                             # 3
            "require_once(dirname(__FILE__) . \"/lib/a.php\");\n"               # 4
            "require_once dirname(__DIR__ . '/lib/sub/b.php', 2) . '/a.php';\n"  # 5
            "require APP . LIB . DIRECTORY_SEPARATOR . 'a.php';\n"               # 6
            "include SUB . '/b.php';\n"                                          # 7
            "include_once ('./lib/a.php');\n"                                    # 8
            "require_once ((APP) . ('lib/sub/b.php'));\n"                        # 9
        ),
    })
    result = scan([str(root / "app")])
    assert result.findings == []
    assert (result.includes_total, result.includes_resolved, result.unresolved) == (8, 8, 0)


@pytest.mark.parametrize("statement, severity", [
    ("require_once __DIR__ . '/lib/a.phpp';", "error"),
    ("require __DIR__ . '/lib/a.phpp';", "error"),
    ("include __DIR__ . '/lib/a.phpp';", "warning"),
    ("include_once __DIR__ . '/lib/a.phpp';", "warning"),
    ("@include __DIR__ . '/lib/a.phpp';", "info"),
    ("if (file_exists($dir . '/lib/a.phpp')) { require __DIR__ . '/lib/a.phpp'; }", "info"),
    ("if ( is_readable( __DIR__.'/lib/a.phpp' ) && $x ) require __DIR__ . '/lib/a.phpp';", "info"),
    ("if (!isset($done)) { require __DIR__ . '/lib/a.phpp'; }", "error"),
    ("if ($x) { } else { require __DIR__ . '/lib/a.phpp'; }", "error"),
    ("if (version_compare(PHP_VERSION, '8.0', '<')) { } else { require __DIR__ . '/lib/a.phpp'; }", "info"),
    ("if (function_exists('x')) { require __DIR__ . '/lib/a.phpp'; }", "info"),
    ("file_exists(__DIR__ . '/lib/a.phpp') && require __DIR__ . '/lib/a.phpp';", "info"),
])
def test_severity(make_tree, statement, severity):
    root = make_tree({"lib/a.php": "<?php\n", "index.php": "<?php\n\n%s\n" % statement})
    result = scan([str(root / "index.php")])
    [finding] = result.findings
    assert (finding["line"], finding["severity"]) == (3, severity)
    assert finding["path"] == str(root / "lib/a.phpp")


@pytest.mark.parametrize("statement", [
    "if (file_exists(__DIR__ . '/lib/a.phpp')) { require __DIR__ . '/lib/a.phpp'; }",
    "if ( is_readable( __DIR__.'/lib/a.phpp' ) ) require __DIR__ . '/lib/a.phpp';",
    "if (!is_file(__DIR__ . '/lib/a.php')) { require 'gone.php'; }",
    "if (file_exists(__DIR__ . '/lib/a.php')) { require __DIR__ . '/lib/a.php'; } else { require 'gone.php'; }",
    "if (is_dir(__DIR__ . '/lib')): require 'lib/a.php'; elseif ($x): require 'gone.php'; endif;",
])
def test_code_that_cannot_run_is_not_reported(make_tree, statement):
    root = make_tree({"lib/a.php": "<?php\n", "index.php": "<?php\n\n%s\n" % statement})
    assert scan([str(root / "index.php")]).findings == []


def test_a_require_behind_an_undecidable_condition_is_an_error_when_every_branch_fails(make_tree):
    root = make_tree({"index.php": (
        "<?php\n"
        "if (PHP_VERSION_ID >= 80000) {\n"
        "    require 'new.php';\n"
        "} else {\n"
        "    require 'old.php';\n"
        "}\n"
        "if (class_exists('X')) { require 'one.php'; } else { require __FILE__; }\n")})
    findings = scan([str(root / "index.php")]).findings
    assert [(finding["line"], finding["severity"]) for finding in findings] == [(3, "error"), (5, "error"), (7, "info")]
    assert "every branch" in findings[0]["message"]


def test_unresolved_is_info_unless_a_required_literal_tail_exists_nowhere(make_tree):
    root = make_tree({
        "includes/Setup.php": "<?php\n",
        "index.php": (
            "<?php\n"
            "require $IP . '/includes/Setup.php';\n"      # tail exists: info
            "require $IP . '/includes/Setpu.php';\n"      # tail nowhere: error
            "include $IP . '/includes/Setpu.php';\n"      # include: info
            "require $file;\n"                            # no tail: info
            "require get_path() . '/x/' . $name;\n"       # tail is not literal at the end: info
        ),
    })
    result = scan([str(root)])
    assert findings(result) == [
        ("index.php", 2, "require", "info"), ("index.php", 3, "require", "error"),
        ("index.php", 4, "include", "info"), ("index.php", 5, "require", "info"),
        ("index.php", 6, "require", "info")]
    assert result.findings[1]["path"] == "/includes/Setpu.php"
    assert result.unresolved == 5


def test_constants_per_file_when_definitions_disagree(make_tree):
    root = make_tree({
        "one/lib.php": "<?php\n",
        "two/lib.php": "<?php\n",
        "one/index.php": "<?php\ndefine('BASE', __DIR__);\nrequire BASE . '/lib.php';\n",
        "two/index.php": "<?php\ndefine('BASE', __DIR__);\nrequire BASE . '/lib.php';\n",
        "three/index.php": "<?php\nrequire BASE . '/lib.php';\n",
    })
    result = scan([str(root)])
    assert findings(result) == [("index.php", 2, "require", "info")]
    assert result.findings[0]["file"] == str(root / "three/index.php")
    # A constant given from outside wins.
    result = scan([str(root)], constants={"BASE": str(root / "one")})
    assert result.findings == []


def test_include_path_then_own_directory(make_tree):
    root = make_tree({"php/Vendor/Lib.php": "<?php\n", "app/local.php": "<?php\n",
                      "app/index.php": "<?php\nrequire 'Vendor/Lib.php';\nrequire 'local.php';\nrequire 'Vendor/Nope.php';\n"})
    result = scan([str(root / "app")], include_path=[".", str(root / "php")])
    assert findings(result) == [("index.php", 4, "require", "error")]
    assert "nor in the include_path" in result.findings[0]["message"]


def test_path_map_reports_live_paths(make_tree, tmp_path):
    make_tree({"releases/v2/app/index.php": "<?php require __DIR__ . '/lib.phpp';\n"})
    result = scan(["/srv/site/current/app"], path_map={"/srv/site/current": str(tmp_path / "releases/v2")})
    [finding] = result.findings
    assert finding["file"] == "/srv/site/current/app/index.php"
    assert finding["path"] == "/srv/site/current/app/lib.phpp"
    assert "looked for at %s/releases/v2/app/lib.phpp" % tmp_path in finding["message"]


def test_symlink_loops_and_exclude(make_tree):
    root = make_tree({"app/a.php": "<?php require 'missing.php';\n", "app/vendor/b.php": "<?php require 'gone.php';\n"})
    os.symlink("..", str(root / "app" / "vendor" / "loop"))
    result = scan([str(root / "app")], exclude=["*/vendor/*"], include_path=["."])
    assert result.files_scanned == 1
    result = scan([str(root / "app")], include_path=["."])
    assert result.files_scanned == 2


def test_ini_references():
    text = ("; comment auto_prepend_file = /no\nauto_prepend_file = /srv/p.php ; trailing\n"
            "php_admin_value[auto_append_file] = \"/srv/a.php\"\nphp_value[ auto_prepend_file ]=none\n")
    assert ini_references("x.ini", text) == [(2, "auto_prepend_file", "/srv/p.php"), (3, "auto_append_file", "/srv/a.php")]


WORDPRESS = "/usr/share/wordpress"
DOKUWIKI = "/usr/share/dokuwiki"


def test_wordpress_and_dokuwiki_as_shipped(test_root):
    path_map = {"/": test_root}
    for app, constants in ((WORDPRESS, {}), (DOKUWIKI, {"DOKU_INC": DOKUWIKI + "/"})):
        result = scan([app], include_path=[".", "/usr/share/php"], constants=constants, path_map=path_map)
        assert result.files_scanned > 500
        for finding in result.findings:
            if finding["severity"] == "error":
                # No error may name a file that exists.
                assert not os.path.exists(test_root + finding["path"]), finding
    result = scan([WORDPRESS], include_path=[".", "/usr/share/php"], path_map=path_map)
    errors = [(f["file"], f["line"]) for f in result.findings if f["severity"] == "error"]
    # update-core.php:1033 requires WP_CONTENT_DIR . '/upgrade/version-current.php', a file WordPress writes
    # just before, outside the trees (no folder of them ends with /upgrade): not an error.
    assert errors == []
    assert result.includes_resolved > 1100


# (file under the app, the require as shipped) for each resolvable form.
WORDPRESS_TYPOS = [
    ("wp-settings.php", "require_once ABSPATH . WPINC . '/class-wp-locale.php';"),
    ("wp-settings.php", "require ABSPATH . WPINC . '/load.php';"),
    ("wp-admin/admin.php", "require_once dirname( __DIR__ ) . '/wp-load.php';"),
    ("wp-admin/admin.php", "require_once ABSPATH . 'wp-admin/includes/admin.php';"),
    ("wp-blog-header.php", "require_once __DIR__ . '/wp-load.php';"),
]


@pytest.mark.parametrize("relative, statement", WORDPRESS_TYPOS)
def test_wordpress_phpp_typos_reported_at_their_line(test_root, tmp_path, relative, statement):
    copy = tmp_path / "wordpress"
    shutil.copytree(os.path.join(test_root, WORDPRESS.lstrip("/")), str(copy), symlinks=True)
    target = copy / relative
    text = target.read_text()
    assert text.count(statement) == 1, statement
    before = text[:text.index(statement)]
    line = before.count("\n") + 1
    typo = statement.replace(".php'", ".phpp'")
    target.write_text(text.replace(statement, typo))
    result = scan([WORDPRESS], include_path=[".", "/usr/share/php"],
                  path_map={"/": test_root, WORDPRESS: str(copy)})
    errors = [(f["file"], f["line"], f["path"]) for f in result.findings if f["severity"] == "error"]
    assert any(file == "%s/%s" % (WORDPRESS, relative) and number == line and path.endswith(".phpp")
               for file, number, path in errors), errors


DOKUWIKI_TYPOS = [
    ("doku.php", "require_once(DOKU_INC.'inc/init.php');"),
    ("feed.php", "require_once(DOKU_INC . 'inc/init.php');"),
    ("inc/init.php", "require_once(DOKU_INC.'vendor/autoload.php');"),
]


@pytest.mark.parametrize("relative, statement", DOKUWIKI_TYPOS)
def test_dokuwiki_phpp_typos_reported_at_their_line(test_root, tmp_path, relative, statement):
    copy = tmp_path / "dokuwiki"
    shutil.copytree(os.path.join(test_root, DOKUWIKI.lstrip("/")), str(copy), symlinks=True)
    target = copy / relative
    text = target.read_text()
    assert text.count(statement) == 1, statement
    line = text[:text.index(statement)].count("\n") + 1
    target.write_text(text.replace(statement, statement.replace(".php'", ".phpp'")))
    result = scan([DOKUWIKI], include_path=[".", "/usr/share/php"], constants={"DOKU_INC": DOKUWIKI + "/"},
                  path_map={"/": test_root, DOKUWIKI: str(copy)})
    errors = [(f["file"], f["line"], f["path"]) for f in result.findings if f["severity"] == "error"]
    assert ("%s/%s" % (DOKUWIKI, relative), line, DOKUWIKI + "/" + statement.split("'")[1].replace(".php", ".phpp")) \
        in errors, errors


def test_ini_files_directory_stands_for_its_pool_files(make_tree):
    root = make_tree({
        "release/php-fpm/shop.conf": "[shop]\nphp_admin_value[auto_prepend_file] = /srv/shop/current/app/prepend.phpp\n",
        "release/php-fpm/README": "auto_prepend_file = /nowhere.php\n",
        "release/app/prepend.php": "<?php\n",
        "release/app/index.php": "<?php\n",
    })
    path_map = {"/srv/shop/current": str(root / "release")}
    result = scan(["/srv/shop/current/app"], include_path=["."], path_map=path_map)
    check_ini_files(["/srv/shop/current/php-fpm"], PathMap(path_map), result)
    assert [(f["file"], f["line"], f["statement"], f["severity"]) for f in result.findings] == [
        ("/srv/shop/current/php-fpm/shop.conf", 2, "auto_prepend_file", "error")]
