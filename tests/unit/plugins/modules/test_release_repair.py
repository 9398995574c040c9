"""Damaged registries: each kind of damage is named in the message of the
change it stops, and state=repaired rebuilds the registry from its backup
or from the release folders and their manifests."""

import json
import os

import pytest

from ansible_collections.lastgood.webstack.tests.unit.plugins.modules.test_release import V1, V2

V3 = {"nginx/shop.conf": "server {}\n", "app/index.php": "<?php echo 'v3';\n"}


def deploy(call, source, release_id, files):
    call(release_id=release_id, state="staged", src=source(release_id, files))
    call(release_id=release_id, state="live")
    call(release_id=release_id, state="known_good")


@pytest.fixture
def shop(env):
    """v1 and v2 known good, v2 live."""
    base, source, call = env
    deploy(call, source, "v1", V1)
    deploy(call, source, "v2", V2)
    return base / "shop", source, call


@pytest.mark.parametrize("damage, expected", [
    (b"", "is empty (0 bytes)"),
    (b"\n  \n", "is empty (4 bytes)"),
    (b"\0" * 512, "is all NUL bytes (512 of them)"),
    (None, "is truncated: the JSON stops after"),
    (b"[1, 2]\n", "is not a release registry: it holds a JSON list"),
    (b'{"releases": {"../x": {"status": "live"}}}', "is not a release registry: it registers a release named '../x'"),
    (b'{"releases": {"v1": {"status": "great"}}}', "is not a release registry: release v1 has the unknown status"),
    (b"\xff\xfe{}", "is not JSON: byte 0 is not UTF-8 text"),
    (b"{} {}", "is not JSON: Extra data at line 1 column 4"),
])
def test_damaged_state_stops_every_change_naming_the_damage(shop, damage, expected):
    site, source, call = shop
    state_path = site / "state.json"
    if damage is None:
        damage = state_path.read_bytes()[:100]
    state_path.write_bytes(damage)
    for args in ({}, {"state": "staged", "release_id": "v3", "src": source("v3", V3)},
                 {"state": "rolled_back"}, {"state": "live", "release_id": "v1"}):
        message = call(expect_ok=False, **args)["msg"]
        assert message.startswith("%s %s" % (state_path, expected)), message
        assert "nothing was changed" in message and "state=repaired" in message
        assert "state.json.bak" in message
    assert os.readlink(site / "current").endswith("v2")
    assert state_path.read_bytes() == damage
    assert not (site / "releases" / "v3").exists()


def test_repair_starts_from_the_backup_and_keeps_the_damaged_file(shop):
    site, _source, call = shop
    (site / "state.json").write_bytes(b'{"releases": {"v1": {"checksum": "ab')
    repaired = call(state="repaired")
    assert repaired["changed"] is True
    report = repaired["repair"]
    assert report["started_from"] == "state.json.bak"
    assert report["damaged_state"].startswith("is truncated")
    with open(report["kept_as"], "rb") as kept:
        assert kept.read() == b'{"releases": {"v1": {"checksum": "ab'
    # The backup is the registry before the last change (v2 marked known good),
    # so only that change is replayed from the disk: v2 is live again.
    state = json.loads((site / "state.json").read_text())
    assert state["current"] == "v2"
    assert {rid: record["status"] for rid, record in state["releases"].items()} == {"v1": "known_good", "v2": "live"}
    assert state["known_good"] == "v1" and state["events"][-1]["event"] == "repaired"
    # A deploy goes on from there, and a rollback finds v1.
    assert call(release_id="v2", state="known_good")["known_good"] == "v2"
    assert call(state="rolled_back", reason="test")["current"] == "v1"
    assert call(state="repaired")["changed"] is False


def test_repair_without_a_backup_rebuilds_from_the_folders(shop):
    site, _source, call = shop
    (site / "state.json").write_text("garbage")
    (site / "state.json.bak").write_text("")
    report = call(state="repaired")["repair"]
    assert report["started_from"] == "the release folders alone"
    assert report["registered"] == ["v1", "v2"]
    info = call()
    assert info["current"] == "v2" and info["known_good"] is None
    assert {r["id"]: r["status"] for r in info["releases"]} == {"v1": "staged", "v2": "live"}
    # The checksums come from the manifests: the same as when they were staged.
    assert call(release_id="v1", state="verified")["changed"] is False
    # No known-good release is known any more: the live one is marked again.
    assert "no known-good release" in call(expect_ok=False, state="rolled_back")["msg"]
    assert call(release_id="v2", state="known_good")["known_good"] == "v2"


