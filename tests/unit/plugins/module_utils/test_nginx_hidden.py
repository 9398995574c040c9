"""web_refs's php_hidden on nginx: the PHP files under the PHP roots that no
request from a client runs, as glob patterns of live paths, a directory
whose every PHP file is hidden given as ``<dir>/*``."""

import fnmatch

import pytest

from ansible_collections.lastgood.webstack.plugins.module_utils._webconf import nginx_hidden
from ansible_collections.lastgood.webstack.tests.unit.plugins.module_utils.webrefs_helpers import run

PHP = """
        include fastcgi_params;
        fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;
        fastcgi_pass 127.0.0.1:9000;"""


@pytest.fixture
def hidden(make_tree, tmp_path):
    """``check(site, php files)``: the report of an http block holding the site
    (``{T}``: the test tree, ``{PHP}``: a FastCGI pass), with each file under
    ``{T}/www`` written."""
    def check(site, files, path_map=None):
        tree = {"conf/fastcgi_params": "fastcgi_param QUERY_STRING $query_string;\n"}
        tree.update({"www/" + name: "<?php\n" for name in files})
        make_tree(tree)
        main = tmp_path / "conf" / "nginx.conf"
        text = site.replace("{T}", str(tmp_path)).replace("{PHP}", PHP)
        main.write_text("events {}\nhttp {\n%s\n}\n" % text)
        return run("nginx", main, path_map=path_map)
    return check


def live(tmp_path, patterns):
    return sorted(pattern.replace(str(tmp_path), "{T}") for pattern in patterns)


NEXTCLOUD = """server {
    root {T}/www;
    location ~ ^/(?:build|tests|config|lib|3rdparty|templates|data)(?:$|/) { return 404; }
    location ~ ^/(?:\\.|autotest|occ|issue|indie|db_|console) { return 404; }
    location ~ \\.php(?:$|/) {
        rewrite ^/(?!index|remote|public|cron|status|ocs\\/v[12]|updater\\/.+) /index.php$request_uri;
        fastcgi_split_path_info ^(.+?\\.php)(/.*)$;
        try_files $fastcgi_script_name =404;{PHP}
    }
    location / {
        try_files $uri $uri/ /index.php$request_uri;
    }
}"""
NEXTCLOUD_FILES = [
    "index.php", "remote.php", "public.php", "cron.php", "status.php", "ocs/v1.php", "ocs/v2.php",
    "updater/index.php", "console.php", "lib/base.php", "lib/private/Server.php", "3rdparty/vendor/a.php",
    "config/config.php", "apps/files/lib/App.php", "apps/files/appinfo/routes.php", "core/ajax/other.php",
]


def test_nextcloud_hides_what_its_locations_refuse_or_rewrite(hidden, tmp_path):
    report = hidden(NEXTCLOUD, NEXTCLOUD_FILES)
    assert [f for f in report.findings if f["severity"] != "info"] == []
    assert live(tmp_path, report.php_hidden) == [
        "{T}/www/3rdparty/*",          # return 404
        "{T}/www/apps/*",              # rewritten to /index.php
        "{T}/www/config/*",
        "{T}/www/console.php",
        "{T}/www/core/*",
        "{T}/www/lib/*",
    ]
    for name in ("index.php", "remote.php", "ocs/v2.php", "updater/index.php"):
        path = "%s/www/%s" % (tmp_path, name)
        assert not any(fnmatch.fnmatch(path, pattern) for pattern in report.php_hidden), name


