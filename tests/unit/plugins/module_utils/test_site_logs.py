"""The access and error logs of a site, from the configuration the release
brings (validate()'s access_logs and error_logs, web_refs' too): its own,
else the enclosing level's, else the server's default; what cannot be
watched is an info finding. On Debian's nginx and Apache configurations as
their packages install them, with the site's include line of the site role
and a release under /srv/lastgood/demo."""

import os
import shutil

from ansible_collections.lastgood.webstack.plugins.module_utils._webconf.validate import validate

LIVE = "/srv/lastgood/demo/current"


def debian_site(test_root, tmp_path, server, release_conf, other_site=None):
    """A copy of Debian's config with the demo site's include line (and ``other_site``,
    a site of its own in the server's config), the release's config file,
    and the path map that reads the release as the live one."""
    name = "nginx" if server == "nginx" else "apache2"
    # A root of its own (only the release is read through a path_map prefix
    # besides "/", which is never taken for the release).
    etc = tmp_path / "root" / "etc" / name
    shutil.copytree(os.path.join(test_root, "etc", name), str(etc), symlinks=False)
    if server == "nginx":
        (etc / "sites-enabled" / "demo.conf").write_text("include %s/nginx/*.conf;\n" % LIVE)
        if other_site is not None:
            (etc / "sites-enabled" / "other.conf").write_text(other_site)
    else:
        (etc / "sites-enabled" / "demo.conf").write_text("IncludeOptional %s/apache/*.conf\n" % LIVE)
        if other_site is not None:
            (etc / "sites-enabled" / "other.conf").write_text(other_site)
    release = tmp_path / "releases" / "v1"
    conf = release / ("nginx" if server == "nginx" else "apache") / "demo.conf"
    conf.parent.mkdir(parents=True)
    conf.write_text(release_conf)
    (release / "app").mkdir()
    path_map = {"/": str(tmp_path / "root"), LIVE: str(release)}
    main = "/etc/nginx/nginx.conf" if server == "nginx" else "/etc/apache2/apache2.conf"
    return validate(server, main, path_map=path_map, check_sockets=False), str(conf)


def infos(result):
    return [(finding["line"], finding["path"], finding["message"]) for finding in result.report.findings
            if finding["severity"] == "info" and "log" in finding["message"].lower()]


NGINX_SITE = """server {
    listen 8081;
    server_name demo.test;
    root %s/app;
%s}
""" % (LIVE, "%s")


def test_nginx_a_site_without_logs_of_its_own_writes_to_the_http_blocks(test_root, tmp_path):
    result, _conf = debian_site(test_root, tmp_path, "nginx", NGINX_SITE % "",
                                other_site="server { listen 8082; access_log /var/log/nginx/other.log; }\n")
    # Debian's nginx.conf sets both in http; the other site's log is not the demo's.
    assert result.access_logs == ["/var/log/nginx/access.log"]
    assert result.error_logs == ["/var/log/nginx/error.log"]
    assert infos(result) == []


def test_nginx_the_sites_own_logs_and_those_of_its_locations(test_root, tmp_path):
    result, _conf = debian_site(test_root, tmp_path, "nginx", NGINX_SITE % (
        "    access_log /var/log/nginx/demo.access.log combined;\n"
        "    access_log logs/demo.relative.log;\n"
        "    error_log /var/log/nginx/demo.error.log warn;\n"
        "    location /api/ { access_log /var/log/nginx/demo.api.log; }\n"))
    assert result.access_logs == ["/var/log/nginx/demo.access.log", "/usr/share/nginx/logs/demo.relative.log",
                                  "/var/log/nginx/demo.api.log"]
    assert result.error_logs == ["/var/log/nginx/demo.error.log"]


def test_nginx_a_location_log_adds_to_the_inherited_one(test_root, tmp_path):
    result, _conf = debian_site(test_root, tmp_path, "nginx", NGINX_SITE % (
        "    location /api/ { access_log /var/log/nginx/demo.api.log; }\n"))
    assert result.access_logs == ["/var/log/nginx/access.log", "/var/log/nginx/demo.api.log"]


