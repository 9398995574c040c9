import pytest

from ansible_collections.lastgood.webstack.tests.unit.plugins.module_utils.webrefs_helpers import (
    bind_socket,
    line_of,
    located,
    run,
)

MAIN_CONF = """\
ServerRoot "{T}/conf"
Define SITE_DIR {T}/www
LoadModule alias_module {T}/modules/mod_alias.so
<IfModule mod_alias.c>
    Alias /icons/ "{T}/icons/"
</IfModule>
<IfModule mod_ssl.c>
    SSLCertificateFile {T}/ssl/never-loaded.pem
</IfModule>
<IfDefine !NO_SITE>
    IncludeOptional sites/*.conf
</IfDefine>
IncludeOptional conf.d/*.conf
ErrorLog logs/error.log
"""

SITE_CONF = """\
<VirtualHost *:443>
    ServerName shop.example
    DocumentRoot ${SITE_DIR}
    DirectoryIndex index.php index.html
    FallbackResource /index.php
    ErrorDocument 404 /errors/404.html
    ErrorDocument 500 "Server error"
    Alias /media {T}/media
    AliasMatch "^/docs/(.*)$" "{T}/docs/$1"
    ScriptAlias /cgi-bin/ {T}/cgi-bin/
    SSLCertificateFile {T}/ssl/shop.pem
    SSLCertificateKeyFile \\
        {T}/ssl/shop.key
    CustomLog {T}/log/shop.access.log combined
    php_admin_value auto_append_file {T}/www/append.php
    SetEnv PHP_VALUE "auto_prepend_file={T}/www/prepend.php"
    php_value include_path ".:{T}/lib"
    RewriteMap lower txt:{T}/maps/lower.txt
    <FilesMatch "\\.php$">
        SetHandler "proxy:unix:{T}/run/php.sock|fcgi://localhost"
    </FilesMatch>
    ProxyPassMatch "^/api/(.*)$" "unix:{T}/run/api.sock|fcgi://localhost/{T}/www/api/$1"
    <Directory {T}/www/admin>
        AuthType Basic
        AuthUserFile {T}/htpasswd
        DirectoryIndex admin.php
    </Directory>
    <Directory {T}/www/gone>
        Require all denied
    </Directory>
    <Location /status>
        SetHandler server-status
    </Location>
</VirtualHost>
"""

FILES = {
    "conf/sites": None,
    "conf/logs": None,
    "modules/mod_alias.so": "",
    "icons": None,
    "www/index.php": "<?php\n",
    "www/append.php": "<?php\n",
    "www/prepend.php": "<?php\n",
    "www/errors/404.html": "",
    "www/admin/admin.php": "<?php\n",
    "www/api": None,
    "media": None,
    "docs": None,
    "cgi-bin": None,
    "ssl/shop.pem": "",
    "ssl/shop.key": "",
    "log": None,
    "maps/lower.txt": "",
    "htpasswd": "",
}


@pytest.fixture
def site(make_tree, tmp_path):
    make_tree(FILES)
    sockets = [bind_socket(str(tmp_path / "run" / name)) for name in ("php.sock", "api.sock")]

    def write(site_text=SITE_CONF, main_text=MAIN_CONF):
        main = tmp_path / "conf" / "apache2.conf"
        main.write_text(main_text.replace("{T}", str(tmp_path)))
        site_path = tmp_path / "conf" / "sites" / "shop.conf"
        site_path.write_text(site_text.replace("{T}", str(tmp_path)))
        return main, site_path

    yield tmp_path, write
    for sock in sockets:
        sock.close()


def test_sound_site_has_no_error(site):
    root, write = site
    main, _site = write()
    report = run("apache", main)
    assert [f for f in report.findings if f["severity"] == "error"] == []
    # <Directory> of a path that is not there breaks nothing: a warning.
    assert [(f["severity"], f["directive"]) for f in report.findings if f["severity"] != "info"] == [
        ("warning", "Directory")]
    assert set(report.php_entrypoints) == {
        "%s/www/%s" % (root, name) for name in ("index.php", "append.php", "prepend.php", "admin/admin.php")}
    assert "%s/www" % root in report.php_roots
    assert report.php_include_path == [".:%s/lib" % root]


