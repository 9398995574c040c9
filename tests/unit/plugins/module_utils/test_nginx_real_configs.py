"""web_refs on the nginx constructs that the published configurations of
well-known PHP projects use (Magento's ``set $MAGE_ROOT``, Nextcloud's
``/index.php$request_uri``, Laravel's ``error_page 404 /index.php``, h5ai's
absolute index, Drupal's ``@rewrite``, DokuWiki's rewrites...), written here
as minimal sites of our own. Each construct has a sound site, which must
give no error, and a broken one, which must give an error at the exact
file:line."""

import shutil

import pytest

from ansible_collections.lastgood.webstack.tests.unit.plugins.module_utils.webrefs_helpers import line_of, located, run

PHP = """
        include fastcgi_params;
        fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;
        fastcgi_pass 127.0.0.1:9000;"""


@pytest.fixture
def nginx(make_tree, tmp_path):
    """``check(site, files)``: write the site (``{T}``: the test tree, ``{PHP}``:
    a FastCGI pass of $document_root$fastcgi_script_name) into an http block
    and the files (``{relative path: text or None}``), return (report,
    site path)."""
    def check(site, files, extra=None):
        # Each call checks a tree of its own, at the same place.
        for entry in tmp_path.iterdir():
            shutil.rmtree(str(entry)) if entry.is_dir() else entry.unlink()
        tree = {"conf/fastcgi_params": "fastcgi_param QUERY_STRING $query_string;\n"}
        tree.update(files)
        for name, text in (extra or {}).items():
            tree["conf/" + name] = text.replace("{T}", str(tmp_path)).replace("{PHP}", PHP)
        make_tree(tree)
        site_path = tmp_path / "conf" / "site.conf"
        site_path.write_text(site.replace("{T}", str(tmp_path)).replace("{PHP}", PHP))
        main = tmp_path / "conf" / "nginx.conf"
        main.write_text("events {}\nhttp {\n    include site.conf;\n}\n")
        return run("nginx", main), site_path
    return check


def errors(report):
    return [f for f in report.findings if f["severity"] == "error"]


def at(site_path, text, directive):
    """(file, line, directive) of the first line of the site holding ``text``
    outside the test tree's path (which holds the test's name)."""
    root = str(site_path.parent.parent)
    with open(str(site_path)) as handle:
        for number, line in enumerate(handle, 1):
            if text in line.replace(root, "{T}"):
                return (str(site_path), number, directive)
    raise AssertionError("%r not in %s" % (text, site_path))


# 1. set with literal values -------------------------------------------------

MAGENTO_SERVER = """server {
    listen 80;
    set $MAGE_ROOT {T}/magento;
    set $MAGE_MODE production;
    include sample.conf;
}
"""
MAGENTO_SAMPLE = """root $MAGE_ROOT/pub;
index index.php;
error_page 404 403 = /errors/404.php;
location ~* ^/setup($|/) {
    root $MAGE_ROOT;
    location ~ ^/setup/index.php {{PHP}
    }
    location ~ ^/setup/(?!pub/). {
        deny all;
    }
}
location / {
    try_files $uri $uri/ /index.php$is_args$args;
}
location /static/ {
    if (!-f $request_filename) {
        rewrite ^/static/(version\\d*/)?(.*)$ /static.php?resource=$2 last;
    }
}
location /media/ {
    try_files $uri $uri/ /get.php$is_args$args;
}
location ~ ^/(index|get|static|errors/404)\\.php$ {
    try_files $uri =404;{PHP}
        fastcgi_param MAGE_MODE $MAGE_MODE;
    }
location ~* (\\.php$|\\.htaccess$|\\.git) {
    deny all;
}
"""
MAGENTO_FILES = {
    "magento/pub/index.php": "<?php\n",
    "magento/pub/get.php": "<?php\n",
    "magento/pub/static.php": "<?php\n",
    "magento/pub/errors/404.php": "<?php\n",
    "magento/setup/index.php": "<?php\n",
    "magento/app/bootstrap.php": "<?php\n",
}


def magento(nginx, server=MAGENTO_SERVER, files=None, drop=()):
    kept = {path: text for path, text in (MAGENTO_FILES if files is None else files).items() if path not in drop}
    return nginx(server, kept, {"sample.conf": MAGENTO_SAMPLE})