def test_nginx_without_logs_anywhere_the_built_in_defaults(tmp_path):
    release = tmp_path / "release"
    (release / "nginx").mkdir(parents=True)
    (release / "nginx" / "demo.conf").write_text("server { listen 8081; }\n")
    main = tmp_path / "nginx.conf"
    main.write_text("events {}\nhttp { include %s/nginx/*.conf; }\n" % LIVE)
    result = validate("nginx", str(main), path_map={LIVE: str(release)}, check_sockets=False)
    assert (result.access_logs, result.error_logs) == (["/var/log/nginx/access.log"], ["/var/log/nginx/error.log"])


def test_nginx_logs_that_cannot_be_watched_are_info_findings(test_root, tmp_path):
    result, conf = debian_site(test_root, tmp_path, "nginx", NGINX_SITE % (
        "    access_log off;\n"
        "    access_log syslog:server=unix:/dev/log;\n"
        "    access_log /var/log/nginx/$host.log;\n"
        "    access_log /var/log/nginx/demo.gz.log combined gzip=4;\n"
        "    access_log /var/log/nginx/demo.buffered.log combined buffer=32k flush=5s;\n"
        "    error_log stderr;\n"))
    assert result.access_logs == ["/var/log/nginx/demo.buffered.log"]
    assert result.error_logs == []
    assert [(line, message.split(":")[0]) for line, _path, message in infos(result)] == [
        (5, "access_log off"),
        (6, "access_log goes to syslog"),
        (7, "access_log has variables in its path"),
        (8, "access_log is gzip-compressed"),
        (9, "access_log is buffered"),
        (10, "error_log goes to stderr, not a file"),
    ]
    assert all(finding["file"] == conf for finding in result.report.findings if finding["severity"] == "info"
               and "log" in finding["message"])


def test_nginx_without_a_path_map_every_server_is_the_site(tmp_path):
    main = tmp_path / "nginx.conf"
    main.write_text("error_log /var/log/main.error.log;\nevents {}\nhttp {\n"
                    "  server { access_log /var/log/a.log; }\n  server { access_log /var/log/b.log; }\n}\n")
    result = validate("nginx", str(main), check_sockets=False)
    assert result.access_logs == ["/var/log/a.log", "/var/log/b.log"]
    assert result.error_logs == ["/var/log/main.error.log"]


APACHE_SITE = """<VirtualHost *:8081>
    ServerName demo.test
    DocumentRoot %s/app
%s</VirtualHost>
""" % (LIVE, "%s")


def test_apache_a_vhost_without_logs_of_its_own_writes_to_the_servers(test_root, tmp_path):
    # Debian: ErrorLog in apache2.conf, other_vhosts_access.log in conf-enabled;
    # ${APACHE_LOG_DIR} from envvars. 000-default's own CustomLog is not the demo's.
    result, _conf = debian_site(test_root, tmp_path, "apache", APACHE_SITE % "")
    assert result.access_logs == ["/var/log/apache2/other_vhosts_access.log"]
    assert result.error_logs == ["/var/log/apache2/error.log"]


def test_apache_the_vhosts_own_logs(test_root, tmp_path):
    result, _conf = debian_site(test_root, tmp_path, "apache", APACHE_SITE % (
        "    ErrorLog ${APACHE_LOG_DIR}/demo-error.log\n"
        "    CustomLog ${APACHE_LOG_DIR}/demo-access.log combined\n"
        "    TransferLog logs/demo-transfer.log\n"
        "    CustomLog \"|/usr/bin/rotatelogs /var/log/apache2/demo.%Y 86400\" combined\n"))
    assert result.access_logs == ["/var/log/apache2/demo-access.log", "/etc/apache2/logs/demo-transfer.log"]
    assert result.error_logs == ["/var/log/apache2/demo-error.log"]
    assert [message for _line, _path, message in infos(result)] == [
        "CustomLog goes to a pipe, not a file: not watched"]


def test_apache_with_no_access_log_at_all_says_so(tmp_path):
    release = tmp_path / "release"
    (release / "apache").mkdir(parents=True)
    (release / "apache" / "demo.conf").write_text(APACHE_SITE % "")
    main = tmp_path / "apache2.conf"
    main.write_text("IncludeOptional %s/apache/*.conf\n" % LIVE)
    result = validate("apache", str(main), path_map={LIVE: str(release)}, check_sockets=False)
    assert result.access_logs == []
    assert result.error_logs == ["/etc/apache2/logs/error_log"]
    assert [message.split(":")[0] for _line, _path, message in infos(result)] == [
        "no CustomLog or TransferLog for this VirtualHost or the server"]
