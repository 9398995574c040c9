"""allowed_roots: a configuration or PHP code that reaches outside the trees
it may use (``root /``, ``include /etc/shadow``, a symlink in a release that
leads to /etc) is an error at its file:line, and an include outside them is
never read."""

import os

import pytest

from ansible_collections.lastgood.webstack.plugins.module_utils._common.paths import AllowedRoots, PathMap
from ansible_collections.lastgood.webstack.plugins.module_utils._php.ini import check_ini_files
from ansible_collections.lastgood.webstack.plugins.module_utils._php.resolve import scan
from ansible_collections.lastgood.webstack.plugins.module_utils._webconf.validate import ConfigError, validate

from ansible_collections.lastgood.webstack.tests.unit.plugins.module_utils.webrefs_helpers import line_of

SECRET = "root:$y$j9T$not-a-real-hash:19000:0:99999:7:::\n"


def write(path, text):
    os.makedirs(os.path.dirname(str(path)), exist_ok=True)
    with open(str(path), "w") as handle:
        handle.write(text)
    return path


def outside_errors(report_or_result):
    return [finding for finding in report_or_result.findings
            if finding["severity"] == "error" and "outside allowed_roots" in finding["message"]]


def nginx_site(tmp_path, server_body):
    """An nginx tree under tmp_path/etc/nginx with one server, a site under
    tmp_path/srv/shop, and a file standing for /etc/shadow outside both."""
    secret = write(tmp_path / "secret" / "shadow", SECRET)
    write(tmp_path / "srv/shop/app/index.php", "<?php\n")
    config = write(tmp_path / "etc/nginx/nginx.conf",
                   "events {}\nhttp {\n    server {\n        listen 80;\n%s    }\n}\n" % server_body)
    return config, secret


def roots_of(tmp_path):
    return [str(tmp_path / "etc/nginx"), str(tmp_path / "srv/shop")]


def test_root_of_the_whole_filesystem_is_an_error_at_its_line(tmp_path):
    config, _secret = nginx_site(tmp_path, "        root /;\n")
    report = validate("nginx", str(config), allowed_roots=roots_of(tmp_path)).report
    [finding] = outside_errors(report)
    assert (finding["file"], finding["line"], finding["directive"]) == (str(config), line_of(config, "root /;"), "root")
    assert finding["message"].startswith("/ is outside allowed_roots (")


def test_without_allowed_roots_nothing_changes(tmp_path):
    config, secret = nginx_site(tmp_path, "        root /;\n        include %s;\n" % "/dev/null")
    report = validate("nginx", str(config)).report
    assert outside_errors(report) == []


def test_an_include_outside_is_reported_and_never_read(tmp_path):
    config, secret = nginx_site(tmp_path, "        root %s;\n        include %s;\n" % (
        tmp_path / "srv/shop/app", tmp_path / "secret/shadow"))
    result = validate("nginx", str(config), allowed_roots=roots_of(tmp_path))
    [finding] = outside_errors(result.report)
    assert (finding["line"], finding["directive"]) == (line_of(config, "    include /"), "include")
    assert str(secret) not in result.files_parsed
    # What the file holds never reaches a message: it was not parsed.
    assert not any("not-a-real-hash" in f["message"] for f in result.report.findings)
    # Without allowed_roots the same include is read, and fails to parse.
    with pytest.raises(ConfigError) as raised:
        validate("nginx", str(config))
    assert raised.value.file == str(secret)


def test_a_symlink_inside_an_allowed_tree_that_leads_outside_is_an_error(tmp_path):
    config, secret = nginx_site(tmp_path, "        root %s;\n        error_page 404 /404.html;\n" % (
        tmp_path / "srv/shop/app"))
    os.symlink(str(secret), str(tmp_path / "srv/shop/app/404.html"))
    report = validate("nginx", str(config), allowed_roots=roots_of(tmp_path)).report
    [finding] = outside_errors(report)
    assert finding["directive"] == "error_page"
    assert "leads to %s" % secret in finding["message"]


