"""php_refs resolves as PHP runs the code: from entry points, with the entry
script's directory as the working directory, the include_path the code sets,
every included file scanned, and severity by reachability."""
import os

from ansible_collections.lastgood.webstack.plugins.module_utils._php.reach import candidates
from ansible_collections.lastgood.webstack.plugins.module_utils._php.resolve import scan


def located(result, severity="error"):
    return [(os.path.basename(f["file"]), f["line"]) for f in result.findings if f["severity"] == severity]


def test_candidates_follow_php_order():
    assert candidates("/a/b.php", "/app/lib/x.php", "/app", [".", "/usr/share/php"]) == ["/a/b.php"]
    assert candidates("./b.php", "/app/lib/x.php", "/app", [".", "/usr/share/php"]) == ["/app/b.php"]
    assert candidates("../b.php", "/app/lib/x.php", "/app/web", ["."]) == ["/app/b.php"]
    assert candidates("b.php", "/app/lib/x.php", "/app", [".", "/usr/share/php", "inc"]) == [
        "/app/b.php", "/usr/share/php/b.php", "/app/inc/b.php", "/app/lib/b.php"]


def test_relative_include_is_resolved_against_the_entry_scripts_directory(make_tree):
    # lib/boot.php runs with web/ as its working directory: its 'config.php' and
    # './helpers.php' are web/'s (lib/ has neither), and so is the missing ./gone.php.
    root = make_tree({
        "web/index.php": "<?php require '../lib/boot.php';\n",
        "web/config.php": "<?php\n",
        "web/helpers.php": "<?php\n",
        "lib/boot.php": "<?php\nrequire 'config.php';\nrequire './helpers.php';\nrequire './gone.php';\n",
    })
    result = scan([str(root)], web_roots=[str(root / "web")])
    assert located(result) == [("boot.php", 4)]
    [error] = [f for f in result.findings if f["severity"] == "error"]
    assert error["path"] == str(root / "web/gone.php")
    assert "reached from %s" % (root / "web/index.php") in error["message"]


def test_a_file_reached_from_two_entry_points_reports_the_one_that_fails(make_tree):
    root = make_tree({
        "a/index.php": "<?php require '../shared.php';\n",
        "a/local.php": "<?php\n",
        "b/index.php": "<?php require '../shared.php';\n",
        "shared.php": "<?php require './local.php';\n",
    })
    result = scan([str(root)], web_entrypoints=[str(root / "a/index.php"), str(root / "b/index.php")])
    [error] = [f for f in result.findings if f["severity"] == "error"]
    assert (error["file"], error["line"], error["path"]) == (str(root / "shared.php"), 1, str(root / "b/local.php"))
    assert "reached from %s" % (root / "b/index.php") in error["message"]


def test_include_path_set_by_the_code_is_followed_from_that_statement_on(make_tree):
    root = make_tree({
        "index.php": (
            "<?php\n"
            "require 'Lib/A.php';\n"
            "set_include_path(__DIR__ . '/vendor' . PATH_SEPARATOR . get_include_path());\n"
            "require 'Lib/A.php';\n"
            "ini_set('include_path', '/nowhere');\n"
            "require 'Lib/A.php';\n"),
        "vendor/Lib/A.php": "<?php\n",
    })
    result = scan([str(root / "index.php")], include_path=["."])
    assert located(result) == [("index.php", 2), ("index.php", 6)]


def test_included_files_are_scanned_whatever_their_extension(make_tree):
    root = make_tree({
        "index.php": "<?php require __DIR__ . '/inc/config.inc';\n",
        "inc/config.inc": "<?php\n\nrequire __DIR__ . '/gone.php';\n",
    })
    result = scan([str(root)])
    assert located(result) == [("config.inc", 3)]


def test_the_tail_rule_knows_every_file_of_the_trees(make_tree):
    root = make_tree({
        "index.php": "<?php\nrequire $base . '/login/login.inc';\nrequire $base . '/login/gone.inc';\n",
        "login/login.inc": "<?php\n",
    })
    assert located(scan([str(root)])) == [("index.php", 3)]


def test_a_unique_tail_is_followed_into_its_file(make_tree):
    root = make_tree({
        "index.php": "<?php require $_SERVER['DOCUMENT_ROOT'] . '/app.php';\n",
        "app.php": "<?php\nrequire 'gone.php';\n",
    })
    result = scan([str(root)])
    assert located(result) == [("app.php", 2)]
    assert "reached from %s" % (root / "index.php") in result.findings[-1]["message"]