def test_magento_root_set_with_a_literal_is_checked_like_a_literal_root(nginx, tmp_path):
    report, _site = magento(nginx)
    assert errors(report) == []
    magento_dir = "%s/magento" % tmp_path
    assert "%s/pub" % magento_dir in [r["path"] for r in report.references if r["kind"] == "root"]
    assert sorted(report.php_entrypoints) == sorted("%s/%s" % (magento_dir, path) for path in (
        "pub/index.php", "pub/errors/404.php", "pub/static.php", "pub/get.php"))
    assert sorted(report.php_roots) == [magento_dir, "%s/pub" % magento_dir]


def test_magento_root_with_a_typo_in_set_is_an_error_at_the_root_line(nginx, tmp_path):
    report, _site = magento(nginx, server=MAGENTO_SERVER.replace("{T}/magento;", "{T}/magento2;"))
    sample = tmp_path / "conf" / "sample.conf"
    assert (str(sample), 1, "root") in located(report)
    assert (str(sample), 5, "root") in located(report)
    assert "%s/magento2/pub" % tmp_path in [f["path"] for f in errors(report)]


@pytest.mark.parametrize("missing, text, directive", [
    ("magento/pub/index.php", "/index.php$is_args$args", "try_files"),
    ("magento/pub/get.php", "/get.php$is_args$args", "try_files"),
    ("magento/pub/static.php", "/static.php?resource", "rewrite"),
    ("magento/pub/errors/404.php", "error_page 404 403", "error_page"),
])
def test_magento_missing_entry_point_is_an_error_at_the_line_that_reaches_it(nginx, tmp_path, missing, text, directive):
    report, _site = magento(nginx, drop=(missing,))
    sample = tmp_path / "conf" / "sample.conf"
    assert (str(sample), line_of(sample, text), directive) in located(report)
    assert "%s/%s" % (tmp_path, missing) in [f["path"] for f in errors(report)]


LEGACY = """server {
    set $base {T}/site;
    root $base/public;
    location / {
        try_files $uri /index.php?$args;
    }
    location /legacy/ {
        set $base {T}/old;
    }
    location /a/ {
        set $base {T}/outer;
        location /a/b/ {
            index index.html;
        }
    }
    location ~ \\.php$ {{PHP}
    }
}
"""


def test_a_location_s_own_set_overrides_the_server_s_for_the_root_it_inherits(nginx, tmp_path):
    files = {"site/public/index.php": "<?php\n", "old/public": None, "outer/public": None,
             "site/public/a/b/index.html": ""}
    report, site = nginx(LEGACY, files)
    assert errors(report) == []
    roots = {r["context"]: r["path"] for r in report.references if r["kind"] == "root"}
    server = "http > server (no server_name)"
    assert roots[server] == "%s/site/public" % tmp_path
    assert roots[server + " > location /legacy/"] == "%s/old/public" % tmp_path
    assert roots[server + " > location /a/"] == "%s/outer/public" % tmp_path
    # /a/b/ does not run the sets of /a/ (the rewrite module runs those of the
    # server and of the matched location only): its root is the server's.
    assert [r["context"] for r in report.references if r["path"].startswith("%s/outer" % tmp_path)] == [
        server + " > location /a/"]
    assert [r["path"] for r in report.references if r["kind"] == "index"] == [
        "%s/site/public/a/b/index.html" % tmp_path]


def test_a_location_s_set_naming_a_missing_root_is_an_error_at_the_root_line(nginx, tmp_path):
    files = {"site/public/index.php": "<?php\n", "outer/public": None, "site/public/a/b/index.html": ""}
    report, site = nginx(LEGACY, files)
    missing = [(f["line"], f["path"]) for f in errors(report)]
    assert (line_of(site, "root $base/public;"), "%s/old/public" % tmp_path) in missing


@pytest.mark.parametrize("setting", [
    "set $base $document_root;",
    "set $base {T}/site;\n    if ($https) {\n        set $base {T}/other;\n    }",
    "set $base {T}/site$uri;",
])
def test_variables_set_from_variables_or_in_if_blocks_stay_unknown(nginx, tmp_path, setting):
    site = "server {\n    %s\n    root $base/public;\n    index index.php;\n}\n" % setting
    report, _site = nginx(site, {"site": None})
    assert errors(report) == []
    assert [r["path"] for r in report.references if r["kind"] == "root"] == []


def test_a_variable_of_map_is_unknown_even_when_also_set(nginx):
    site = ("map $host $base {\n    default {T}/nowhere;\n}\n"
            "server {\n    set $base {T}/nowhere2;\n    root $base/public;\n    index index.php;\n}\n")
    report, _site = nginx(site, {})
    assert errors(report) == []


