"""The preview's rewriting (preview_rewrite.py) on Debian's own files (see
debian_configs/README.md) and the demo releases: nothing of what the result
configures reaches a live port, socket, pid file, log or directory, and
every line keeps its number."""

import os

import pytest

from ansible_collections.lastgood.webstack.plugins.module_utils._webconf import nginx_parse
from ansible_collections.lastgood.webstack.plugins.module_utils._webconf.apache_parse import logical_lines, split_args
from ansible_collections.lastgood.webstack.plugins.module_utils._webconf.fpm import pool_listens
from ansible_collections.lastgood.webstack.plugins.module_utils._webconf.preview_rewrite import (
    Layout,
    rewrite_apache,
    rewrite_nginx,
    rewrite_php_fpm,
)

HERE = os.path.dirname(os.path.abspath(__file__))
DEBIAN = os.path.join(HERE, "debian_configs", "etc")
RELEASES = os.path.join(HERE, "..", "..", "..", "..", "molecule", "resources", "releases")
RUN = "/run/lastgood-preview/p-test"
PORT = 41234
LISTEN = "127.0.0.1:%d" % PORT


def read(*parts):
    with open(os.path.join(*parts)) as handle:
        return handle.read()


@pytest.fixture
def layout():
    included = []

    def relocate(pattern):
        """As Preview does: a pattern outside the copies (here any absolute one) moves."""
        included.append(pattern)
        return "/outside" + pattern if pattern.startswith("/") else pattern
    preview = Layout(RUN, PORT, relocate)
    preview.included = included
    return preview


def with_debian_pool(layout):
    rewrite_php_fpm(read(DEBIAN, "php/8.2/fpm/pool.d/www.conf"), layout)
    return layout


def directives(text):
    """(name, args) of every directive of an nginx text, blocks walked."""
    found = []

    def walk(block):
        for directive in block:
            found.append((directive.name, directive.args))
            walk(directive.block or [])
    walk(nginx_parse.parse(text))
    return found


def same_lines(before, after, added_at_end=0):
    assert after.count("\n") == before.count("\n") + added_at_end


# nginx ------------------------------------------------------------------------

def test_debian_nginx_conf_gets_the_preview_pid_logs_and_temporary_paths(layout):
    text = read(DEBIAN, "nginx/nginx.conf")
    new = rewrite_nginx(text, layout, main=True)
    same_lines(text, new)
    found = directives(new)
    assert ("pid", [RUN + "/nginx.pid"]) in found
    assert [args for name, args in found if name == "pid"] == [[RUN + "/nginx.pid"]]
    assert ("worker_processes", ["1"]) in found
    assert ("error_log", [RUN + "/logs/nginx-error.log"]) in found
    assert ("access_log", [RUN + "/logs/nginx-access.log"]) in found
    assert ("fastcgi_temp_path", [RUN + "/tmp/fastcgi"]) in found
    assert ("client_body_temp_path", [RUN + "/tmp/client_body"]) in found
    paths = [arg for _name, args in found for arg in args if arg.startswith(("/var/", "/run/"))]
    assert [path for path in paths if not path.startswith(RUN)] == []
    # Includes inside the copy are the caller's to keep: the layout is asked.
    assert "/etc/nginx/sites-enabled/*" in layout.included


def test_debian_default_site_listens_once_on_the_preview_port(layout):
    text = read(DEBIAN, "nginx/sites-available/default")
    new = rewrite_nginx(text, layout)
    same_lines(text, new)
    listens = [args for name, args in directives(new) if name == "listen"]
    # Two server blocks (the commented-out example stays a comment), each with one listener.
    assert listens == [[LISTEN]]
    assert "default_server" not in "".join(line for line in new.splitlines() if not line.strip().startswith("#"))