@pytest.mark.parametrize("location, why", [
    ("location ~ ^/private/ { deny all; }", "deny all"),
    ("location ^~ /private/ { return 403; }", "return"),
    ("location ^~ /private/ { internal; }", "internal"),
    ("location ~ ^/private/.*\\.php$ { internal;{PHP}\n    }", "internal PHP location"),
    ("location ^~ /private/ { }", "served as files"),
    ("location ~ ^/private/ { rewrite ^ /index.php last; }", "rewritten elsewhere"),
    ("location ~ ^/private/.*\\.php$ {\n        include fastcgi_params;\n"
     "        fastcgi_param SCRIPT_FILENAME $document_root/index.php;\n        fastcgi_pass 127.0.0.1:9000;\n    }",
     "another script"),
])
def test_each_way_a_location_keeps_a_file_from_running(hidden, tmp_path, location, why):
    site = "server {\n    root {T}/www;\n    %s\n    location ~ \\.php$ {{PHP}\n    }\n}" % location
    report = hidden(site, ["index.php", "private/a.php", "private/sub/b.php"])
    assert live(tmp_path, report.php_hidden) == ["{T}/www/private/*"], why


def test_a_plain_prefix_location_loses_to_the_php_regex(hidden):
    # Without ^~, nginx goes on to the regex locations: \.php$ runs the files.
    site = "server {\n    root {T}/www;\n    location /private/ { internal; }\n    location ~ \\.php$ {{PHP}\n    }\n}"
    report = hidden(site, ["index.php", "private/a.php"])
    assert report.php_hidden == []


def test_a_directory_with_one_file_that_runs_lists_the_others_one_by_one(hidden, tmp_path):
    site = ("server {\n    root {T}/www;\n    location = /tools/run.php {{PHP}\n    }\n"
            "    location ~ \\.php$ { deny all; }\n}")
    report = hidden(site, ["tools/run.php", "tools/lib.php", "tools/inc/x.php", "tools/inc/y.php", "other/z.php"])
    assert live(tmp_path, report.php_hidden) == [
        "{T}/www/other/*", "{T}/www/tools/inc/*", "{T}/www/tools/lib.php"]


def test_every_file_hidden_gives_the_root_itself(hidden, tmp_path):
    site = "server {\n    root {T}/www;\n    location ~ \\.php$ {{PHP}\n    }\n    location ^~ / { deny all; }\n}"
    report = hidden(site, ["a.php", "b/c.php"])
    assert report.php_roots == ["%s/www" % tmp_path]
    assert live(tmp_path, report.php_hidden) == ["{T}/www/*"]


def test_an_entry_point_in_an_internal_location_is_not_hidden(hidden, tmp_path):
    # Symfony: index.php only through the fallback; other PHP files answer 404.
    site = ("server {\n    root {T}/www;\n    location / {\n        try_files $uri /index.php$is_args$args;\n    }\n"
            "    location ~ ^/index\\.php(/|$) {\n        fastcgi_split_path_info ^(.+\\.php)(/.*)$;{PHP}\n"
            "        internal;\n    }\n    location ~ \\.php$ {\n        return 404;\n    }\n}")
    report = hidden(site, ["index.php", "check.php", "bundles/x.php"])
    assert report.php_entrypoints == ["%s/www/index.php" % tmp_path]
    assert live(tmp_path, report.php_hidden) == ["{T}/www/bundles/*", "{T}/www/check.php"]


def test_a_root_under_another_is_walked_once_and_a_file_runs_through_either(hidden, tmp_path):
    # Magento: /setup has its own root, the shop's root is pub/ under it.
    site = ("server {\n    root {T}/www/pub;\n    location ~* ^/setup($|/) {\n        root {T}/www;\n"
            "        location ~ ^/setup/index.php {{PHP}\n        }\n        location ~ ^/setup/(?!pub/). { deny all; }\n"
            "    }\n    location ~ ^/(index|get)\\.php$ {{PHP}\n    }\n    location ~* \\.php$ { deny all; }\n}")
    report = hidden(site, ["pub/index.php", "pub/get.php", "pub/cron.php", "setup/index.php", "setup/src/A.php",
                           "app/bootstrap.php", "vendor/x/y.php"])
    assert sorted(report.php_roots) == ["%s/www" % tmp_path, "%s/www/pub" % tmp_path]
    assert live(tmp_path, report.php_hidden) == [
        "{T}/www/app/*", "{T}/www/pub/cron.php", "{T}/www/setup/src/*", "{T}/www/vendor/*"]


