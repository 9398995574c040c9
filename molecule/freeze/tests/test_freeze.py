"""A frozen site refused the deploy and accepted the rollback; thawed, v2 went
out through staging to production."""

import os
import sys

import testinfra

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "resources"))

from deploy_checks import current_release, registry, release_named, served  # noqa: E402

testinfra_hosts = ["podman://f-staging1", "podman://f-prod1"]


def test_thawed_and_v2_live_after_the_freeze(host):
    state = registry(host)
    assert not host.file("/srv/lastgood/demo/FREEZE").exists
    assert current_release(host) == "v2" == state["current"] == state["known_good"]
    status, body = served(host)
    assert status == "200" and body.startswith("lastgood demo release v2"), body


def test_production_was_rolled_back_while_frozen_and_v2_staged_only_after_the_thaw():
    host = testinfra.get_host("podman://f-prod1")
    state = registry(host)
    releases = state["releases"]
    v1 = release_named(host, state, "v1")
    assert releases["v3"]["status"] == "bad"
    assert releases[v1]["status"] == "known_good"
    # The rollback happened while frozen, before v2 was even staged.
    assert releases["v3"]["bad_at"] < releases["v2"]["staged_at"]
    assert releases["v2"]["notes"]["gate"].startswith("verified known good on f-staging1")
