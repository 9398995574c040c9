"""A good v1 then a good v2, deployed by the deploy role under load."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "resources"))

from deploy_checks import current_release, load_summary, registry, release_named, served  # noqa: E402


def test_v2_is_live_and_known_good_v1_kept_as_previous(host):
    state = registry(host)
    v1 = release_named(host, state, "v1")
    v2 = release_named(host, state, "v2")
    assert current_release(host) == v2
    assert state["current"] == v2
    assert state["known_good"] == v2
    assert state["previous_known_good"] == v1
    assert state["releases"][v2]["status"] == "known_good"
    assert state["releases"][v1]["status"] == "known_good"
    # Named after the content: the first 12 hex digits of the checksum.
    assert state["releases"][v2]["checksum"].startswith(v2)


def test_v2_is_served(host):
    status, body = served(host)
    assert status == "200"
    assert body.startswith("lastgood demo release v2 on PHP 8.2"), body


def test_no_request_failed_during_the_deploy(host):
    summary = load_summary(host, "deploy-v2")
    assert summary["total"] > 50, summary
    assert summary["failed"] == 0, summary


def test_staged_release_is_intact_and_upload_removed(host):
    state = registry(host)
    release_id = state["current"]
    manifest = host.file("/srv/lastgood/demo/releases/%s/MANIFEST.sha256" % release_id).content_string
    assert "app/index.php" in manifest
    check = host.run("cd /srv/lastgood/demo/releases/%s && sha256sum --quiet -c MANIFEST.sha256" % release_id)
    assert check.rc == 0, check.stdout + check.stderr
    assert not host.file("/var/tmp/lastgood-upload/demo/%s" % release_id).exists
    assert not host.file("/srv/lastgood/demo/.lease").exists
