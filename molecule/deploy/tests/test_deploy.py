"""A good v1 then a good v2, deployed by the deploy role under load (converge,
idempotent), then v3, which brings the site's own PHP-FPM pool (side effect);
then, with an upload written into v2's shared uploads and a cache file into
its writable cache, a rollback from v3 back to v2 (side effect)."""

import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "resources"))

from deploy_checks import check_load, current_release, load_summary, registry, release_named, served  # noqa: E402


def story(host):
    return json.loads(host.file("/var/tmp/lastgood-shared-story.json").content_string)


def test_rolled_back_to_v2_v3_marked_bad(host):
    state = registry(host)
    v1 = release_named(host, state, "v1")
    v2 = release_named(host, state, "v2")
    assert current_release(host) == v2
    assert state["current"] == v2
    assert state["known_good"] == v2
    assert state["releases"]["v3-pool"]["status"] == "bad", state["releases"]["v3-pool"]
    for release_id in (v1, v2):
        assert state["releases"][release_id]["status"] == "known_good", state["releases"][release_id]
    # v2 was named after its content: the first 12 hex digits of the checksum.
    assert state["releases"][v2]["checksum"].startswith(v2)
    assert state["releases"][v2]["shared_paths"] == ["app/uploads"]
    assert state["releases"][v2]["writable_paths"] == ["app/cache/**"]


def test_v3_was_served_by_the_pool_it_brought(host):
    answers = story(host)
    assert answers["v3_answer"].startswith("lastgood demo release v3 on PHP 8.2 in pool lastgood-demo"), answers
    assert answers["v3_socket"] is True


def test_a_stray_file_made_v2_damaged_naming_it_upload_and_cache_did_not(host):
    answers = story(host)
    v2 = answers["v2"]
    with_stray = answers["target_with_stray"]
    assert with_stray["target"] != v2, with_stray
    assert [entry["id"] for entry in with_stray["skipped"]] == [v2], with_stray
    assert with_stray["skipped"][0]["reason"] == "added: app/stray.php", with_stray
    assert answers["target_intact"] == {"target": v2, "skipped": []}


def test_v2_answers_again_with_its_upload_and_cache_file(host):
    status, body = served(host)
    assert status == "200"
    assert body.startswith("lastgood demo release v2 on PHP 8.2"), body
    assert story(host)["upload_answer"] == "a picture uploaded under v2\n"
    v2 = registry(host)["current"]
    cache = host.file("/srv/lastgood/demo/releases/%s/app/cache/twig/page.php" % v2)
    assert cache.exists and cache.user == "www-data"


def test_shared_uploads_belong_to_php_fpm_and_every_release_links_them(host):
    state = registry(host)
    uploads = host.file("/srv/lastgood/demo/shared/app/uploads")
    assert uploads.is_directory and uploads.user == "www-data" and uploads.group == "www-data"
    assert uploads.mode == 0o755
    assert host.file("/srv/lastgood/demo/shared/app/uploads/cat.txt").user == "www-data"
    assert host.file("/srv/lastgood/demo/shared").user == "root"
    for release_id in state["releases"]:
        link = host.file("/srv/lastgood/demo/releases/%s/app/uploads" % release_id)
        assert link.is_symlink and link.linked_to == "/srv/lastgood/demo/shared/app/uploads", release_id
        assert host.file("/srv/lastgood/demo/releases/%s/app/cache" % release_id).user == "www-data"


def test_php_fpm_reloaded_once_for_the_new_pool_and_not_for_the_rerun(host):
    counts = json.loads(host.file("/var/tmp/lastgood-fpm-reloads.json").content_string)
    assert counts["after_deploy"] == counts["before"] + 1, counts
    assert counts["after_rerun"] == counts["after_deploy"], counts


def test_no_request_failed_during_the_deploys(host):
    for name in ("deploy-v2", "deploy-v3-pool"):
        summary = load_summary(host, name)
        assert summary["total"] > 50, (name, summary)
        check_load(summary, set(registry(host)["releases"]))


def test_staged_release_is_intact_and_upload_removed(host):
    manifest = host.file("/srv/lastgood/demo/releases/v3-pool/MANIFEST.sha256").content_string
    assert "app/index.php" in manifest and "php-fpm/demo.conf" in manifest
    check = host.run("cd /srv/lastgood/demo/releases/v3-pool && sha256sum --quiet -c MANIFEST.sha256")
    assert check.rc == 0, check.stdout + check.stderr
    assert not host.file("/var/tmp/lastgood-upload/demo/v3-pool").exists
    assert not host.file("/srv/lastgood/demo/.lease").exists