def test_nginx_listens_of_every_kind_become_one_per_server(layout):
    text = ("server {\n  listen 80 default_server;\n  listen [::]:80 default_server ipv6only=on;\n"
            "  listen 443 ssl http2 reuseport;\n  listen unix:/run/nginx.sock;\n  ssl on;\n}\n"
            "server { server_name b; }\n"
            "upstream php { server unix:/run/php/php8.2-fpm.sock; server 10.0.0.1:9000; }\n")
    new = rewrite_nginx(text, with_debian_pool(layout))
    same_lines(text, new)
    found = directives(new)
    assert [args for name, args in found if name == "listen"] == [[LISTEN], [LISTEN]]
    assert ("ssl", ["on"]) not in found
    assert ("server", ["unix:%s/sock/www.sock" % RUN]) in found
    assert ("server", ["10.0.0.1:9000"]) in found


def test_nginx_stream_and_mail_servers_are_dropped_and_lua_left_alone(layout):
    text = ("stream {\n  server { listen 5353 udp; proxy_pass 10.0.0.1:53; }\n}\n"
            "mail { server { listen 25; } }\n"
            "http { server { content_by_lua_block { ngx.say('listen 1; }') } } }\n")
    new = rewrite_nginx(text, layout, main=True)
    same_lines(text, new)
    found = directives(new)
    assert [name for name, _args in found if name in ("stream", "mail")] == []
    assert [args for name, args in found if name == "listen"] == [[LISTEN]]
    assert "ngx.say('listen 1; }')" in new


def test_nginx_keys_of_a_map_are_left_alone_and_its_pool_sockets_mapped(layout):
    text = "http { map $host $backend { listen 1; server unix:/run/php/php8.2-fpm.sock; } }\n"
    found = directives(rewrite_nginx(text, with_debian_pool(layout)))
    assert ("listen", ["1"]) in found
    assert ("server", ["unix:%s/sock/www.sock" % RUN]) in found


def test_nginx_caches_and_logs_of_a_site_go_to_the_preview(layout):
    text = ("fastcgi_cache_path /var/cache/nginx/php levels=1:2 keys_zone=php:10m;\n"
            "server { access_log /var/log/nginx/$host.log combined buffer=32k; access_log off;\n"
            "  error_log syslog:server=unix:/dev/log warn; }\n")
    found = directives(rewrite_nginx(text, layout))
    cache = [args for name, args in found if name == "fastcgi_cache_path"][0]
    assert cache[0].startswith(RUN + "/cache/") and cache[1:] == ["levels=1:2", "keys_zone=php:10m"]
    assert ("access_log", [RUN + "/logs/nginx-access.log", "combined", "buffer=32k"]) in found
    assert ("access_log", ["off"]) in found
    assert ("error_log", [RUN + "/logs/nginx-error.log", "warn"]) in found


@pytest.mark.parametrize("release", ["demo-v1", "demo-v3-pool"])
def test_demo_release_nginx_reaches_the_preview_pool(layout, release):
    pool = os.path.join(RELEASES, release, "php-fpm", "demo.conf")
    if os.path.exists(pool):
        rewrite_php_fpm(read(pool), layout)
    else:
        with_debian_pool(layout)
    text = read(RELEASES, release, "nginx", "demo.conf")
    new = rewrite_nginx(text, layout)
    same_lines(text, new)
    found = directives(new)
    assert [args for name, args in found if name == "listen"] == [[LISTEN]]
    socket = "www" if release == "demo-v1" else "lastgood-demo"
    assert ("fastcgi_pass", ["unix:%s/sock/%s.sock" % (RUN, socket)]) in found
    # The release's paths are path_map's to change, not the rewriting's.
    assert ("root", ["/srv/lastgood/demo/current/app"]) in found


def test_nginx_fastcgi_to_a_tcp_pool_becomes_its_socket(layout):
    rewrite_php_fpm("[tcp]\nlisten = 9000\npm = dynamic\n", layout)
    found = directives(rewrite_nginx("server { location / { fastcgi_pass 127.0.0.1:9000; } "
                                     "location /x { fastcgi_pass 127.0.0.1:9001; } }", layout))
    assert ("fastcgi_pass", ["unix:%s/sock/tcp.sock" % RUN]) in found
    assert ("fastcgi_pass", ["127.0.0.1:9001"]) in found


