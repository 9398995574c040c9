import os

import pytest

from ansible_collections.lastgood.webstack.tests.unit.plugins.module_utils.webrefs_helpers import bind_socket, line_of, located, run

SITE_CONF = """\
load_module {T}/modules/ngx_http_echo_module.so;
error_log {T}/log/error.log;
events {}
http {
    include fastcgi_params;
    include conf.d/*.conf;
    upstream php_pool {
        server unix:{T}/run/php-pool.sock;
    }
    server {
        listen 443 ssl;
        server_name shop.example;
        root {T}/www;
        index index.php index.html;
        ssl_certificate {T}/ssl/shop.pem;
        ssl_certificate_key {T}/ssl/shop.key;
        error_page 404 /404.html;
        error_page 500 502 @maintenance;
        access_log {T}/log/shop.access.log;
        auth_basic_user_file {T}/htpasswd;

        location / {
            try_files $uri $uri/ /index.php?$args;
        }
        location /static/ {
            alias {T}/static/;
        }
        location /not-on-disk/ {
            try_files $uri =404;
        }
        location /old/ {
            try_files $uri @maintenance;
        }
        location @maintenance {
            root {T}/maintenance;
        }
        location = /status {
            include fastcgi_params;
            fastcgi_param SCRIPT_FILENAME {T}/www/status.php;
            fastcgi_pass unix:{T}/run/php.sock;
        }
        location /api/ {
            include fastcgi_params;
            fastcgi_param SCRIPT_FILENAME $document_root/api.php;
            fastcgi_pass unix:{T}/run/php-api.sock;
        }
        location /app/ {
            proxy_pass http://unix:{T}/run/app.sock:/;
        }
        location /py/ {
            uwsgi_pass unix:{T}/run/uwsgi.sock;
        }
        location ~ \\.php$ {
            include fastcgi_params;
            fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;
            fastcgi_param PHP_VALUE "auto_prepend_file={T}/www/prepend.php\ninclude_path=.:/usr/share/php:{T}/lib";
            fastcgi_pass php_pool;
        }
    }
    server {
        listen 80;
        server_name ~^(?<tenant>.+)\\.example$;
        root {T}/tenants/$tenant/public;
        location / {
            try_files $uri /index.html;
        }
    }
}
"""

FILES = {
    "conf/fastcgi_params": "fastcgi_param QUERY_STRING $query_string;\n",
    "modules/ngx_http_echo_module.so": "",
    "log": None,
    "www/index.php": "<?php\n",
    "www/404.html": "missing\n",
    "www/status.php": "<?php\n",
    "www/api.php": "<?php\n",
    "www/prepend.php": "<?php\n",
    "static/logo.png": "",
    "maintenance/index.html": "",
    "ssl/shop.pem": "",
    "ssl/shop.key": "",
    "htpasswd": "",
    "tenants": None,
}
SOCKETS = ("run/php.sock", "run/php-api.sock", "run/php-pool.sock", "run/app.sock", "run/uwsgi.sock")


@pytest.fixture
def site(make_tree, tmp_path):
    """Write the site and its sockets; return (root, write(config_text) -> config path)."""
    make_tree(FILES)
    sockets = [bind_socket(str(tmp_path / name)) for name in SOCKETS]

    def write(text=SITE_CONF):
        path = tmp_path / "conf" / "nginx.conf"
        path.write_text(text.replace("{T}", str(tmp_path)))
        return path

    yield tmp_path, write
    for sock in sockets:
        sock.close()


def test_sound_site_has_no_error_or_warning(site):
    root, write = site
    report = run("nginx", write())
    assert [f for f in report.findings if f["severity"] != "info"] == []
    # The conf.d glob matches nothing: fine for nginx, said as info.
    assert [f["message"] for f in report.findings] == ["%s/conf/conf.d/*.conf matches no file" % root]
    assert sorted(report.php_entrypoints) == sorted([
        "%s/www/index.php" % root, "%s/www/status.php" % root, "%s/www/api.php" % root,
        "%s/www/prepend.php" % root,
    ])
    assert report.php_include_path == [".:/usr/share/php:%s/lib" % root]
    kinds = {reference["kind"] for reference in report.references}
    assert {"include", "root", "alias", "index", "try_files", "error_page", "ssl", "log", "socket",
            "script", "php_ini", "file", "module"} <= kinds