# 2. try_files fallbacks with variables after the file name -------------------

NEXTCLOUD = """server {
    root {T}/nextcloud;
    index index.php index.html /index.php$request_uri;
    location ^~ /.well-known {
        location = /.well-known/carddav { return 301 /remote.php/dav/; }
        return 301 /index.php$request_uri;
    }
    location ~ ^/(?:build|tests|config|lib|3rdparty|templates|data)(?:$|/) { return 404; }
    location ~ \\.php(?:$|/) {
        rewrite ^/(?!index|remote|public|cron|status|ocs\\/v[12]) /index.php$request_uri;
        fastcgi_split_path_info ^(.+?\\.php)(/.*)$;
        set $path_info $fastcgi_path_info;
        try_files $fastcgi_script_name =404;{PHP}
        fastcgi_param PATH_INFO $path_info;
    }
    location ~ \\.(?:css|js|svg|png)$ {
        try_files $uri /index.php$request_uri;
    }
    location /remote {
        return 301 /remote.php$request_uri;
    }
    location / {
        try_files $uri $uri/ /index.php$request_uri;
    }
}
"""
NEXTCLOUD_FILES = {
    "nextcloud/index.php": "<?php\n",
    "nextcloud/remote.php": "<?php\n",
    "nextcloud/lib/base.php": "<?php\n",
    "nextcloud/apps/files/lib/App.php": "<?php\n",
}


def test_nextcloud_fallbacks_with_request_uri_reach_index_php(nginx, tmp_path):
    report, _site = nginx(NEXTCLOUD, NEXTCLOUD_FILES)
    assert errors(report) == []
    assert report.php_entrypoints == ["%s/nextcloud/index.php" % tmp_path]
    fallbacks = [r for r in report.references if r["kind"] == "try_files"]
    assert {r["path"] for r in fallbacks} == {"%s/nextcloud/index.php" % tmp_path} and len(fallbacks) == 2


def test_nextcloud_without_index_php_is_an_error_at_each_line_that_reaches_it(nginx, tmp_path):
    files = dict(NEXTCLOUD_FILES)
    del files["nextcloud/index.php"]
    report, site = nginx(NEXTCLOUD, files)
    assert sorted(located(report)) == sorted([
        at(site, "index index.php index.html /index.php$request_uri;", "index"),
        at(site, "rewrite ^/(?!index", "rewrite"),
        at(site, "try_files $uri /index.php$request_uri;", "try_files"),
        at(site, "try_files $uri $uri/ /index.php$request_uri;", "try_files"),
    ])


@pytest.mark.parametrize("fallback", [
    "/index.php$request_uri", "/index.php$is_args$args", "/index.php?$args", "/index.php?q=$uri&$args",
    "/index.php$is_args$query_string",
])
def test_fallback_with_variables_after_the_file_name(nginx, tmp_path, fallback):
    site = ("server {\n    root {T}/www;\n    location / {\n        try_files $uri $uri/ %s;\n    }\n"
            "    location ~ \\.php(/|$) {\n        fastcgi_split_path_info ^(.+\\.php)(/.*)$;{PHP}\n    }\n}\n"
            % fallback)
    report, _site = nginx(site, {"www/index.php": "<?php\n"})
    assert errors(report) == []
    assert report.php_entrypoints == ["%s/www/index.php" % tmp_path]
    report, site_path = nginx(site.replace("/index.php", "/front.php", 1), {"www/index.php": "<?php\n"})
    assert located(report) == [at(site_path, "try_files", "try_files")]
    assert errors(report)[0]["path"] == "%s/www/front.php" % tmp_path


def test_fallback_after_a_directory_and_variables_is_not_guessed(nginx):
    site = "server {\n    root {T}/www;\n    location / {\n        try_files $uri /app$uri;\n    }\n}\n"
    report, _site = nginx(site, {"www": None})
    assert errors(report) == []
    assert [r for r in report.references if r["kind"] == "try_files"] == []


@pytest.mark.parametrize("target", [
    "location @rewrite {\n        return 301 https://example.com$request_uri;\n    }",
    "location @rewrite {\n        return 404;\n    }",
    "location @rewrite {\n        rewrite ^ https://example.com/ permanent;\n    }",
])
def test_fallback_into_a_named_location_that_answers_with_return(nginx, target):
    site = ("server {\n    root {T}/www;\n    location / {\n        try_files $uri @rewrite;\n    }\n    %s\n"
            "    error_page 404 /missing.html;\n    location = /missing.html {\n        return 404;\n    }\n}\n"
            % target)
    report, _site = nginx(site, {"www": None})
    assert errors(report) == []