# Apache -----------------------------------------------------------------------

def apache_directives(text):
    found = []
    for _line, line in logical_lines(text):
        words = line.split(None, 1)
        found.append((words[0], split_args(words[1]) if len(words) > 1 else []))
    return found


def test_debian_apache2_conf_gets_the_preview_pid_run_dir_log_and_listener(layout):
    text = read(DEBIAN, "apache2/apache2.conf")
    new = rewrite_apache(text, layout, main=True)
    same_lines(text, new, added_at_end=4)
    assert new.startswith(text.split("DefaultRuntimeDir")[0])
    found = apache_directives(new)
    assert ("DefaultRuntimeDir", [RUN + "/run"]) in found
    assert [args for name, args in found if name == "PidFile"] == [[RUN + "/apache2.pid"]] * 2
    assert [args for name, args in found if name == "ErrorLog"] == [[RUN + "/logs/apache-error.log"]] * 2
    assert [args for name, args in found if name == "Listen"] == [[LISTEN]]
    assert "Include ports.conf" in new and "IncludeOptional sites-enabled/*.conf" in new


def test_debian_ports_conf_listens_on_nothing(layout):
    text = read(DEBIAN, "apache2/ports.conf")
    new = rewrite_apache(text, layout)
    same_lines(text, new)
    assert [name for name, _args in apache_directives(new) if name.lower() == "listen"] == []
    assert "#\tListen 443" in new


def test_debian_default_vhost_is_on_the_preview_port_with_its_logs_there(layout):
    text = read(DEBIAN, "apache2/sites-available/000-default.conf")
    new = rewrite_apache(text, layout)
    same_lines(text, new)
    found = apache_directives(new)
    assert ("<VirtualHost", ["%s>" % LISTEN]) in found
    assert ("ErrorLog", [RUN + "/logs/apache-error.log"]) in found
    assert ("CustomLog", [RUN + "/logs/apache-access.log", "combined"]) in found


def test_apache_runtime_paths_and_ssl_go_to_the_preview(layout):
    text = ("ServerRoot /etc/apache2\nMutex file:/var/lock/apache2 default\nScoreBoardFile /run/apache2/sb\n"
            "<VirtualHost 10.0.0.1:443 [::]:443>\nSSLEngine on\n"
            "SSLSessionCache shmcb:/run/apache2/ssl_scache(512000)\n"
            "CustomLog \"|/usr/bin/rotatelogs /var/log/x.%Y 86400\" combined env=!dontlog\n</VirtualHost>\n")
    new = rewrite_apache(text, layout)
    same_lines(text, new)
    found = apache_directives(new)
    assert ("ServerRoot", ["/etc/apache2"]) not in found
    assert ("Mutex", ["file:%s/lock" % RUN, "default"]) in found
    assert ("ScoreBoardFile", [RUN + "/apache2.scoreboard"]) in found
    assert ("<VirtualHost", ["%s>" % LISTEN]) in found
    assert ("SSLEngine", ["off"]) in found
    assert ("SSLSessionCache", ["shmcb:%s/sslsessioncache(512000)" % RUN]) in found
    assert ("CustomLog", [RUN + "/logs/apache-access.log", "combined", "env=!dontlog"]) in found


def test_demo_release_apache_reaches_the_preview_pool(layout):
    text = read(RELEASES, "demo-v1", "apache", "demo.conf")
    new = rewrite_apache(text, with_debian_pool(layout))
    same_lines(text, new)
    assert 'SetHandler "proxy:unix:%s/sock/www.sock|fcgi://localhost"' % RUN in new
    assert "<VirtualHost %s>" % LISTEN in new