def test_path_map_moves_the_allowed_tree_with_the_release(tmp_path):
    live = tmp_path / "srv/shop/current"
    release = tmp_path / "srv/shop/releases/v2"
    write(release / "app/index.php", "<?php\n")
    config = write(release / "nginx/site.conf",
                   "server {\n    listen 80;\n    root %s/app;\n    index index.php;\n}\n" % live)
    main = write(tmp_path / "etc/nginx/nginx.conf", "events {}\nhttp {\n    include %s/nginx/site.conf;\n}\n" % live)
    path_map = {str(live): str(release)}
    report = validate("nginx", str(main), path_map=path_map,
                      allowed_roots=[str(tmp_path / "etc/nginx"), str(live)]).report
    assert outside_errors(report) == []
    assert report.errors() == []
    assert any(reference["checked"] == str(release / "app") for reference in report.references)


def test_apache_include_optional_outside_is_an_error_not_info(tmp_path):
    secret = write(tmp_path / "secret/shadow", SECRET)
    write(tmp_path / "srv/shop/index.php", "<?php\n")
    config = write(tmp_path / "etc/apache2/apache2.conf", (
        "ServerRoot %s\n"
        "DocumentRoot %s\n"
        "IncludeOptional %s\n"
        "Alias /all /\n") % (tmp_path / "etc/apache2", tmp_path / "srv/shop", secret))
    result = validate("apache", str(config), allowed_roots=[str(tmp_path / "etc/apache2"), str(tmp_path / "srv/shop")])
    located = sorted((f["line"], f["directive"]) for f in outside_errors(result.report))
    assert located == [(line_of(config, "IncludeOptional"), "IncludeOptional"), (line_of(config, "Alias"), "Alias")]
    assert str(secret) not in result.files_parsed


def test_php_require_outside_the_roots_is_an_error(make_tree):
    root = make_tree({
        "secret/passwd": "root:x:0:0::/root:/bin/sh\n",
        "app/lib/a.php": "<?php\n",
        "app/index.php": "<?php\nrequire_once __DIR__ . '/lib/a.php';\nrequire '%s';\n",
    })
    index = root / "app/index.php"
    index.write_text(index.read_text() % (root / "secret/passwd"))
    result = scan([str(root / "app")], allowed_roots=[str(root / "app")])
    [finding] = outside_errors(result)
    assert (finding["line"], finding["statement"]) == (3, "require")
    assert scan([str(root / "app")]).findings == []


def test_php_symlinked_folder_leading_outside_is_not_scanned(make_tree):
    root = make_tree({
        "elsewhere/evil.php": "<?php\nrequire 'missing.php';\n",
        "app/index.php": "<?php\n",
    })
    os.symlink(str(root / "elsewhere"), str(root / "app/vendor"))
    result = scan([str(root / "app")], allowed_roots=[str(root / "app")])
    assert result.files_scanned == 1
    assert len(result.problems) == 1 and "leads to %s" % (root / "elsewhere") in result.problems[0]
    # Without allowed_roots the symlinked folder is followed.
    assert scan([str(root / "app")]).files_scanned == 2


def test_auto_prepend_file_outside_the_roots_is_an_error(make_tree):
    root = make_tree({
        "secret/passwd": "x\n",
        "app/index.php": "<?php\n",
        "pool/www.conf": "[www]\nphp_admin_value[auto_prepend_file] = %s\n",
    })
    pool = root / "pool/www.conf"
    pool.write_text(pool.read_text() % (root / "secret/passwd"))
    result = scan([str(root / "app")], allowed_roots=[str(root / "app"), str(root / "pool")])
    check_ini_files([str(pool)], PathMap(), result, [str(root / "app"), str(root / "pool")])
    [finding] = outside_errors(result)
    assert (finding["file"], finding["line"]) == (str(pool), 2)


def test_allowed_roots_of_slash_allows_everything(tmp_path):
    roots = AllowedRoots(["/"])
    assert roots.outside("/etc/shadow") is None
    assert AllowedRoots().outside("/etc/shadow") is None
    assert AllowedRoots([str(tmp_path)]).outside("/etc/shadow").startswith("is outside allowed_roots")
    # A sibling that shares a prefix is not inside.
    assert AllowedRoots([str(tmp_path / "shop")]).outside(str(tmp_path / "shop2/x")) is not None
