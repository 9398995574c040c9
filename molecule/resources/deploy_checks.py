"""What the deploy scenarios check on the host: the registry, what is served,
and what the load saw during the deploy."""

import json

SITE_DIR = "/srv/lastgood/demo"


def registry(host):
    return json.loads(host.file(SITE_DIR + "/state.json").content_string)


def current_release(host):
    return host.file(SITE_DIR + "/current").linked_to.rsplit("/", 1)[1]


def served(host):
    response = host.run("curl -sS -H 'Host: demo.test' -o /dev/stdout -w '\\n%{http_code}' http://127.0.0.1/")
    assert response.rc == 0, response.stderr
    body, _newline, status = response.stdout.rpartition("\n")
    return status, body


def load_summary(host, name):
    return json.loads(host.file("/var/tmp/lastgood-load-%s.json" % name).content_string)


def check_load(summary, releases):
    """The load saw no failed request, every answer came from a release that
    was live (within the load's grace after a switch), and only ``releases``
    answered."""
    print("load summary:", summary)
    assert summary["failed"] == 0, summary
    assert summary["wrong_release"] == 0, summary
    assert set(summary["answered_by"]) <= set(releases), summary


def release_named(host, state, version):
    """The id of the release whose lib/release.php returns ``version``."""
    for release_id in state["releases"]:
        text = host.file("%s/releases/%s/app/lib/release.php" % (SITE_DIR, release_id))
        if text.exists and "'%s'" % version in text.content_string:
            return release_id
    raise AssertionError("no release returns %s: %s" % (version, state["releases"]))


def check_live(host, version):
    """The release whose lib/release.php returns ``version`` is the live one:
    ``current`` points at it, the registry has it as current and known good,
    and it answers. Returns its id."""
    state = registry(host)
    release_id = release_named(host, state, version)
    assert current_release(host) == release_id
    assert state["current"] == state["known_good"] == release_id
    status, body = served(host)
    assert status == "200" and body.startswith("lastgood demo release " + version), body
    return release_id
