"""Which files nginx's and Apache's own config tests say they loaded, read
from their real output (server_output/, captured from the test images)."""

import os

import pytest

from ansible_collections.lastgood.webstack.plugins.module_utils._webconf.loaded import (
    apache_dump_includes,
    loaded_files,
    nginx_dump_files,
)

OUTPUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "server_output")
RELEASE_NGINX = "/srv/lastgood/demo/current/nginx/demo.conf"
RELEASE_APACHE = "/srv/lastgood/demo/current/apache/demo.conf"


def output(name):
    with open(os.path.join(OUTPUT, name), encoding="utf-8") as handle:
        return handle.read()


@pytest.mark.parametrize("release", ["bookworm", "trixie"])
def test_nginx_dump_lists_every_file_once_with_the_release(release):
    files = nginx_dump_files(output("nginx-T.%s.out" % release))
    assert files == [
        "/etc/nginx/nginx.conf",
        "/etc/nginx/mime.types",
        "/etc/nginx/sites-enabled/demo.conf",
        RELEASE_NGINX,
        "/etc/nginx/snippets/fastcgi-php.conf",
        "/etc/nginx/fastcgi.conf",
    ]
    assert loaded_files("nginx", output("nginx-T.%s.out" % release)) == (files, "")


def test_nginx_dump_without_the_site_include_has_no_release_file():
    assert nginx_dump_files(output("nginx-T-no-include.bookworm.out")) == [
        "/etc/nginx/nginx.conf", "/etc/nginx/mime.types"]


def test_nginx_header_needs_an_absolute_path_and_its_colon():
    text = "# configuration file nginx.conf:\n# configuration file /a.conf\n  # configuration file /b.conf:\n"
    assert nginx_dump_files(text) == []
    assert nginx_dump_files("# configuration file /etc/nginx/a b.conf:\nx;\n") == ["/etc/nginx/a b.conf"]


@pytest.mark.parametrize("release", ["bookworm", "trixie"])
def test_apache_dump_includes_lists_the_main_config_first_and_the_release_last(release):
    files, rest = apache_dump_includes(output("apache-dump-includes.%s.out" % release))
    assert files[0] == "/etc/apache2/apache2.conf"
    assert files[-2:] == ["/etc/apache2/sites-enabled/demo.conf", RELEASE_APACHE]
    assert "/etc/apache2/mods-enabled/proxy_fcgi.load" in files
    assert "/etc/apache2/ports.conf" in files
    assert len(files) == len(set(files)) == 44
    assert rest == ""


def test_apache_dump_includes_without_the_site_include_has_no_release_file():
    files, rest = apache_dump_includes(output("apache-dump-includes-no-include.bookworm.out"))
    assert files[0] == "/etc/apache2/apache2.conf"
    assert files[-1] == "/etc/apache2/conf-enabled/serve-cgi-bin.conf"
    assert not [path for path in files if path.startswith("/srv/")]
    assert rest == ""


def test_apache_failed_test_keeps_its_own_lines_apart_from_the_list():
    files, rest = apache_dump_includes(output("apache-dump-includes-error.bookworm.out"))
    assert files[-2:] == ["/srv/lastgood/demo/current/apache/bad.conf", RELEASE_APACHE]
    assert rest.splitlines() == ["Action '-t -D DUMP_INCLUDES' failed.",
                                 "The Apache error log may have more information."]


def test_apache_lines_that_only_look_like_the_list_stay_output():
    text = "    (1) /etc/apache2/x.conf\nIncluded configuration files:\n  (*) /etc/apache2/apache2.conf\n" \
           "Syntax OK\n    (2) /etc/apache2/y.conf\n"
    assert apache_dump_includes(text) == (["/etc/apache2/apache2.conf"],
                                          "    (1) /etc/apache2/x.conf\nSyntax OK\n    (2) /etc/apache2/y.conf")


def test_php_fpm_lists_no_files():
    assert loaded_files("php-fpm", "[03-Dec-2026 12:19:22] NOTICE: configuration file ok\n") == (
        [], "[03-Dec-2026 12:19:22] NOTICE: configuration file ok\n")
