"""Shared and writable paths on real directories: what the application
writes there leaves a known-good release intact for a rollback, anything
written elsewhere still makes it damaged, named; the checks of the paths
themselves, and the checksum that stays the bundle's."""

import os

import pytest

from ansible_collections.lastgood.webstack.plugins.module_utils._release import (
    layout,
    lifecycle,
    manifest,
    registry,
    repair,
    rollback,
    shared,
)

SHARED = ["app/uploads", "app/.env"]
WRITABLE = ["app/cache/**", "app/var/*"]


def _bundle(root, release_id, extra=None):
    files = {"app/index.php": "<?php echo '%s';\n" % release_id, "nginx/shop.conf": "server {}\n",
             "app/uploads/.keep": "", "app/.env": "APP_ENV=prod\n"}
    files.update(extra or {})
    src = os.path.join(str(root), "src-" + release_id)
    for relative, text in files.items():
        path = os.path.join(src, relative)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as handle:
            handle.write(text)
    return src


def _deploy(site, state, release_id, extra=None, shared_paths=None, writable_paths=None):
    shared_paths = SHARED if shared_paths is None else shared_paths
    writable_paths = WRITABLE if writable_paths is None else writable_paths
    src = _bundle(os.path.dirname(site.dir), release_id, extra)
    lifecycle.stage(site, state, release_id, src, False, shared_paths=shared_paths, writable_paths=writable_paths)
    lifecycle.switch(site, state, release_id, False)
    lifecycle.mark_known_good(site, state, release_id, False)
    return src


@pytest.fixture
def site(tmp_path):
    site = registry.Site(str(tmp_path / "srv"), "shop")
    os.makedirs(site.releases_dir)
    return site


def _write(path, text="x"):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as handle:
        handle.write(text)


def test_shared_paths_are_links_to_the_site_seeded_once_from_the_bundle(site):
    state = site.load_state()
    src = _deploy(site, state, "v1")
    release = site.release_dir("v1")
    uploads = os.path.join(site.dir, "shared", "app", "uploads")
    assert os.readlink(os.path.join(release, "app", "uploads")) == uploads
    assert os.readlink(os.path.join(release, "app", ".env")) == os.path.join(site.dir, "shared", "app", ".env")
    assert os.path.isfile(os.path.join(uploads, ".keep"))
    # The checksum is the bundle's as given, as the controller computes it.
    assert state["releases"]["v1"]["checksum"] == manifest.checksum_of("".join(manifest.manifest_lines(src)))
    assert state["releases"]["v1"]["shared_paths"] == SHARED
    assert state["releases"]["v1"]["writable_paths"] == WRITABLE
    # The writable glob's directory is made, even though the bundle has none.
    assert os.path.isdir(os.path.join(release, "app", "cache"))
    # What the site has in shared/ is never seeded again.
    _write(os.path.join(site.dir, "shared", "app", ".env"), "APP_ENV=prod\nSECRET=kept\n")
    _deploy(site, state, "v2")
    with open(os.path.join(site.release_dir("v2"), "app", ".env")) as handle:
        assert handle.read() == "APP_ENV=prod\nSECRET=kept\n"


def test_a_missing_shared_path_without_a_bundle_copy_is_an_empty_directory(site):
    state = site.load_state()
    _deploy(site, state, "v1", shared_paths=["app/sessions"], writable_paths=[])
    target = os.path.join(site.dir, "shared", "app", "sessions")
    assert os.path.isdir(target) and os.listdir(target) == []
    assert os.readlink(os.path.join(site.release_dir("v1"), "app", "sessions")) == target


def test_uploads_and_cache_leave_the_known_good_release_the_rollback_target(site):
    state = site.load_state()
    _deploy(site, state, "v1")
    _deploy(site, state, "v2")
    v1 = site.release_dir("v1")
    # What the application writes while v1 is a known-good release: an upload
    # (through the release's link), cache files, a changed and a removed file under a writable glob.
    _write(os.path.join(v1, "app", "uploads", "cat.jpg"), "jpeg")
    _write(os.path.join(v1, "app", "cache", "twig", "a1", "page.php"), "<?php // compiled\n")
    _write(os.path.join(v1, "app", "var", "sessions.db"), "s")
    _write(os.path.join(site.dir, "shared", "app", ".env"), "APP_ENV=prod\nAPP_KEY=set-by-the-app\n")
    os.unlink(os.path.join(site.dir, "shared", "app", "uploads", ".keep"))
    assert manifest.verify(site, state, "v1") is None
    assert rollback.rollback_target(site, state) == ("v1", [])


