"""What the pipeline scenarios check on every host after the story of
playbooks/pipeline-story.yml: staging has v3 live and known good with v2
invalid; production never saw v2, took v3 in canary order, and was rolled
back to v1 with v3 marked bad; the load on production saw no failure."""

from deploy_checks import current_release, load_summary, registry, release_named, served


def check_staging(host):
    state = registry(host)
    v1 = release_named(host, state, "v1")
    releases = state["releases"]
    assert current_release(host) == "v3" == state["current"] == state["known_good"]
    assert releases["v3"]["status"] == "known_good"
    assert releases[v1]["status"] == "known_good"
    assert releases["v2"]["status"] == "invalid"
    assert "front.php" in releases["v2"]["reason"]
    status, body = served(host)
    assert status == "200" and body.startswith("lastgood demo release v3"), body


def check_production(host):
    state = registry(host)
    v1 = release_named(host, state, "v1")
    releases = state["releases"]
    assert "v2" not in releases, "the incident's change reached production: %s" % releases
    assert current_release(host) == v1 == state["current"] == state["known_good"]
    assert releases["v3"]["status"] == "bad"
    assert "replaying the incident" in releases["v3"]["reason"]
    assert releases["v3"]["notes"]["gate"].startswith("verified known good on ")
    assert "staging1" in releases["v3"]["notes"]["gate"]
    status, body = served(host)
    assert status == "200" and body.startswith("lastgood demo release v1"), body
    summary = load_summary(host, "pipeline")
    assert summary["total"] > 10000, summary
    assert summary["failed"] == 0, summary


def canary_order(hosts):
    """Production hosts in the order v3 was marked known good on them."""
    times = {}
    for name, host in hosts.items():
        times[name] = registry(host)["releases"]["v3"]["known_good_at"]
    return sorted(times, key=times.get)