# (text as written, its typo, directive reported, occurrence of the typo line)
TYPOS = [
    ("root {T}/www;", "root {T}/wwww;", "root", 1),
    ("alias {T}/static/;", "alias {T}/statik/;", "alias", 1),
    ("index index.php index.html;", "index index.phtml index.htm;", "index", 1),
    ("/index.php?$args;", "/indx.php?$args;", "try_files", 1),
    # (/405.html would be served by location /'s try_files fallback: no error;
    # under /static/ nothing serves it.)
    ("error_page 404 /404.html;", "error_page 404 /static/405.html;", "error_page", 1),
    ("error_page 500 502 @maintenance;", "error_page 500 502 @maintenanse;", "error_page", 1),
    ("try_files $uri @maintenance;", "try_files $uri @maintenanse;", "try_files", 1),
    ("ssl_certificate {T}/ssl/shop.pem;", "ssl_certificate {T}/ssl/shop.crt;", "ssl_certificate", 1),
    ("ssl_certificate_key {T}/ssl/shop.key;", "ssl_certificate_key {T}/ssl/shop.kye;", "ssl_certificate_key", 1),
    ("auth_basic_user_file {T}/htpasswd;", "auth_basic_user_file {T}/htpassword;", "auth_basic_user_file", 1),
    ("include fastcgi_params;\n    include conf.d", "include fastcgi_param;\n    include conf.d", "include", 1),
    ("SCRIPT_FILENAME {T}/www/status.php;", "SCRIPT_FILENAME {T}/www/stauts.php;", "fastcgi_param", 1),
    ("SCRIPT_FILENAME $document_root/api.php;", "SCRIPT_FILENAME $document_root/apı.php;", "fastcgi_param", 1),
    ("auto_prepend_file={T}/www/prepend.php", "auto_prepend_file={T}/www/prepend.phpp", "fastcgi_param", 1),
    ("fastcgi_pass unix:{T}/run/php.sock;", "fastcgi_pass unix:{T}/run/php7.0-fpm.sock;", "fastcgi_pass", 1),
    ("server unix:{T}/run/php-pool.sock;", "server unix:{T}/run/php8.1-fpm.sock;", "server", 1),
    ("http://unix:{T}/run/app.sock:/", "http://unix:{T}/run/ap.sock:/", "proxy_pass", 1),
    ("uwsgi_pass unix:{T}/run/uwsgi.sock;", "uwsgi_pass unix:{T}/run/wsgi.sock;", "uwsgi_pass", 1),
    ("access_log {T}/log/shop", "access_log {T}/logs/shop", "access_log", 1),
    ("error_log {T}/log/error.log;", "error_log {T}/logs/error.log;", "error_log", 1),
    ("load_module {T}/modules/", "load_module {T}/module/", "load_module", 1),
    ("root {T}/tenants/$tenant/public;", "root {T}/tenant/$tenant/public;", "root", 1),
]


@pytest.mark.parametrize("sound, typo, directive, occurrence", TYPOS, ids=[t[1] for t in TYPOS])
def test_each_typo_is_reported_at_its_file_and_line(site, sound, typo, directive, occurrence):
    root, write = site
    assert SITE_CONF.count(sound) == 1, sound
    config = write(SITE_CONF.replace(sound, typo))
    typo_line = typo.split("\n")[0].replace("{T}", str(root))
    line = line_of(config, typo_line, occurrence)
    errors = located(run("nginx", config))
    assert (str(config), line, directive) in errors, errors


def test_typo_in_tenant_fallback_is_checked_under_the_dynamic_root_only_as_a_prefix(site):
    root, write = site
    # /index.html under a root with variables cannot be checked: nothing reported.
    report = run("nginx", write())
    assert not [r for r in report.references if r["kind"] == "try_files" and "tenants" in r["path"]]
    tenant_roots = [r["path"] for r in report.references if r["kind"] == "root" and "tenants" in r["path"]]
    assert tenant_roots == ["%s/tenants" % root]


def test_sockets_are_not_checked_when_told_so(site):
    root, write = site
    config = write(SITE_CONF.replace("run/php.sock", "run/php7.0-fpm.sock"))
    assert located(run("nginx", config, check_sockets=False)) == []
    assert located(run("nginx", config, check_sockets=True))