def test_repair_drops_a_release_whose_folder_is_gone(shop):
    site, _source, call = shop
    registry_before = json.loads((site / "state.json").read_text())
    assert registry_before["previous_known_good"] == "v1"
    (site / "current").unlink()
    os.symlink("releases/v1", site / "current")
    import shutil
    shutil.rmtree(site / "releases" / "v2")
    message = call(expect_ok=False, release_id="v2", state="live")["msg"]
    assert message == ("release v2 (known_good) is registered but its folder %s is gone; run the release module "
                       "with state=repaired to drop it from the registry, then stage it again if you need it"
                       % (site / "releases" / "v2"))
    repaired = call(state="repaired")
    assert repaired["repair"]["dropped"] == ["v2"]
    assert repaired["known_good"] == "v1" and repaired["previous_known_good"] is None
    assert repaired["current"] == "v1"
    assert [r["id"] for r in repaired["releases"]] == ["v1"]


def test_repair_marks_a_tampered_release_damaged_and_rollback_skips_it(env):
    base, source, call = env
    deploy(call, source, "v1", V1)
    deploy(call, source, "v2", V2)
    deploy(call, source, "v3", V3)
    site = base / "shop"
    tampered = site / "releases" / "v2" / "app" / "index.php"
    tampered.write_text("<?php system($_GET['c']);\n")
    repaired = call(state="repaired")
    assert repaired["repair"]["damaged"] == ["v2"]
    statuses = {r["id"]: r["status"] for r in repaired["releases"]}
    assert statuses == {"v1": "known_good", "v2": "damaged", "v3": "known_good"}
    assert repaired["known_good"] == "v3" and repaired["previous_known_good"] == "v1"
    damaged = [r for r in repaired["releases"] if r["id"] == "v2"][0]
    assert damaged["damage"] == "changed: app/index.php"
    # Never switched in, not even by asking for it.
    assert "is damaged (changed: app/index.php) and is never switched in" in call(
        expect_ok=False, release_id="v2", state="live")["msg"]
    rolled = call(state="rolled_back", reason="test")
    assert rolled["current"] == "v1"
    # Staging its bundle again restores the files; the repair gives back its status.
    call(release_id="v2", state="staged", src=source("v2", V2))
    assert tampered.read_text() == V2["app/index.php"]
    assert call(release_id="v2", state="verified")["changed"] is False


def test_repair_gives_back_the_status_once_the_files_match_again(env):
    base, source, call = env
    deploy(call, source, "v1", V1)
    deploy(call, source, "v2", V2)
    page = base / "shop" / "releases" / "v1" / "app" / "index.php"
    page.write_text("changed\n")
    assert call(state="repaired")["repair"]["damaged"] == ["v1"]
    page.write_text(V1["app/index.php"])
    repaired = call(state="repaired")
    assert repaired["repair"]["intact_again"] == ["v1"]
    assert {r["id"]: r["status"] for r in repaired["releases"]} == {"v1": "known_good", "v2": "known_good"}
    assert repaired["previous_known_good"] == "v1"


def test_repair_registers_a_release_staged_but_never_recorded(shop):
    site, source, call = shop
    # A staging whose registry write failed (a full disk): the folder is complete, the record is not.
    call(release_id="v3", state="staged", src=source("v3", V3))
    (site / "state.json").write_bytes((site / "state.json.bak").read_bytes())
    assert "v3" not in [r["id"] for r in call()["releases"]]
    leftover = site / "releases" / ".v4.4242.staging"
    leftover.mkdir()
    (leftover / "half").write_text("x")
    (site / "releases" / "notes").mkdir()
    repaired = call(state="repaired")
    assert repaired["repair"]["registered"] == ["v3"]
    assert repaired["repair"]["leftovers_removed"] == [".v4.4242.staging"]
    assert repaired["repair"]["warnings"] == ["left %s alone: not a release folder with a manifest"
                                              % (site / "releases" / "notes")]
    assert not leftover.exists() and (site / "releases" / "notes").is_dir()
    assert [r["status"] for r in repaired["releases"] if r["id"] == "v3"] == ["staged"]
    # It can be switched in like any staged release.
    assert call(release_id="v3", state="live")["current"] == "v3"


def test_repair_in_check_mode_changes_nothing(shop, capsys):
    site, _source, call = shop
    (site / "state.json").write_text("")
    before = sorted(os.listdir(site))
    # call() runs the module in-process: check mode through its special argument.
    result = call(state="repaired", _ansible_check_mode=True, _ansible_diff=True)
    assert result["changed"] is True
    assert "release v2: live" in result["diff"]["after"]
    assert (site / "state.json").read_text() == ""
    assert sorted(os.listdir(site)) == before
