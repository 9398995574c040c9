"""What the pipeline scenarios check on every host after the story of
playbooks/pipeline-story.yml: staging has v3 live and known good with v2
invalid and v2f bad; production never saw v2 or v2f, took v3 in canary
order, and was rolled back to v1 with v3 marked bad; the load saw no
failed request and no answer from a release that was not live, and the
release switched to answered on every host once PHP-FPM was reloaded."""

from deploy_checks import check_load, current_release, load_summary, registry, release_named, served


def check_staging(host):
    state = registry(host)
    v1 = release_named(host, state, "v1")
    releases = state["releases"]
    assert current_release(host) == "v3" == state["current"] == state["known_good"]
    assert releases["v3"]["status"] == "known_good"
    assert releases[v1]["status"] == "known_good"
    assert releases["v2"]["status"] == "invalid"
    assert "front.php" in releases["v2"]["reason"]
    # Failed its probe on staging's preview listener: never switched in anywhere.
    assert releases["v2f"]["status"] == "bad"
    assert releases["v2f"]["reason"].startswith("preview before the switch:"), releases["v2f"]["reason"]
    status, body = served(host)
    assert status == "200" and body.startswith("lastgood demo release v3 on PHP"), body
    # Under load from before v2 until after v3: v2 and v2f served no request.
    summary = load_summary(host, "staging")
    check_load(summary, {v1, "v3"})
    assert [switch["to"] for switch in summary["switches"]] == ["v3"], summary
    assert summary["answered_by"].get("v3", 0) > 100, summary


def check_production(host):
    state = registry(host)
    v1 = release_named(host, state, "v1")
    releases = state["releases"]
    assert "v2" not in releases, "the incident's change reached production: %s" % releases
    assert "v2f" not in releases, "the release that fails on every request reached production: %s" % releases
    assert current_release(host) == v1 == state["current"] == state["known_good"]
    assert releases["v3"]["status"] == "bad"
    assert "replaying the incident" in releases["v3"]["reason"]
    assert releases["v3"]["notes"]["gate"].startswith("verified known good on ")
    assert "staging1" in releases["v3"]["notes"]["gate"]
    status, body = served(host)
    assert status == "200" and body.startswith("lastgood demo release v1 on PHP"), body
    summary = load_summary(host, "pipeline")
    assert summary["total"] > 10000, summary
    check_load(summary, {v1, "v3"})
    # The load saw the whole story: v3 switched in, then the rollback to v1;
    # each answered while it was live.
    assert [switch["to"] for switch in summary["switches"]] == ["v3", v1], summary
    assert summary["answered_by"].get("v3", 0) > 100 and summary["answered_by"].get(v1, 0) > 100, summary
    assert summary["answered_span_s"][v1][2] > summary["switches"][1]["at_s"] + 1, summary


def canary_order(hosts):
    """Production hosts in the order v3 was marked known good on them."""
    times = {}
    for name, host in hosts.items():
        times[name] = registry(host)["releases"]["v3"]["known_good_at"]
    return sorted(times, key=times.get)