@pytest.mark.parametrize("fallback, target", [
    ("/moved", "location /moved {\n        return 301 /elsewhere;\n    }"),
])
def test_fallback_into_a_plain_location_that_answers_without_a_file(nginx, fallback, target):
    site = ("server {\n    root {T}/www;\n    location / {\n        try_files $uri %s;\n    }\n    %s\n}\n"
            % (fallback, target))
    report, _site = nginx(site, {"www": None})
    assert errors(report) == []


@pytest.mark.parametrize("fallback, target", [
    ("/gone", "location /gone {\n        return 404;\n    }"),
    ("/index.php$request_uri", "location = /index.php {\n        return 410;\n    }"),
    # Symfony's documented config with its front controller misspelt in the fallback.
    ("/indexx.php$is_args$args", "location ~ ^/index\\.php(/|$) {\n        internal;\n    }\n"
                                 "    location ~ \\.php$ {\n        return 404;\n    }"),
])
def test_fallback_that_a_return_of_an_error_answers_is_an_error(nginx, fallback, target):
    site = ("server {\n    root {T}/www;\n    location / {\n        try_files $uri %s;\n    }\n    %s\n}\n"
            % (fallback, target))
    report, site_path = nginx(site, {"www": None})
    [error] = errors(report)
    assert (error["file"], error["line"], error["directive"]) == (str(site_path), 4, "try_files")
    assert "answers it with return 4" in error["message"]


def test_fallback_into_a_location_that_denies_every_client_is_an_error(nginx):
    site = ("server {\n    root {T}/www;\n    location / {\n        try_files $uri /index.php?$args;\n    }\n"
            "    location ~ \\.php$ {\n        deny all;\n    }\n}\n")
    report, site_path = nginx(site, {"www": None})
    [error] = errors(report)
    assert (error["file"], error["line"], error["directive"]) == (str(site_path), 4, "try_files")
    assert "refuses it with deny all (403) (%s:7)" % site_path in error["message"]
    # Some clients allowed first: not every request fails.
    report, site_path = nginx(site.replace("deny all;", "allow 127.0.0.1;\n        deny all;"),
                              {"www/index.php": ""})
    assert errors(report) == []


def test_request_uri_fallback_that_the_php_location_does_not_serve_is_an_error(nginx, tmp_path):
    # nginx goes on with /index.php/<path>; `\.php$` does not match it, so
    # location / serves it and falls back to the same URI again: a loop.
    site = ("server {\n    root {T}/www;\n    location / {\n        try_files $uri $uri/ /index.php$request_uri;\n    }\n"
            "    location ~ \\.php$ {{PHP}\n    }\n}\n")
    report, site_path = nginx(site, {"www/index.php": "<?php\n"})
    assert located(report) == [at(site_path, "try_files", "try_files")]
    assert "loop" in errors(report)[0]["message"]
    report, _site = nginx(site.replace("\\.php$", "\\.php(?:$|/)"), {"www/index.php": "<?php\n"})
    assert errors(report) == []


# 3. SCRIPT_FILENAME with a literal between variables --------------------------

PUBLIC = """server {
    root {T}/app;
    index index.php;
    location / {
        try_files $uri /index.php$is_args$args;
    }
    location ~ \\.php$ {
        include fastcgi_params;
        fastcgi_param SCRIPT_FILENAME $document_root/public$fastcgi_script_name;
        fastcgi_pass 127.0.0.1:9000;
    }
}
"""


def test_script_filename_under_a_directory_of_the_document_root(nginx, tmp_path):
    report, _site = nginx(PUBLIC, {"app/index.php": "", "app/public/index.php": "<?php\n"})
    assert errors(report) == []
    assert report.php_roots == ["%s/app/public" % tmp_path]
    # The index file is looked for in the root, and runs public/index.php.
    assert report.php_entrypoints == ["%s/app/public/index.php" % tmp_path]


def test_script_filename_under_a_missing_directory_is_an_error_at_the_fastcgi_param(nginx, tmp_path):
    report, site = nginx(PUBLIC, {"app/index.php": ""})
    assert at(site, "SCRIPT_FILENAME", "fastcgi_param") in located(report)
    assert "%s/app/public" % tmp_path in [f["path"] for f in errors(report)]