def test_apache_fcgi_to_a_tcp_pool_becomes_its_socket(layout):
    rewrite_php_fpm("[tcp]\nlisten = 127.0.0.1:9000\n", layout)
    text = ('ProxyPassMatch "^/(.*\\.php)$" "fcgi://127.0.0.1:9000/var/www/$1"\n'
            'SetHandler "proxy:fcgi://localhost:9000"\nProxyPass /other fcgi://10.0.0.2:9000/\n')
    new = rewrite_apache(text, layout)
    sock = "%s/sock/tcp.sock" % RUN
    assert '"unix:%s|fcgi://127.0.0.1:9000/var/www/$1"' % sock in new
    assert '"proxy:unix:%s|fcgi://localhost:9000"' % sock in new
    assert "ProxyPass /other fcgi://10.0.0.2:9000/" in new


# PHP-FPM ----------------------------------------------------------------------

def fpm_settings(text):
    found = []
    section = None
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped[0] in ";#":
            continue
        if stripped.startswith("["):
            section = stripped.strip("[]")
            continue
        key, _equals, value = stripped.partition("=")
        found.append((section, key.strip(), value.strip()))
    return found


def test_debian_php_fpm_conf_pid_and_log_go_to_the_preview(layout):
    text = read(DEBIAN, "php/8.2/fpm/php-fpm.conf")
    new = rewrite_php_fpm(text, layout)
    same_lines(text, new)
    found = fpm_settings(new)
    assert ("global", "pid", RUN + "/php-fpm.pid") in found
    assert ("global", "error_log", RUN + "/logs/php-fpm.log") in found
    assert layout.included == ["/etc/php/8.2/fpm/pool.d/*.conf"]
    assert ("global", "include", "/outside/etc/php/8.2/fpm/pool.d/*.conf") in found


def test_debian_www_pool_listens_on_a_preview_socket_on_demand(layout):
    text = read(DEBIAN, "php/8.2/fpm/pool.d/www.conf")
    new = rewrite_php_fpm(text, layout)
    same_lines(text, new)
    assert pool_listens(new) == [(41, "www", RUN + "/sock/www.sock")]
    found = fpm_settings(new)
    assert ("www", "pm", "ondemand") in found
    assert ("www", "pm.max_children", "5") in found
    assert ("www", "listen.owner", "www-data") in found
    assert layout.sockets.items() == [("/run/php/php8.2-fpm.sock", RUN + "/sock/www.sock")]


def test_demo_release_pool_with_pool_variable(layout):
    text = read(RELEASES, "demo-v3-pool", "php-fpm", "demo.conf")
    new = rewrite_php_fpm(text, layout)
    same_lines(text, new)
    assert pool_listens(new) == [(5, "lastgood-demo", RUN + "/sock/lastgood-demo.sock")]
    assert ("lastgood-demo", "pm", "ondemand") in fpm_settings(new)
    assert layout.sockets.for_unix("/run/php/lastgood-demo.sock") == RUN + "/sock/lastgood-demo.sock"


def test_no_listen_of_a_pool_survives(layout):
    text = ("; included into a pool\nlisten = /run/php/live.sock\n"
            "[a]\nlisten = /run/php/a.sock\nlisten = /run/php/a2.sock\npm.status_listen = 127.0.0.1:9001\n"
            "listen.allowed_clients = 127.0.0.1\nslowlog = /var/log/a.slow\n"
            "php_admin_value[error_log] = /var/log/a.log\n"
            "[b]\nuser = www-data\n")
    new = rewrite_php_fpm(text, layout)
    found = fpm_settings(new)
    listens = [(section, value) for section, key, value in found if key in ("listen", "pm.status_listen")]
    assert listens == [("a", RUN + "/sock/a.sock"), ("a", RUN + "/sock/a.status.sock"),
                       ("b", RUN + "/sock/b.sock")]
    assert ("b", "pm", "ondemand") in found
    assert ("a", "slowlog", RUN + "/logs/fpm-slow.log") in found
    assert ("a", "php_admin_value[error_log]", RUN + "/logs/php-errors.log") in found
    assert "listen.allowed_clients" not in [key for _section, key, _value in found]


def test_a_long_pool_name_still_fits_a_socket_path(layout):
    path = layout.pool_socket("x" * 200)
    assert len(path) <= 107 and path.startswith(RUN + "/sock/")