def test_a_file_where_a_socket_belongs_is_an_error(site):
    root, write = site
    (root / "run" / "not-a-socket").write_text("")
    config = write(SITE_CONF.replace("run/php.sock", "run/not-a-socket"))
    messages = [f["message"] for f in run("nginx", config).findings if f["severity"] == "error"]
    assert "%s/run/not-a-socket is not a unix socket" % root in messages


def test_location_for_a_missing_directory_is_not_an_error(site):
    root, write = site
    # /not-on-disk/ has no directory under the root and only try_files =404.
    report = run("nginx", write())
    assert not [f for f in report.findings if "not-on-disk" in (f["path"] or "")]


def test_missing_non_glob_include_is_an_error_and_glob_without_match_is_not(site):
    root, write = site
    config = write(SITE_CONF.replace("include conf.d/*.conf;", "include conf.d/site.conf;"))
    report = run("nginx", config)
    assert located(report) == [(str(config), 6, "include")]
    assert report.findings[0]["path"] == "%s/conf/conf.d/site.conf" % root


def test_try_files_fallback_reaching_php_location_uses_script_filename(site):
    root, write = site
    # The fallback /index.php is served by `location ~ \.php$`, whose
    # SCRIPT_FILENAME is $document_root$fastcgi_script_name.
    config = write(SITE_CONF.replace("root {T}/www;", "root {T}/www;\n        # moved"))
    os.rename(str(root / "www" / "index.php"), str(root / "www" / "index.php.bak"))
    errors = [f for f in run("nginx", config).findings if f["severity"] == "error"]
    assert {(f["directive"], f["path"]) for f in errors} == {
        ("index", "%s/www/index.php" % root),
        ("try_files", "%s/www/index.php" % root),
    }


def test_path_map_checks_a_staged_release_as_if_live(make_tree, tmp_path):
    make_tree({
        "etc/nginx.conf": "http {\n  include /srv/shop/current/nginx/*.conf;\n}\n",
        "srv/shop/releases/v2/nginx/shop.conf": (
            "server {\n"
            "  root /srv/shop/current/app;\n"
            "  index index.php;\n"
            "  location ~ \\.php$ {\n"
            "    fastcgi_param SCRIPT_FILENAME /srv/shop/current/app/front.php;\n"
            "    fastcgi_pass unix:/run/php/php8.2-fpm.sock;\n"
            "  }\n"
            "}\n"
        ),
        "srv/shop/releases/v2/app/index.php": "<?php\n",
    })
    staged = str(tmp_path / "srv/shop/releases/v2")
    report = run("nginx", tmp_path / "etc/nginx.conf", {"/srv/shop/current": staged}, check_sockets=False)
    errors = [f for f in report.findings if f["severity"] == "error"]
    assert [(f["file"], f["line"], f["path"]) for f in errors] == [
        (staged + "/nginx/shop.conf", 5, "/srv/shop/current/app/front.php"),
    ]
    assert errors[0]["message"] == (
        "/srv/shop/current/app/front.php does not exist (looked for at %s/app/front.php)" % staged)
    # index.php is found, but a request for it runs front.php, which is missing.
    assert report.php_entrypoints == []


def test_alias_in_a_regex_php_location_is_not_a_crash_and_its_script_path_is_left_dynamic(tmp_path):
    # The file such a request reaches depends on the regex's captures: it is
    # not guessed, and the missing alias target is still an error.
    conf = tmp_path / "nginx.conf"
    conf.write_text("events {}\nhttp {\n  server {\n    listen 80;\n    root %s/www;\n"
                    "    location ~ \\.php$ {\n      alias %s/nowhere/;\n"
                    "      fastcgi_pass unix:%s/php.sock;\n"
                    "      fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;\n    }\n  }\n}\n"
                    % (tmp_path, tmp_path, tmp_path))
    (tmp_path / "www").mkdir()
    sock = bind_socket(str(tmp_path / "php.sock"))
    try:
        report = run("nginx", conf)
    finally:
        sock.close()
    assert located(report) == [(str(conf), line_of(str(conf), "      alias "), "alias")]