def test_script_filename_missing_under_its_directory_is_an_error_where_it_is_reached(nginx, tmp_path):
    report, site = nginx(PUBLIC, {"app/index.php": "", "app/public": None})
    assert sorted(located(report)) == sorted([at(site, "index index.php;", "index"), at(site, "try_files", "try_files")])
    assert report.php_entrypoints == []


def test_script_filename_of_a_literal_directory_and_the_script_name(nginx, tmp_path):
    site = PUBLIC.replace("$document_root/public$fastcgi_script_name", "{T}/srv/web$fastcgi_script_name")
    report, _site = nginx(site, {"app/index.php": "", "srv/web/index.php": "<?php\n"})
    assert errors(report) == []
    assert report.php_roots == ["%s/srv/web" % tmp_path]
    report, site_path = nginx(site.replace("srv/web$", "srv/wbe$"), {"app/index.php": "", "srv/web/index.php": ""})
    assert at(site_path, "SCRIPT_FILENAME", "fastcgi_param") in located(report)


# 4. absolute index URIs and error pages served by a fallback ------------------

@pytest.mark.parametrize("index, files", [
    ("index index.html /_h5ai/public/index.php;", {"www/_h5ai/public/index.php": "<?php\n"}),
    ("index index.php /index.php;", {"www/index.php": "<?php\n"}),
    ("index index.php index.html /index.php$request_uri;", {"www/index.php": "<?php\n"}),
])
def test_an_absolute_last_index_is_followed_and_a_missing_directory_index_is_no_error(nginx, tmp_path, index, files):
    site = "server {\n    root {T}/www;\n    %s\n    location ~ \\.php(?:$|/) {{PHP}\n    }\n}\n" % index
    report, _site = nginx(site, files)
    assert errors(report) == []
    assert report.php_entrypoints == ["%s/www/%s" % (tmp_path, list(files)[0][len("www/"):])]
    report, site_path = nginx(site, {"www": None})
    assert located(report) == [at(site_path, "index", "index")]
    assert errors(report)[0]["path"] == "%s/%s" % (tmp_path, list(files)[0])


@pytest.mark.parametrize("page", ["/404.php", "/index.php", "/errors/not-found.html"])
def test_error_page_that_a_try_files_fallback_serves_is_no_error(nginx, tmp_path, page):
    site = ("server {\n    root {T}/www;\n    error_page 404 %s;\n    location / {\n"
            "        try_files $uri $uri/ /index.php?$query_string;\n    }\n"
            "    location ~ ^/index\\.php(/|$) {{PHP}\n    }\n}\n" % page)
    report, _site = nginx(site, {"www/index.php": "<?php\n"})
    assert errors(report) == []
    assert report.php_entrypoints == ["%s/www/index.php" % tmp_path]
    report, site_path = nginx(site, {"www": None})
    assert at(site_path, "error_page", "error_page") in located(report)


def test_error_page_in_a_location_that_returns_is_served_by_the_fallback(nginx):
    site = ("server {\n    root {T}/www;\n    location / {\n        try_files $uri $uri/ /index.php?$args;\n    }\n"
            "    location ~* /(images|cache)/.*\\.php$ {\n        return 403;\n        error_page 403 /403_error.html;\n    }\n"
            "    location ~ \\.php$ {{PHP}\n    }\n}\n")
    report, _site = nginx(site, {"www/index.php": "<?php\n"})
    assert errors(report) == []


# Other constructs: rewrites, named locations, prefix locations --------------

DOKUWIKI = """server {
    root {T}/dokuwiki;
    index doku.php;
    location ~ /(conf/|bin/|inc/|install.php) { deny all; }
    location / { try_files $uri $uri/ @dokuwiki; }
    location @dokuwiki {
        rewrite ^/_media/(.*) /lib/exe/fetch.php?media=$1 last;
        rewrite ^/(.*) /doku.php?id=$1&$args last;
    }
    location ~ \\.php$ {
        try_files $uri =404;{PHP}
    }
    location /maintenance/ {
        if (-f $document_root/maintenance.html) {
            rewrite ^ /maintenance.html break;
        }
    }
}
"""


def test_rewrites_to_a_literal_file_name_are_followed(nginx, tmp_path):
    files = {"dokuwiki/doku.php": "<?php\n", "dokuwiki/lib/exe/fetch.php": "<?php\n"}
    report, _site = nginx(DOKUWIKI, files)
    assert errors(report) == []
    assert sorted(report.php_entrypoints) == ["%s/dokuwiki/doku.php" % tmp_path, "%s/dokuwiki/lib/exe/fetch.php" % tmp_path]
    report, site = nginx(DOKUWIKI, {"dokuwiki/doku.php": "<?php\n"})
    assert located(report) == [at(site, "/lib/exe/fetch.php", "rewrite")]


