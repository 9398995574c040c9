"""After the deploys killed at each point, their redeploys and rollbacks:
every point was survived, and the host is sound."""

import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "resources"))

from deploy_checks import SITE_DIR, current_release, registry, served  # noqa: E402

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", ".cache", "test-logs",
                       "kill-results.json")


def kill_results():
    with open(RESULTS) as handle:
        return json.load(handle)


def test_every_kill_point_was_tried_and_survived():
    results = kill_results()
    assert results["tried"] >= 3, results["tried"]
    failed = [result for result in results["results"] if not result["survived"]]
    assert failed == []
    assert results["survived"] == results["tried"]
    # Kills landed before, inside and after the switch, not only at the start.
    tasks = [result["task"] for result in results["results"]]
    assert any("Point current at the release" in task for task in tasks), tasks
    assert any(result["inside_delay_s"] > 0 for result in results["results"])


def test_of_two_deploys_at_once_one_ran_and_the_other_was_refused():
    concurrent = kill_results()["concurrent"]
    assert concurrent["problems"] == []
    assert concurrent["winner"] in ("race-a", "race-b")
    assert sorted(code == 0 for code in concurrent["exit_codes"]) == [False, True]


def test_the_host_serves_its_known_good_release_and_holds_no_lease(host):
    state = registry(host)
    assert current_release(host) == state["known_good"]
    assert state["releases"][state["known_good"]]["status"] == "known_good"
    status, body = served(host)
    assert status == "200", body
    assert not host.file(SITE_DIR + "/.lease").exists
    leftovers = host.run("ls -A %s/releases | grep '^\\.' || true" % SITE_DIR).stdout.split()
    assert leftovers == []