TYPOS = [
    ("DocumentRoot ${SITE_DIR}", "DocumentRoot ${SITE_DIR}x", "DocumentRoot"),
    ("DirectoryIndex index.php index.html", "DirectoryIndex index.phtml default.htm", "DirectoryIndex"),
    ("FallbackResource /index.php", "FallbackResource /index.phpp", "FallbackResource"),
    ("ErrorDocument 404 /errors/404.html", "ErrorDocument 404 /errors/404.htm", "ErrorDocument"),
    ("Alias /media {T}/media", "Alias /media {T}/medias", "Alias"),
    ('"{T}/docs/$1"', '"{T}/doc/$1"', "AliasMatch"),
    ("ScriptAlias /cgi-bin/ {T}/cgi-bin/", "ScriptAlias /cgi-bin/ {T}/cgi/", "ScriptAlias"),
    ("SSLCertificateFile {T}/ssl/shop.pem", "SSLCertificateFile {T}/ssl/shop.crt", "SSLCertificateFile"),
    ("{T}/ssl/shop.key", "{T}/ssl/shop.kye", "SSLCertificateKeyFile"),
    ("CustomLog {T}/log/", "CustomLog {T}/logs/", "CustomLog"),
    ("auto_append_file {T}/www/append.php", "auto_append_file {T}/www/apend.php", "php_admin_value"),
    ("auto_prepend_file={T}/www/prepend.php", "auto_prepend_file={T}/www/prepend.phpp", "SetEnv"),
    ("txt:{T}/maps/lower.txt", "txt:{T}/maps/lowercase.txt", "RewriteMap"),
    ("proxy:unix:{T}/run/php.sock|", "proxy:unix:{T}/run/php7.4-fpm.sock|", "SetHandler"),
    ("unix:{T}/run/api.sock|", "unix:{T}/run/api2.sock|", "ProxyPassMatch"),
    ("AuthUserFile {T}/htpasswd", "AuthUserFile {T}/htpasswd.users", "AuthUserFile"),
    ("DirectoryIndex admin.php", "DirectoryIndex admin.html", "DirectoryIndex"),
]


@pytest.mark.parametrize("sound, typo, directive", TYPOS, ids=[t[1] for t in TYPOS])
def test_each_typo_is_reported_at_its_file_and_line(site, sound, typo, directive):
    root, write = site
    assert SITE_CONF.count(sound) == 1, sound
    main, site_path = write(SITE_CONF.replace(sound, typo))
    line = line_of(site_path, typo.replace("{T}", str(root)).replace("${SITE_DIR}", "${SITE_DIR}"))
    if directive == "SSLCertificateKeyFile":
        line -= 1  # the directive starts on the line the continuation ends
    errors = located(run("apache", main))
    assert (str(site_path), line, directive) in errors, errors


@pytest.mark.parametrize("sound, typo, directive", [
    ("LoadModule alias_module {T}/modules/mod_alias.so", "LoadModule alias_module {T}/module/mod_alias.so",
     "LoadModule"),
    ('Alias /icons/ "{T}/icons/"', 'Alias /icons/ "{T}/icon/"', "Alias"),
    ("ErrorLog logs/error.log", "ErrorLog log/error.log", "ErrorLog"),
    ("IncludeOptional conf.d/*.conf", "Include conf.d/extra.conf", "Include"),
])
def test_typos_in_the_main_config(site, sound, typo, directive):
    root, write = site
    main, _site = write(main_text=MAIN_CONF.replace(sound, typo))
    line = line_of(main, typo.replace("{T}", str(root)))
    assert (str(main), line, directive) in located(run("apache", main))


def test_sections_decide_what_is_read(site):
    root, write = site
    # mod_ssl is not loaded, so its section is never read.
    main, _site = write()
    report = run("apache", main)
    assert not [r for r in report.references if "never-loaded" in r["path"]]
    # Without LoadModule, <IfModule mod_alias.c> is skipped too.
    main, _site = write(main_text=MAIN_CONF.replace("LoadModule alias_module", "#LoadModule alias_module")
                        .replace('"{T}/icons/"', '"{T}/missing-icons/"'))
    assert not [f for f in run("apache", main).findings if "missing-icons" in (f["path"] or "")]


def test_relative_paths_resolve_against_server_root(site):
    root, write = site
    main, _site = write()
    report = run("apache", main)
    logs = [r["path"] for r in report.references if r["directive"] == "ErrorLog"]
    assert logs == ["%s/conf/logs" % root]


def test_include_glob_without_match_is_an_apache_error_but_include_optional_is_fine(site):
    root, write = site
    main, _site = write(main_text=MAIN_CONF + "Include extra/*.conf\n")
    report = run("apache", main)
    line = MAIN_CONF.count("\n") + 1
    assert located(report) == [(str(main), line, "Include")]
    main, _site = write(main_text=MAIN_CONF + "IncludeOptional extra/*.conf\n")
    assert located(run("apache", main)) == []


def test_include_loop_is_an_error(site):
    root, write = site
    main, _site = write(main_text=MAIN_CONF + "Include apache2.conf\n")
    errors = [f for f in run("apache", main).findings if f["severity"] == "error"]
    assert len(errors) == 1 and errors[0]["message"].startswith("include loop")


def test_sockets_unchecked_when_told_so(site):
    root, write = site
    main, _site = write(SITE_CONF.replace("run/php.sock", "run/php7.4-fpm.sock"))
    assert located(run("apache", main, check_sockets=False)) == []
    assert located(run("apache", main)) != []


def test_undefined_variable_is_a_warning_with_its_line(site):
    root, write = site
    main, site_path = write(SITE_CONF.replace("${SITE_DIR}", "${SITE_DIRECTORY}"))
    report = run("apache", main)
    warnings = [f for f in report.findings if f["severity"] == "warning" and "SITE_DIRECTORY" in f["message"]]
    assert [(w["file"], w["line"]) for w in warnings] == [(str(site_path), 3)]