def test_a_require_no_entry_point_reaches_is_a_warning(make_tree):
    root = make_tree({
        "public/index.php": "<?php\n",
        "tools/cron.php": "<?php require 'gone.php';\n",
    })
    result = scan([str(root)], web_roots=[str(root / "public")])
    assert located(result) == []
    [warning] = [f for f in result.findings if f["severity"] == "warning"]
    assert "no entry point reaches %s" % (root / "tools/cron.php") in warning["message"]
    named = scan([str(root)], web_roots=[str(root / "public")], cli_entrypoints=[str(root / "tools/cron.php")])
    assert located(named) == [("cron.php", 1)]


def test_development_folders_and_hidden_files_are_no_entry_points(make_tree):
    root = make_tree({
        "index.php": "<?php\n",
        "vendor/acme/lib/bin/tool.php": "<?php require 'gone.php';\n",
        "vendor/acme/lib/tests/a_test.php": "<?php require 'gone.php';\n",
        "private/secret.php": "<?php require 'gone.php';\n",
    })
    assert sorted(located(scan([str(root)]))) == [("secret.php", 1)]
    hidden = scan([str(root)], web_roots=[str(root)], web_hidden=[str(root / "private") + "/*"])
    assert located(hidden) == []
    assert len(located(hidden, "warning")) == 3


def test_a_dangling_php_symlink_is_a_finding_not_a_failure(make_tree):
    root = make_tree({"index.php": "<?php\n"})
    os.symlink("/nonexistent/LocalSettings.php", str(root / "LocalSettings.php"))
    result = scan([str(root)])
    assert result.problems == []
    [warning] = result.findings
    assert (warning["severity"], warning["file"]) == ("warning", str(root / "LocalSettings.php"))
    required = make_tree({"index.php": "<?php require __DIR__ . '/LocalSettings.php';\n"})
    assert located(scan([str(required)])) == [("index.php", 1)]


def test_the_tail_rule_holds_only_for_a_folder_the_trees_have(make_tree):
    root = make_tree({
        "index.php": "<?php\nrequire WP_CONTENT_DIR . '/upgrade/version.php';\nrequire $base . '/lib/gone.php';\n",
        "lib/there.php": "<?php\n",
    })
    result = scan([str(root)])
    assert located(result) == [("index.php", 3)]
    assert located(result, "info") == [("index.php", 2)]


def test_an_include_path_the_code_sets_to_an_unknown_value_makes_bare_paths_unknown(make_tree):
    root = make_tree({"index.php": (
        "<?php\n"
        "require 'gone.php';\n"
        "set_include_path($dir . PATH_SEPARATOR . get_include_path());\n"
        "require 'gone.php';\n"
        "require './gone.php';\n")})
    result = scan([str(root)], include_path=["."])
    assert located(result) == [("index.php", 2), ("index.php", 5)]
    assert located(result, "info") == [("index.php", 4)]


def test_a_missing_file_in_a_tests_folder_is_a_warning(make_tree):
    root = make_tree({"index.php": "<?php\nrequire __DIR__ . '/tests/common/Autoloader.php';\n"})
    result = scan([str(root)])
    assert located(result) == []
    assert located(result, "warning") == [("index.php", 2)]


def test_a_symlinked_file_includes_from_where_it_really_is(make_tree):
    # PHP resolves __DIR__ and the including file's directory with symlinks resolved.
    root = make_tree({
        "etc/app/config.php": "<?php\nrequire 'db.php';\nrequire __DIR__ . '/secrets.php';\n",
        "etc/app/db.php": "<?php\n",
        "app/index.php": "<?php require __DIR__ . '/config.php';\n",
        "app/secrets.php": "<?php\n",
    })
    os.symlink(str(root / "etc/app/config.php"), str(root / "app/config.php"))
    result = scan([str(root / "app")], include_path=["/nonexistent"])
    [error] = [f for f in result.findings if f["severity"] == "error"]
    assert (error["file"], error["line"], error["path"]) == (
        str(root / "app/config.php"), 3, str(root / "etc/app/secrets.php"))


def test_a_presumed_entry_point_finds_what_its_web_root_has(make_tree):
    # A template included through a dynamic path is taken for an entry point; its relative
    # include is found from the web root, where the code that includes it runs.
    root = make_tree({
        "index.php": "<?php include $view;\n",
        "include/common.js.php": "<?php\n",
        "app/views/layout.php": "<?php\nrequire_once 'include/common.js.php';\nrequire_once 'include/gone.php';\n",
    })
    result = scan([str(root)], include_path=["."])
    assert located(result) == [("layout.php", 3)]
    assert located(result, "info")[-1] == ("layout.php", 2)
    named = scan([str(root)], include_path=["."], web_entrypoints=[str(root / "app/views/layout.php")])
    assert located(named) == [("layout.php", 2), ("layout.php", 3)]


