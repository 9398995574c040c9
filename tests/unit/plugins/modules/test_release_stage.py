"""release_stage without the action plugin: a bundle already on the host,
unpacked with GNU tar, staged under the lease; the checks themselves run in
molecule against real servers."""

import json
import os
import subprocess

import pytest

from ansible.module_utils.testing import patch_module_args
from ansible_collections.lastgood.webstack.plugins.modules import release_stage


@pytest.fixture
def stage(env, tmp_path, capsys):
    base, source, call = env

    def bundle(name, files):
        src = source(name, files)
        archive = tmp_path / "upload" / ("%s.tar.gz" % name)
        archive.parent.mkdir(exist_ok=True)
        subprocess.run(["tar", "-c", "-z", "-f", str(archive), "-C", src, "."], check=True)
        return str(archive)

    def run(expect_ok=True, **args):
        args.setdefault("site", "shop")
        args.setdefault("base_dir", str(base))
        args.setdefault("lock_owner", "deploy test")
        args.setdefault("upload_dir", str(tmp_path / "unpack"))
        with patch_module_args(args):
            with pytest.raises(SystemExit) as exited:
                release_stage.main()
        result = json.loads(capsys.readouterr().out)
        assert (exited.value.code == 0) == expect_ok, result
        return result

    return bundle, run, call


def test_a_bundle_is_unpacked_staged_under_the_lease_and_removed(stage, tmp_path):
    bundle, run, call = stage
    archive = bundle("v1", {"nginx/shop.conf": "server {}\n", "app/index.php": "<?php echo 1;\n"})
    result = run(release_id="v1", bundle=archive, remove_bundle=True, lease={})
    assert result["staged"] and result["status"] == "staged" and result["bundle_removed"]
    assert result["bundle_dir_removed"]
    assert not os.path.exists(archive) and not os.path.exists(os.path.dirname(archive))
    assert os.listdir(str(tmp_path / "unpack")) == []
    assert [event["event"] for event in result["events"]] == ["staged"]
    info = call(release_id="v1")
    assert info["release"]["status"] == "staged"
    assert info["lease"]["owner"] == "deploy test"
    # The lease holds the site for its owner only.
    other = call(expect_ok=False, state="validated", release_id="v1", lock_owner="someone else")
    assert "deploy test" in other["msg"]


def test_staging_again_changes_nothing(stage):
    bundle, run, call = stage
    archive = bundle("v1", {"nginx/shop.conf": "server {}\n"})
    run(release_id="v1", bundle=archive)
    again = run(release_id="v1")
    assert not again["staged"] and not again["changed"]


def test_a_bundle_with_other_content_than_the_controller_packed_is_refused(stage):
    bundle, run, call = stage
    archive = bundle("v1", {"nginx/shop.conf": "server {}\n"})
    result = run(expect_ok=False, release_id="v1", bundle=archive, checksum="0" * 64)
    assert "has checksum" in result["msg"] and "but %s on the controller" % ("0" * 64) in result["msg"]


def test_a_release_not_on_the_host_without_a_bundle_is_a_clear_error(stage):
    bundle, run, call = stage
    result = run(expect_ok=False, release_id="v1")
    assert result["msg"] == "release v1 is not staged on this host and no bundle was given (src or bundle)"


def test_a_broken_bundle_says_so_and_stages_nothing(stage, tmp_path):
    bundle, run, call = stage
    broken = tmp_path / "broken.tar.gz"
    broken.write_bytes(b"not gzip")
    result = run(expect_ok=False, release_id="v1", bundle=str(broken))
    assert result["msg"].startswith("cannot unpack the bundle %s: " % broken)
    assert call(expect_ok=True)["releases"] == []


def test_check_mode_neither_leases_nor_stages(stage):
    bundle, run, call = stage
    archive = bundle("v1", {"nginx/shop.conf": "server {}\n"})
    result = run(release_id="v1", bundle=archive, lease={}, _ansible_check_mode=True)
    assert result["changed"] and not result["staged"]
    assert os.path.exists(archive)
    assert call()["lease"] is None and call()["releases"] == []