def test_a_file_written_anywhere_else_is_damage_and_named(site):
    state = site.load_state()
    _deploy(site, state, "v1")
    _deploy(site, state, "v2")
    v1 = site.release_dir("v1")
    _write(os.path.join(v1, "app", "cache", "ok.php"), "fine")
    # app/var/* names only what is directly in app/var: deeper is not writable.
    _write(os.path.join(v1, "app", "var", "deep", "x.log"), "no")
    _write(os.path.join(v1, "app", "shell.php"), "<?php system($_GET['c']);\n")
    target, skipped = rollback.rollback_target(site, state)
    assert target is None
    assert [entry["id"] for entry in skipped] == ["v1"]
    assert skipped[0]["differences"]["added"] == ["app/shell.php", "app/var/deep/x.log"]
    assert skipped[0]["reason"] == "added: app/shell.php, app/var/deep/x.log"


def test_a_shared_link_replaced_by_files_is_damage(site):
    state = site.load_state()
    _deploy(site, state, "v1")
    _deploy(site, state, "v2")
    link = os.path.join(site.release_dir("v1"), "app", "uploads")
    os.unlink(link)
    os.mkdir(link)
    differences = manifest.verify(site, state, "v1")
    assert differences["changed"] == ["app/uploads (no longer the link to shared/app/uploads)"]
    assert rollback.rollback_target(site, state)[0] is None


def test_without_the_paths_an_upload_is_still_damage(site):
    state = site.load_state()
    _deploy(site, state, "v1", shared_paths=[], writable_paths=[])
    _deploy(site, state, "v2", shared_paths=[], writable_paths=[])
    _write(os.path.join(site.release_dir("v1"), "app", "uploads", "cat.jpg"), "jpeg")
    assert manifest.verify(site, state, "v1") == {"changed": [], "missing": [], "added": ["app/uploads/cat.jpg"]}
    assert "shared_paths" not in state["releases"]["v1"]


def test_repair_keeps_a_release_with_uploads_intact(site):
    state = site.load_state()
    _deploy(site, state, "v1")
    _write(os.path.join(site.release_dir("v1"), "app", "uploads", "cat.jpg"), "jpeg")
    _write(os.path.join(site.release_dir("v1"), "app", "cache", "c.php"), "c")
    site.save_state(state)
    repaired, _before, actions, report = repair.repair(site, False)
    assert report["damaged"] == [] and actions == []
    assert repaired["releases"]["v1"]["status"] == "known_good"


def test_staging_again_with_other_paths_is_refused_and_same_paths_change_nothing(site):
    state = site.load_state()
    src = _deploy(site, state, "v1")
    assert lifecycle.stage(site, state, "v1", src, False, shared_paths=SHARED, writable_paths=WRITABLE) == []
    with pytest.raises(layout.ReleaseError, match="was staged with shared_paths"):
        lifecycle.stage(site, state, "v1", src, False, shared_paths=["app/uploads"], writable_paths=WRITABLE)


def test_check_mode_changes_nothing(site):
    state = site.load_state()
    src = _bundle(os.path.dirname(site.dir), "v1")
    actions = lifecycle.stage(site, state, "v1", src, True, shared_paths=SHARED, writable_paths=WRITABLE)
    assert actions[-2:] == ["linked app/uploads to %s/shared/app/uploads" % site.dir,
                            "linked app/.env to %s/shared/app/.env" % site.dir]
    assert not os.path.exists(os.path.join(site.dir, "shared"))
    # The registry in memory shows what would be staged (the module's diff); none of it is saved.
    assert os.listdir(site.releases_dir) == [] and site.load_state()["releases"] == {}
    assert state["releases"]["v1"]["shared_paths"] == SHARED


def test_a_shared_path_leaving_the_site_through_a_symlink_is_refused(site, tmp_path):
    state = site.load_state()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.makedirs(os.path.join(site.dir, "shared", "app"))
    os.symlink(str(elsewhere), os.path.join(site.dir, "shared", "app", "uploads"))
    src = _bundle(tmp_path, "v1")
    with pytest.raises(layout.ReleaseError, match="outside the site's directory"):
        lifecycle.stage(site, state, "v1", src, False, shared_paths=["app/uploads"])
    assert os.listdir(site.releases_dir) == [] and list(elsewhere.iterdir()) == []


def test_a_shared_directory_where_the_bundle_has_a_file_is_refused(site, tmp_path):
    state = site.load_state()
    os.makedirs(os.path.join(site.dir, "shared", "app", ".env"))
    with pytest.raises(layout.ReleaseError, match="is a directory but the bundle has a file"):
        lifecycle.stage(site, state, "v1", _bundle(tmp_path, "v1"), False, shared_paths=["app/.env"])