def test_a_file_name_after_a_constant_the_code_defines_must_be_in_the_trees(make_tree):
    root = make_tree({
        "htdocs/index.php": (
            "<?php\n"
            "define('LIBDIR', sprintf('%s/', realpath('../lib/')));\n"
            "require LIBDIR . 'functions.php';\n"
            "require LIBDIR . 'functionz.php';\n"
            "require UNDEFINED_DIR . 'functionz.php';\n"),
        "lib/functions.php": "<?php\nrequire 'gone.php';\n",
        "lib/xml_functions.php": "<?php\n",
    })
    result = scan([str(root)], include_path=["."])
    # functions.php is the one file so named: followed (its own require fails).
    assert sorted(located(result)) == [("functions.php", 2), ("index.php", 4)]


def test_reached_files_outside_the_paths_are_scanned(make_tree):
    root = make_tree({
        "app/index.php": "<?php require 'Lib/Boot.php';\n",
        "php/Lib/Boot.php": "<?php\nrequire __DIR__ . '/Gone.php';\n",
    })
    result = scan([str(root / "app")], include_path=[".", str(root / "php")])
    assert located(result) == [("Boot.php", 2)]


def test_an_include_path_built_in_a_variable_is_followed(make_tree):
    # Roundcube's iniset.php: $include_path = X . PATH_SEPARATOR;
    # $include_path .= ini_get('include_path'); set_include_path($include_path).
    root = make_tree({
        "index.php": (
            "<?php\n"
            "$include_path = __DIR__ . '/lib' . PATH_SEPARATOR;\n"
            "$include_path .= ini_get('include_path');\n"
            "if (set_include_path($include_path) === false) { die('no'); }\n"
            "require_once 'Framework/boot.php';\n"
            "require_once 'Framework/gone.php';\n"),
        "lib/Framework/boot.php": "<?php\n",
    })
    result = scan([str(root)], include_path=["."])
    assert located(result) == [("index.php", 6)]
    [error] = [f for f in result.findings if f["severity"] == "error"]
    assert "%s/lib" % root in error["message"]


def test_a_variable_written_in_another_branch_leaves_the_include_path_unknown(make_tree):
    root = make_tree({
        "index.php": (
            "<?php\n"
            "$include_path = __DIR__ . '/lib';\n"
            "if ($x) { $include_path .= ':/opt/other'; }\n"
            "set_include_path($include_path);\n"
            "require_once 'Framework/gone.php';\n"),
    })
    result = scan([str(root)], include_path=["."])
    assert located(result) == []
    assert located(result, "info") == [("index.php", 5)]


def test_a_class_file_is_reached_through_a_registered_autoloader(make_tree):
    # A class file's top-level require runs when the class is loaded: with an
    # autoloader registered on a request that is an error; without one,
    # nothing reaches the file; in a tests folder, no request loads it.
    files = {
        "index.php": "<?php\nspl_autoload_register(function ($c) { require __DIR__ . '/src/' . $c . '.php'; });\n",
        "src/Dumper.php": (
            "<?php\nrequire_once __DIR__ . '/functions/gone.php';\nrequire_once 'relative/gone.php';\n"
            "class Dumper {\n    public function load() {\n        return require __DIR__ . '/data/gone.php';\n"
            "    }\n}\n"),
        "src/bin/tool.php": "<?php\nrequire_once __DIR__ . '/gone.php';\nclass Tool {}\n",
        "src/tests/DumperTest.php": "<?php\nrequire_once __DIR__ . '/gone.php';\nclass DumperTest {}\n",
    }
    root = make_tree(files)
    result = scan([str(root)])
    assert located(result) == [("Dumper.php", 2)]
    [error] = [f for f in result.findings if f["severity"] == "error"]
    assert "declares a class, loaded by the autoloader" in error["message"]
    # Where a relative path is looked for depends on the request; a method's
    # require runs only when it is called; bin/ holds scripts, not classes.
    warnings = {(f["line"], f["message"].split("; ")[-1].split(" (")[0]) for f in result.findings
                if f["file"].endswith("Dumper.php") and f["severity"] == "warning"}
    assert warnings == {(3, "where it is looked for depends on the request that loads the class"),
                        (6, "in a function body, which runs only when called")}
    assert sorted(located(result, "warning")) == [
        ("Dumper.php", 3), ("Dumper.php", 6), ("DumperTest.php", 2), ("tool.php", 2)]
    files["index.php"] = "<?php\n"
    unregistered = scan([str(make_tree(files))])
    assert located(unregistered) == []
    assert ("Dumper.php", 2) in located(unregistered, "warning")
