"""What a bundle may not bring into a release, the modes of what is staged,
and a full disk while staging: refused or mended with a message, the live
release untouched."""

import os
import stat
import subprocess

import pytest

from ansible_collections.lastgood.webstack.tests.unit.plugins.modules.test_release import V1, V2


@pytest.mark.parametrize("name, target, why", [
    ("app/passwd", "/etc/passwd", "an absolute target"),
    ("app/up", "../../..", "its .. climbs out of the release"),
    # Inside by its text, outside through app/root, a link checked after it.
    ("app/a", "root/..", None),
])
def test_a_symlink_out_of_the_bundle_is_refused(env, name, target, why):
    base, source, call = env
    src = source("v1", V1)
    if why is None:
        os.symlink("/", os.path.join(src, "app", "root"))
    os.symlink(target, os.path.join(src, name))
    message = call(expect_ok=False, release_id="v1", state="staged", src=src)["msg"]
    assert message.startswith("%s is a symlink to %s, outside the release (" % (name, target)), message
    if why:
        assert "(%s)" % why in message
    else:
        assert "through other links" in message
    assert "nothing was staged" in message
    assert os.listdir(base / "shop" / "releases") == []


def test_a_symlink_inside_the_bundle_is_kept(env):
    base, source, call = env
    src = source("v1", V1)
    os.symlink("../nginx/shop.conf", os.path.join(src, "app", "conf"))
    call(release_id="v1", state="staged", src=src)
    assert os.readlink(base / "shop" / "releases" / "v1" / "app" / "conf") == "../nginx/shop.conf"


def test_a_fifo_in_the_bundle_is_refused(env):
    base, source, call = env
    src = source("v1", V1)
    os.mkfifo(os.path.join(src, "app", "pipe"))
    message = call(expect_ok=False, release_id="v1", state="staged", src=src)["msg"]
    assert message == ("%s is neither a file, a directory nor a symlink (a device, FIFO or socket); a release may "
                       "not hold one: remove it from %s" % (os.path.join(src, "app", "pipe"), src))


def test_a_control_character_in_a_file_name_is_refused(env):
    _base, source, call = env
    src = source("v1", dict(V1, **{"app/bad\nname.php": "<?php\n"}))
    message = call(expect_ok=False, release_id="v1", state="staged", src=src)["msg"]
    assert message.startswith("app/bad\\nname.php: a file name with a control character")


def test_nothing_staged_is_world_writable_setuid_or_sticky(env):
    base, source, call = env
    src = source("v1", V1)
    os.chmod(os.path.join(src, "app", "index.php"), 0o4777)
    os.chmod(os.path.join(src, "app"), 0o1777)
    call(release_id="v1", state="staged", src=src)
    call(release_id="v1", state="live")
    release = base / "shop" / "releases" / "v1"
    assert stat.S_IMODE(os.stat(release / "app" / "index.php").st_mode) == 0o775
    assert stat.S_IMODE(os.stat(release / "app").st_mode) == 0o775
    for path in [release, base / "shop" / "releases", base / "shop" / "state.json"]:
        assert not os.stat(path).st_mode & (stat.S_IWOTH | stat.S_ISUID | stat.S_ISGID | stat.S_ISVTX), path


def test_a_world_writable_releases_folder_is_secured(env):
    base, source, call = env
    call(release_id="v1", state="staged", src=source("v1", V1))
    os.chmod(base / "shop" / "releases", 0o777)
    call(release_id="v2", state="staged", src=source("v2", V2))
    assert stat.S_IMODE(os.stat(base / "shop" / "releases").st_mode) == 0o775


@pytest.fixture
def small_disk(tmp_path):
    """A 1 MiB tmpfs: staging a bigger bundle runs out of space."""
    mount_point = tmp_path / "small"
    mount_point.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount_point)],
                             capture_output=True, text=True, check=False)
    if mounted.returncode != 0:
        pytest.skip("cannot mount a tmpfs here: %s" % mounted.stderr.strip())
    yield mount_point
    subprocess.run(["umount", "-l", str(mount_point)], check=False)


def test_a_full_disk_while_staging_leaves_the_live_release_as_it_was(env, small_disk):
    _base, source, call = env
    call(base_dir=str(small_disk), release_id="v1", state="staged", src=source("v1", V1))
    call(base_dir=str(small_disk), release_id="v1", state="live")
    call(base_dir=str(small_disk), release_id="v1", state="known_good")
    site = small_disk / "shop"
    registry_before = (site / "state.json").read_bytes()
    big = dict(V2, **{"app/blob%d.bin" % number: "x" * 300000 for number in range(4)})
    message = call(expect_ok=False, base_dir=str(small_disk), release_id="v2", state="staged",
                   src=source("v2", big))["msg"]
    assert message.startswith("no space left on device while staging release v2 into %s" % (site / "releases"))
    assert "nothing live changed" in message and "the partial copy was removed" in message
    assert os.listdir(site / "releases") == ["v1"]
    assert (site / "state.json").read_bytes() == registry_before
    assert os.readlink(site / "current") == "releases/v1"
    assert call(base_dir=str(small_disk), release_id="v1", state="verified")["changed"] is False
    # Room again: the same bundle stages.
    call(base_dir=str(small_disk), release_id="v2", state="staged", src=source("v2b", V2))