@pytest.mark.parametrize("shared_paths, writable_paths, message", [
    (["/var/www/uploads"], [], "shared_paths: /var/www/uploads is absolute"),
    (["app/../../etc"], [], "climbs out with .."),
    ([], ["../cache/*"], "writable_paths: ../cache/* climbs out with .."),
    ([], ["/tmp/*"], "writable_paths: /tmp/* is absolute"),
    (["."], [], "names the release itself"),
    (["app/up*"], [], "holds a wildcard"),
    (["MANIFEST.sha256"], [], "the release's own MANIFEST.sha256"),
    (["app/uploads", "app/uploads/img"], [], "app/uploads/img is inside app/uploads"),
    (["app/cache"], ["app/cache/**"], "app/cache is both a shared path and under the writable path app/cache/**"),
    (["app/var/sessions"], ["app/var/*"], "app/var/sessions is both a shared path"),
    (["app"], ["app/cache/**"], "app is both a shared path"),
])
def test_bad_paths_are_refused_clearly(shared_paths, writable_paths, message):
    with pytest.raises(layout.ReleaseError) as caught:
        shared.check_paths(shared_paths, writable_paths)
    assert message in str(caught.value)


def test_paths_are_normalized():
    assert shared.check_paths(["./app/uploads/", "app/uploads"], ["app//cache/**"]) == (
        ["app/uploads"], ["app/cache/**"])


@pytest.mark.parametrize("pattern, path, matches", [
    ("app/cache/**", "app/cache/a.php", True),
    ("app/cache/**", "app/cache/twig/a/b.php", True),
    ("app/cache/**", "app/cache", True),
    ("app/cache/**", "app/cachet/a.php", False),
    ("app/var/*", "app/var/x.log", True),
    ("app/var/*", "app/var/deep/x.log", False),
    ("app/**/*.log", "app/a/b/c.log", True),
    ("app/**/*.log", "app/c.log", True),
    ("app/**/*.log", "app/c.php", False),
    ("app/log-?.txt", "app/log-1.txt", True),
    ("app/log-[0-9].txt", "app/log-a.txt", False),
    ("app/log-[!0-9].txt", "app/log-a.txt", True),
])
def test_glob_matching(pattern, path, matches):
    assert bool(shared.glob_regex(pattern).match(path)) is matches


def test_compare_manifest_leaves_out_only_the_application_paths():
    recorded = "aa  app/index.php\nbb  app/uploads/.keep\ncc  app/cache/old.php\n"
    actual = ["zz  app/index.php\n", "dd  app/uploads/new.jpg\n", "ee  app/cache/new.php\n", "ff  app/cachet\n"]
    assert manifest.compare_manifest(recorded, actual, ["app/uploads"], ["app/cache/**"]) == {
        "changed": ["app/index.php"], "missing": [], "added": ["app/cachet"]}
    # Without the paths, every one of them is a difference.
    differences = manifest.compare_manifest(recorded, actual)
    assert differences["missing"] == ["app/cache/old.php", "app/uploads/.keep"]


def test_writable_directories_and_new_shared_paths_belong_to_the_owner(site, tmp_path):
    if os.geteuid() != 0:
        pytest.skip("chown to another user needs root")
    state = site.load_state()
    src = _bundle(tmp_path, "v1", {"app/var/log/.keep": ""})
    lifecycle.stage(site, state, "v1", src, False, shared_paths=SHARED, writable_paths=WRITABLE,
                    owner_ids=(33, 33))
    release = site.release_dir("v1")
    for path in (os.path.join(release, "app", "cache"), os.path.join(release, "app", "var"),
                 os.path.join(release, "app", "var", "log"), os.path.join(site.dir, "shared", "app", "uploads"),
                 os.path.join(site.dir, "shared", "app", "uploads", ".keep"),
                 os.path.join(site.dir, "shared", "app", ".env")):
        info = os.lstat(path)
        assert (info.st_uid, info.st_gid) == (33, 33), path
    # The release's own files, and shared/ itself, stay the module's.
    assert os.lstat(os.path.join(release, "app", "index.php")).st_uid == os.geteuid()
    assert os.lstat(os.path.join(site.dir, "shared")).st_uid == os.geteuid()


def test_owner_names_are_resolved_or_refused():
    users = {"www-data": 33}
    assert shared.resolve_ids("www-data", "33", users.__getitem__, users.__getitem__) == (33, 33)
    assert shared.resolve_ids(None, "", users.__getitem__, users.__getitem__) == (-1, -1)
    with pytest.raises(layout.ReleaseError, match="writable_owner nobody-here does not exist"):
        shared.resolve_ids("nobody-here", None, users.__getitem__, users.__getitem__)
