"""A good v1 then a good v2, deployed by the deploy role under load (converge,
idempotent), then v3, which brings the site's own PHP-FPM pool (side effect)."""

import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "resources"))

from deploy_checks import check_load, current_release, load_summary, registry, release_named, served  # noqa: E402


def test_v3_is_live_and_known_good_v2_kept_as_previous(host):
    state = registry(host)
    v1 = release_named(host, state, "v1")
    v2 = release_named(host, state, "v2")
    assert current_release(host) == "v3-pool"
    assert state["current"] == "v3-pool"
    assert state["known_good"] == "v3-pool"
    assert state["previous_known_good"] == v2
    for release_id in (v1, v2, "v3-pool"):
        assert state["releases"][release_id]["status"] == "known_good", state["releases"][release_id]
    # v2 was named after its content: the first 12 hex digits of the checksum.
    assert state["releases"][v2]["checksum"].startswith(v2)


def test_v3_is_served_by_the_pool_it_brought(host):
    status, body = served(host)
    assert status == "200"
    assert body.startswith("lastgood demo release v3 on PHP 8.2 in pool lastgood-demo"), body
    assert host.socket("unix:///run/php/lastgood-demo.sock").is_listening


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
    state = registry(host)
    release_id = state["current"]
    manifest = host.file("/srv/lastgood/demo/releases/%s/MANIFEST.sha256" % release_id).content_string
    assert "app/index.php" in manifest and "php-fpm/demo.conf" in manifest
    check = host.run("cd /srv/lastgood/demo/releases/%s && sha256sum --quiet -c MANIFEST.sha256" % release_id)
    assert check.rc == 0, check.stdout + check.stderr
    assert not host.file("/var/tmp/lastgood-upload/demo/%s" % release_id).exists
    assert not host.file("/srv/lastgood/demo/.lease").exists
