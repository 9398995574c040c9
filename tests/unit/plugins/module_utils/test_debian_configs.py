"""web_refs on the configurations Debian's packages install, as shipped and
with one typo injected at a time: the nginx default site, the WordPress nginx
example from the wordpress package, Apache with DokuWiki's config."""

import os
import shutil

import pytest

from ansible_collections.lastgood.webstack.tests.unit.plugins.module_utils.webrefs_helpers import (
    bind_socket,
    line_of,
    located,
    run,
)

WORDPRESS_EXAMPLE = "usr/share/doc/wordpress/examples/nginx-wordpress.conf"


def copy_config(test_root, tmp_path, name):
    """A writable copy of /etc/<name> (symlinks followed), and the path map
    that reads it there and everything else from the test tree."""
    copy = tmp_path / name
    shutil.copytree(os.path.join(test_root, "etc", name), str(copy), symlinks=False)
    return copy, {"/": test_root, "/etc/%s" % name: str(copy)}


def errors_of(report):
    return [f for f in report.findings if f["severity"] == "error"]


def test_nginx_default_site_as_shipped_is_sound(test_root):
    report = run("nginx", "/etc/nginx/nginx.conf", {"/": test_root})
    assert errors_of(report) == []
    assert "/var/www/html" in [r["path"] for r in report.references if r["kind"] == "root"]


@pytest.mark.parametrize("sound, typo, directive", [
    ("root /var/www/html;", "root /var/www/htlm;", "root"),
    ("index index.html index.htm index.nginx-debian.html;", "index index.php;", "index"),
])
def test_nginx_default_site_typos(test_root, tmp_path, sound, typo, directive):
    copy, path_map = copy_config(test_root, tmp_path, "nginx")
    site = copy / "sites-enabled" / "default"
    text = site.read_text()
    assert text.count(sound) == 1
    site.write_text(text.replace(sound, typo))
    errors = located(run("nginx", "/etc/nginx/nginx.conf", path_map))
    assert errors == [(str(site), line_of(site, typo), directive)]


@pytest.fixture
def wordpress_site(test_root, tmp_path):
    """nginx with the WordPress example enabled beside the default site."""
    copy, path_map = copy_config(test_root, tmp_path, "nginx")
    site = copy / "sites-enabled" / "wordpress"
    shutil.copyfile(os.path.join(test_root, WORDPRESS_EXAMPLE), str(site))
    return site, path_map


def test_wordpress_example_as_shipped_names_a_php70_socket(wordpress_site):
    site, path_map = wordpress_site
    report = run("nginx", "/etc/nginx/nginx.conf", path_map)
    line = line_of(site, "fastcgi_pass")
    assert [(f["file"], f["line"], f["directive"], f["path"]) for f in errors_of(report)] == [
        (str(site), line, "fastcgi_pass", "/var/run/php7.0-fpm.sock")]
    assert report.php_entrypoints == ["/usr/share/wordpress/index.php"]
    assert "/usr/share/wordpress" in report.php_roots


@pytest.fixture
def php82_socket(tmp_path):
    sock = bind_socket(str(tmp_path / "run-php" / "php8.2-fpm.sock"))
    yield {"/run/php": str(tmp_path / "run-php")}
    sock.close()


def test_wordpress_example_pointed_at_php82_is_sound(wordpress_site, php82_socket):
    site, path_map = wordpress_site
    site.write_text(site.read_text().replace("unix:/var/run/php7.0-fpm.sock", "unix:/run/php/php8.2-fpm.sock"))
    report = run("nginx", "/etc/nginx/nginx.conf", dict(path_map, **php82_socket))
    assert errors_of(report) == []
    assert "/run/php/php8.2-fpm.sock" in [r["path"] for r in report.references if r["kind"] == "socket"]


@pytest.mark.parametrize("sound, typo, directive", [
    ("/usr/share/wordpress;", "/usr/share/wordpres;", "root"),
    ("index                        index.php;", "index index.phpp;", "index"),
    ("/index.php?$args;", "/index.phpp?$args;", "try_files"),
    ("alias /var/lib/wordpress/", "alias /var/lib/wordpres/", "alias"),
    ("include                  /etc/nginx/fastcgi_params;", "include /etc/nginx/fastcgi_param;", "include"),
])
def test_wordpress_example_typos(wordpress_site, php82_socket, sound, typo, directive):
    site, path_map = wordpress_site
    text = site.read_text().replace("unix:/var/run/php7.0-fpm.sock", "unix:/run/php/php8.2-fpm.sock")
    assert text.count(sound) == 1, sound
    site.write_text(text.replace(sound, typo))
    errors = located(run("nginx", "/etc/nginx/nginx.conf", dict(path_map, **php82_socket)))
    assert (str(site), line_of(site, typo.strip()), directive) in errors, errors


def test_apache_with_dokuwiki_as_shipped_is_sound(test_root):
    report = run("apache", "/etc/apache2/apache2.conf", {"/": test_root})
    assert errors_of(report) == []
    dokuwiki = [r for r in report.references if r["path"].startswith("/usr/share/dokuwiki")]
    assert {r["directive"] for r in dokuwiki} == {"Alias", "AliasMatch", "Directory"}
    assert all(r["exists"] for r in dokuwiki)
    # Debian's envvars give APACHE_LOG_DIR.
    assert "/var/log/apache2" in [r["path"] for r in report.references if r["directive"] == "ErrorLog"]


@pytest.mark.parametrize("sound, typo, directive, severity", [
    ("Alias      /dokuwiki                    /usr/share/dokuwiki/",
     "Alias      /dokuwiki                    /usr/share/dokuwik/", "Alias", "error"),
    ("[^/]+$      /usr/share/dokuwiki/", "[^/]+$      /usr/share/dokuwik/", "AliasMatch", "error"),
    ("<Directory /usr/share/dokuwiki/bin>", "<Directory /usr/share/dokuwiki/bim>", "Directory", "warning"),
])
def test_dokuwiki_typos(test_root, tmp_path, sound, typo, directive, severity):
    copy, path_map = copy_config(test_root, tmp_path, "apache2")
    conf = copy / "conf-enabled" / "dokuwiki.conf"
    text = conf.read_text()
    assert text.count(sound) == 1, sound
    conf.write_text(text.replace(sound, typo))
    report = run("apache", "/etc/apache2/apache2.conf", path_map)
    assert located(report, severity) == [(str(conf), line_of(conf, typo), directive)]
    if severity == "warning":
        assert errors_of(report) == []
