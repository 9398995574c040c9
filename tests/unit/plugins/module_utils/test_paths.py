import os
import socket

from ansible_collections.lastgood.webstack.plugins.module_utils._common.paths import (
    FileSystem,
    PathMap,
    describe_missing,
    static_prefix,
    static_prefix_dir,
)


def test_path_map_matches_whole_components_and_longest_prefix():
    path_map = PathMap({
        "/srv/lastgood/shop/current": "/srv/lastgood/shop/releases/v2",
        "/srv/lastgood/shop/current/app/vendor": "/opt/vendor",
    })
    assert path_map.apply("/srv/lastgood/shop/current/app/index.php") == "/srv/lastgood/shop/releases/v2/app/index.php"
    assert path_map.apply("/srv/lastgood/shop/current") == "/srv/lastgood/shop/releases/v2"
    assert path_map.apply("/srv/lastgood/shop/current/app/vendor/a.php") == "/opt/vendor/a.php"
    assert path_map.apply("/srv/lastgood/shop/currently/x") == "/srv/lastgood/shop/currently/x"
    assert path_map.apply("/etc/nginx/nginx.conf") == "/etc/nginx/nginx.conf"


def test_path_map_root_prefix_works_like_a_chroot_and_unapply_inverts():
    path_map = PathMap({"/": "/tmp/root", "/etc/nginx/": "/tmp/nginx/"})
    assert path_map.apply("/usr/share/wordpress/index.php") == "/tmp/root/usr/share/wordpress/index.php"
    assert path_map.apply("/etc/nginx/nginx.conf") == "/tmp/nginx/nginx.conf"
    assert path_map.unapply("/tmp/root/usr/share/x") == "/usr/share/x"
    assert path_map.unapply("/tmp/nginx/sites/a") == "/etc/nginx/sites/a"
    assert not PathMap({})
    assert PathMap({}).apply("/a") == "/a"


def test_static_prefix_and_its_directory():
    assert static_prefix("/var/www/$host/public") == ("/var/www/", True)
    assert static_prefix("/var/www/html") == ("/var/www/html", False)
    assert static_prefix_dir("/var/www/") == "/var/www"
    assert static_prefix_dir("/var/www/site_") == "/var/www"
    assert static_prefix_dir("relative/") is None


def test_file_system_kinds(tmp_path):
    (tmp_path / "dir").mkdir()
    (tmp_path / "file").write_text("x")
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    sock_path = str(tmp_path / "php.sock")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(sock_path)
    try:
        fs = FileSystem()
        assert fs.is_dir(str(tmp_path / "dir")) and not fs.is_file(str(tmp_path / "dir"))
        assert fs.is_file(str(tmp_path / "file")) and not fs.is_dir(str(tmp_path / "file"))
        assert fs.is_socket(sock_path) and not fs.is_file(sock_path)
        assert not fs.exists(str(tmp_path / "missing"))
        assert not fs.exists(str(tmp_path / "loop"))
        assert describe_missing(str(tmp_path / "loop")) == "is a symlink loop"
        assert describe_missing(str(tmp_path / "file" / "below")) == "does not exist (a parent is not a directory)"
        assert describe_missing(str(tmp_path / "missing")) == "does not exist"
        # One stat per path: a file created after the first look is not seen.
        (tmp_path / "missing").write_text("late")
        assert not fs.exists(str(tmp_path / "missing"))
        assert os.path.exists(str(tmp_path / "missing"))
    finally:
        sock.close()
