"""The incident's change is stopped at validation: nothing live changes."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "resources"))

from deploy_checks import check_live, check_load, load_summary, registry, release_named  # noqa: E402


def test_v1_stays_live(host):
    check_live(host, "v1")


def test_the_three_refused_releases_are_invalid_with_their_reasons(host):
    state = registry(host)
    invalid = sorted((dict(r, id=i) for i, r in state["releases"].items() if r["status"] == "invalid"),
                     key=lambda r: r["staged_at"])
    assert len(invalid) == 3, state["releases"]
    not_included, config, php = invalid
    assert not_included["id"] == "v2-not-included"
    assert "The live nginx configuration on incident1 does not include release v2-not-included of demo: " \
        "web_refs did not read /srv/lastgood/demo/current/nginx/demo.conf" in not_included["reason"]
    assert "front.php does not exist" in config["reason"]
    assert "demo.conf:17: fastcgi_param" in config["reason"]
    assert "app/index.php:4: require_once:" in php["reason"]
    assert "lib/release.phpp does not exist" in php["reason"]


def test_the_site_include_line_is_back(host):
    include = host.file("/etc/nginx/sites-enabled/demo.conf")
    assert include.exists
    assert "include /srv/lastgood/demo/current/nginx/*.conf;" in include.content_string


def test_v1_answered_every_request_throughout(host):
    summary = load_summary(host, "incident")
    assert summary["total"] > 50, summary
    check_load(summary, {release_named(host, registry(host), "v1")})
