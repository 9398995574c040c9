"""PHP-FPM pool files: which sockets they listen on."""

from ansible_collections.lastgood.webstack.plugins.module_utils._webconf.fpm import pool_listens, unix_sockets

POOLS = """; a comment
[global]
error_log = /var/log/fpm.log
listen = /not/a/pool.sock

[shop]
user = www-data
listen = /run/php/$pool.sock
;listen = /run/php/commented.sock
# listen = /run/php/hashed.sock

[api]
listen = "/run/php/api.sock"
[tcp]
listen = 127.0.0.1:9000
[port]
listen=9001 ; inline comment
"""


def test_pool_listens_with_line_pool_and_pool_variable():
    assert pool_listens(POOLS) == [
        (8, "shop", "/run/php/shop.sock"),
        (13, "api", "/run/php/api.sock"),
        (15, "tcp", "127.0.0.1:9000"),
        (17, "port", "9001"),
    ]


def test_unix_sockets_are_the_absolute_paths_only():
    assert unix_sockets(POOLS) == ["/run/php/shop.sock", "/run/php/api.sock"]


def test_settings_before_any_section_are_not_a_pool():
    assert unix_sockets("listen = /run/x.sock\n") == []