def test_drupal_rewrite_in_a_named_location_reaches_index_php(nginx, tmp_path):
    site = ("server {\n    root {T}/web;\n    location / {\n        try_files $uri @rewrite;\n    }\n"
            "    location @rewrite {\n        rewrite ^ /index.php;\n    }\n"
            "    location ~ '\\.php$|^/update.php' {\n        fastcgi_split_path_info ^(.+?\\.php)(|/.*)$;\n"
            "        try_files $fastcgi_script_name =404;{PHP}\n    }\n    error_page 404 /not-found;\n}\n")
    report, _site = nginx(site, {"web/index.php": "<?php\n"})
    assert errors(report) == []
    assert report.php_entrypoints == ["%s/web/index.php" % tmp_path]
    report, site_path = nginx(site, {"web": None})
    assert sorted(located(report)) == sorted([at(site_path, "rewrite ^ /index.php;", "rewrite"),
                                              at(site_path, "error_page", "error_page")])


def test_index_of_a_prefix_location_is_looked_for_in_its_directory(nginx, tmp_path):
    # phpMyAdmin's nginx setup: location /phpmyadmin with root /usr/share/.
    site = ("server {\n    root {T}/html;\n    index index.html;\n    location /phpmyadmin {\n        root {T}/share/;\n"
            "        index index.php index.html;\n        location ~ ^/phpmyadmin/(.+\\.php)$ {\n"
            "            try_files $uri =404;{PHP}\n        }\n    }\n    location /phpMyAdmin {\n"
            "        rewrite ^/* /phpmyadmin last;\n    }\n}\n")
    report, _site = nginx(site, {"html/index.html": "", "share/phpmyadmin/index.php": "<?php\n"})
    assert errors(report) == []
    assert report.php_entrypoints == ["%s/share/phpmyadmin/index.php" % tmp_path]
    report, site_path = nginx(site, {"html/index.html": "", "share/phpmyadmin": None})
    assert located(report) == [at(site_path, "index index.php index.html;", "index")]
    assert errors(report)[0]["message"] == "none of index.php, index.html exists in %s/share/phpmyadmin" % tmp_path


def test_server_that_only_redirects_reaches_no_file(nginx):
    site = ("server {\n    listen 80;\n    root {T}/nowhere-yet;\n    return 301 https://$host$request_uri;\n"
            "    error_page 404 /404.html;\n}\n")
    report, site_path = nginx(site, {})
    # The root is still a reference; the error page is never served.
    assert located(report) == [at(site_path, "root", "root")]


def test_literal_socket_variable_is_checked(nginx, tmp_path):
    site = ("server {\n    root {T}/www;\n    set $php_socket unix:{T}/run/php.sock;\n"
            "    location ~ \\.php$ {\n        fastcgi_pass $php_socket;\n    }\n}\n")
    report, site_path = nginx(site, {"www": None})
    assert located(report) == [at(site_path, "fastcgi_pass", "fastcgi_pass")]
    assert errors(report)[0]["path"] == "%s/run/php.sock" % tmp_path


def test_alias_with_a_trailing_slash_maps_what_follows_the_prefix_under_it(nginx, tmp_path):
    site = ("server {\n    root {T}/www;\n    error_page 404 /static/404.html;\n"
            "    location /static/ {\n        alias {T}/assets/;\n    }\n}\n")
    report, _site = nginx(site, {"www": None, "assets/404.html": ""})
    assert errors(report) == []
    assert "%s/assets/404.html" % tmp_path in [r["path"] for r in report.references if r["kind"] == "error_page"]
    report, site_path = nginx(site, {"www": None, "assets": None})
    assert located(report) == [at(site_path, "error_page", "error_page")]


def test_named_locations_that_fall_back_to_each_other_end(nginx, tmp_path):
    site = ("server {\n    root {T}/www;\n    error_page 404 /page.html;\n    location / {\n        try_files $uri @a;\n    }\n"
            "    location @a {\n        try_files /a.html @b;\n    }\n    location @b {\n        try_files /b.html @a;\n    }\n}\n")
    report, site_path = nginx(site, {"www": None})
    assert located(report) == [at(site_path, "error_page", "error_page")]
    assert errors(report)[0]["path"] == "%s/www/page.html" % tmp_path