def test_alias_with_request_filename_routes_files_under_its_location(hidden, tmp_path):
    site = ("server {\n    root {T}/html;\n    location /pma/ {\n        alias {T}/www/;\n"
            "        location ~ ^/pma/libraries/ { deny all; }\n        location ~ \\.php$ {\n"
            "            include fastcgi_params;\n            fastcgi_param SCRIPT_FILENAME $request_filename;\n"
            "            fastcgi_pass 127.0.0.1:9000;\n        }\n    }\n}")
    (tmp_path / "html").mkdir()
    report = hidden(site, ["index.php", "libraries/x.php"])
    assert report.php_roots == ["%s/www" % tmp_path]
    assert live(tmp_path, report.php_hidden) == ["{T}/www/libraries/*"]


def test_live_paths_out_and_the_staged_tree_walked(hidden, tmp_path):
    site = ("server {\n    root /srv/site/current/www;\n    location ~ ^/lib/ { deny all; }\n"
            "    location ~ \\.php$ {{PHP}\n    }\n}")
    report = hidden(site, ["index.php", "lib/a.php"], path_map={"/srv/site/current": str(tmp_path)})
    assert report.php_roots == ["/srv/site/current/www"]
    assert report.php_hidden == ["/srv/site/current/www/lib/*"]


def test_glob_characters_in_names_are_escaped(hidden, tmp_path):
    site = "server {\n    root {T}/www;\n    location = /run.php {{PHP}\n    }\n}"
    report = hidden(site, ["run.php", "odd[1]/a.php", "b*.php"])
    assert live(tmp_path, report.php_hidden) == ["{T}/www/b[*].php", "{T}/www/odd[[]1]/*"]
    assert fnmatch.fnmatch("%s/www/odd[1]/a.php" % tmp_path, report.php_hidden[1])


def test_symlinked_directories_are_not_followed(hidden, tmp_path):
    site = "server {\n    root {T}/www;\n    location = /run.php {{PHP}\n    }\n}"
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "x.php").write_text("<?php\n")
    (tmp_path / "www").mkdir()
    (tmp_path / "www" / "link").symlink_to(tmp_path / "elsewhere")
    report = hidden(site, ["run.php", "lib/a.php"])
    assert live(tmp_path, report.php_hidden) == ["{T}/www/lib/*"]


def test_a_root_with_variables_or_no_php_location_is_not_walked(hidden):
    site = ("server {\n    root {T}/www/$host;\n    location ~ \\.php$ {{PHP}\n    }\n}\n"
            "server {\n    root {T}/www;\n}")
    report = hidden(site, ["a.php"])
    assert report.php_roots == [] and report.php_hidden == []


def test_the_walk_stops_at_its_bound_with_an_info_finding(hidden, tmp_path, monkeypatch):
    monkeypatch.setattr(nginx_hidden, "MAX_FILES", 4)
    site = "server {\n    root {T}/www;\n    location ~ ^/lib/ { deny all; }\n    location ~ \\.php$ {{PHP}\n    }\n}"
    report = hidden(site, ["index.php", "lib/a.php", "lib/b.php", "lib/c.php", "lib/d.php"])
    infos = [f for f in report.findings if f["severity"] == "info"]
    assert len(infos) == 1 and infos[0]["directive"] == "fastcgi_param"
    assert "stopped" in infos[0]["message"] and "4 entries" in infos[0]["message"]
    # What it saw is listed file by file; no directory it did not finish.
    assert all(not pattern.endswith("/*") for pattern in report.php_hidden)
    assert report.php_hidden and set(report.php_hidden) <= {"%s/www/lib/%s.php" % (tmp_path, n) for n in "abcd"}
