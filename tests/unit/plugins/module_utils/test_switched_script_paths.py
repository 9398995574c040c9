"""web_refs warns, naming the line, when PHP-FPM gets script paths through
the ``current`` link a switch changes (opcache would keep the old release's
code for them), and stays quiet when nginx resolves the path per request
with $realpath_root. On Debian's own nginx and Apache configs, with a
release of a site in place as the deploy validates it (path_map) and as it
is live (a real symlink)."""

import os

import pytest

from ansible_collections.lastgood.webstack.tests.unit.plugins.module_utils.test_debian_configs import copy_config
from ansible_collections.lastgood.webstack.tests.unit.plugins.module_utils.webrefs_helpers import (
    bind_socket,
    line_of,
    located,
    run,
)

SITE = "/srv/lastgood/demo"
DEBIAN_PHP_BLOCK = """
    location ~ \\.php$ {
        include snippets/fastcgi-php.conf;
        fastcgi_pass unix:/run/php/php8.2-fpm.sock;
    }
"""
REALPATH_PHP_BLOCK = """
    location ~ \\.php$ {
        include snippets/fastcgi-php.conf;
        fastcgi_param SCRIPT_FILENAME $realpath_root$fastcgi_script_name;
        fastcgi_param DOCUMENT_ROOT $realpath_root;
        fastcgi_pass unix:/run/php/php8.2-fpm.sock;
    }
"""
APACHE_SITE = """<VirtualHost *:80>
    ServerName demo.test
    DocumentRoot /srv/lastgood/demo/current/app
    <FilesMatch "\\.php$">
        SetHandler "proxy:unix:/run/php/php8.2-fpm.sock|fcgi://localhost"
    </FilesMatch>
</VirtualHost>
"""


@pytest.fixture
def php_socket(tmp_path):
    sock = bind_socket(str(tmp_path / "run" / "php" / "php8.2-fpm.sock"))
    yield str(tmp_path / "run" / "php")
    sock.close()


def release_of(tmp_path, server, site_text):
    """A staged release of the demo site: its config and app/index.php."""
    release = tmp_path / "releases" / "r1"
    (release / server).mkdir(parents=True)
    (release / "app").mkdir()
    (release / "app" / "index.php").write_text("<?php echo 'r1';\n")
    (release / server / "demo.conf").write_text(site_text)
    return release


def nginx_setup(test_root, tmp_path, php_socket, php_block):
    copy, path_map = copy_config(test_root, tmp_path, "nginx")
    os.unlink(str(copy / "sites-enabled" / "default"))
    (copy / "sites-enabled" / "demo.conf").write_text("include %s/current/nginx/*.conf;\n" % SITE)
    release = release_of(tmp_path, "nginx", "server {\n    listen 80;\n    root %s/current/app;\n    index index.php;\n%s}\n"
                         % (SITE, php_block))
    path_map.update({"/run/php": php_socket})
    return copy, release, path_map


def test_nginx_with_debians_php_block_is_warned_about_at_the_script_filename_line(test_root, tmp_path, php_socket):
    copy, release, path_map = nginx_setup(test_root, tmp_path, php_socket, DEBIAN_PHP_BLOCK)
    report = run("nginx", "/etc/nginx/nginx.conf", dict(path_map, **{SITE + "/current": str(release)}))
    assert located(report) == []
    fastcgi_conf = copy / "fastcgi.conf"
    assert located(report, "warning") == [(str(fastcgi_conf), line_of(fastcgi_conf, "SCRIPT_FILENAME"),
                                           "fastcgi_param")]
    message = [finding["message"] for finding in report.findings if finding["severity"] == "warning"][0]
    assert message.startswith("SCRIPT_FILENAME $document_root$fastcgi_script_name reaches PHP-FPM through "
                              "/srv/lastgood/demo/current, a link that a switch of releases changes, in ")
    assert "in http > server (no server_name) > location ~ \\.php$ (%s:%d)" % (
        release / "nginx" / "demo.conf", line_of(release / "nginx" / "demo.conf", "location ~")) in message
    assert "lastgood reloads PHP-FPM gracefully after every switch" in message
    assert "$realpath_root" in message


def test_nginx_with_realpath_root_is_not_warned_about(test_root, tmp_path, php_socket):
    copy, release, path_map = nginx_setup(test_root, tmp_path, php_socket, REALPATH_PHP_BLOCK)
    report = run("nginx", "/etc/nginx/nginx.conf", dict(path_map, **{SITE + "/current": str(release)}))
    assert located(report) == [] and located(report, "warning") == []


def test_a_live_current_symlink_is_found_on_disk(test_root, tmp_path, php_socket):
    copy, release, path_map = nginx_setup(test_root, tmp_path, php_socket, DEBIAN_PHP_BLOCK)
    site_dir = tmp_path / "site"
    site_dir.mkdir()
    os.symlink(str(release), str(site_dir / "current"))
    report = run("nginx", "/etc/nginx/nginx.conf", dict(path_map, **{SITE: str(site_dir)}))
    warnings = [finding for finding in report.findings if finding["severity"] == "warning"]
    assert len(warnings) == 1 and "through /srv/lastgood/demo/current, a link" in warnings[0]["message"]


def test_apache_document_root_through_current_is_warned_about_at_its_line(test_root, tmp_path, php_socket):
    copy, path_map = copy_config(test_root, tmp_path, "apache2")
    os.unlink(str(copy / "sites-enabled" / "000-default.conf"))
    (copy / "sites-enabled" / "demo.conf").write_text("IncludeOptional %s/current/apache/*.conf\n" % SITE)
    release = release_of(tmp_path, "apache", APACHE_SITE)
    path_map.update({"/run/php": php_socket, SITE + "/current": str(release)})
    report = run("apache", "/etc/apache2/apache2.conf", path_map)
    conf = release / "apache" / "demo.conf"
    assert located(report) == []
    assert located(report, "warning") == [(str(conf), line_of(conf, "DocumentRoot"), "DocumentRoot")]
    message = [finding["message"] for finding in report.findings if finding["severity"] == "warning"][0]
    assert message.startswith("DocumentRoot /srv/lastgood/demo/current/app hands PHP-FPM script paths through "
                              "/srv/lastgood/demo/current, a link that a switch of releases changes "
                              "(PHP handler of VirtualHost *:80 (demo.test)): ")
    assert "lastgood reloads PHP-FPM gracefully after every switch" in message


def test_only_the_site_through_current_is_warned_about(test_root, tmp_path, php_socket):
    """Two sites with Debian's PHP block: the one with a real document root,
    read first, gets no warning, and ours still gets its own."""
    copy, release, path_map = nginx_setup(test_root, tmp_path, php_socket, DEBIAN_PHP_BLOCK)
    (copy / "sites-enabled" / "00-plain.conf").write_text(
        "server {\n    listen 8080;\n    root /var/www/html;\n%s}\n" % DEBIAN_PHP_BLOCK)
    report = run("nginx", "/etc/nginx/nginx.conf", dict(path_map, **{SITE + "/current": str(release)}))
    warnings = [finding for finding in report.findings if finding["severity"] == "warning"]
    assert len(warnings) == 1 and "through /srv/lastgood/demo/current, a link" in warnings[0]["message"]
