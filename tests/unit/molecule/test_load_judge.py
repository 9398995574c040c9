"""The load generator of the molecule scenarios and benchmarks judges which
release answered: an answer counts only when its body matches the
probe.json of a release that ``current`` pointed at from the grace before
the request began until it ended."""

import importlib.util
import json
import os

import pytest

LOAD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "molecule", "resources", "files",
                    "lastgood-load.py")


@pytest.fixture(scope="module")
def load():
    spec = importlib.util.spec_from_file_location("lastgood_load", LOAD)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def releases(load, tmp_path):
    for name in ("r1", "r2"):
        (tmp_path / "releases" / name).mkdir(parents=True)
        (tmp_path / "releases" / name / "probe.json").write_text(json.dumps({"expect_body": "^shop %s " % name}))
    (tmp_path / "releases" / "r3").mkdir()
    os.symlink("releases/r1", str(tmp_path / "current"))
    watched = load.Releases(str(tmp_path), grace=1.0)
    # current went from r1 to r2 at 10.0 and to r3 (no probe.json) at 20.0.
    watched.history = [(0.0, "r1"), (10.0, "r2"), (20.0, "r3")]
    return watched


def test_an_answer_from_the_live_release_counts(load, releases):
    assert load.judge(releases, b"shop r1 page", 5.0, 5.1) == (True, "r1", 0.0)
    assert load.judge(releases, b"shop r2 page", 12.0, 12.1) == (True, "r2", 0.0)


def test_the_release_switched_from_may_answer_within_the_grace(load, releases):
    ok, answered, stale = load.judge(releases, b"shop r1 page", 10.4, 10.5)
    assert ok and answered == "r1" and stale == pytest.approx(0.4)


def test_the_release_switched_from_answering_after_the_grace_is_a_failure(load, releases):
    ok, answered, stale = load.judge(releases, b"shop r1 page", 11.5, 11.6)
    assert not ok and answered == "r1" and stale == pytest.approx(1.5)


def test_a_release_that_was_never_live_or_an_unknown_body_is_a_failure(load, releases):
    assert load.judge(releases, b"shop r2 page", 2.0, 2.1)[0] is False
    assert load.judge(releases, b"something else", 5.0, 5.1) == (False, "unknown", 0.0)


def test_a_request_that_ends_after_the_switch_may_get_the_new_release(load, releases):
    assert load.judge(releases, b"shop r2 page", 9.9, 10.05)[:2] == (True, "r2")


def test_a_release_switched_back_to_is_not_stale_for_a_request_that_saw_the_switch(load, releases):
    # current went back to r1 at 30.0: a request begun just before that and
    # answered by r1 saw the switch; r1 having left at 10.0 does not make it stale.
    releases.history.append((30.0, "r1"))
    assert load.judge(releases, b"shop r1 page", 29.99, 30.2) == (True, "r1", 0.0)
    assert releases.stale_seconds("r2", 31.5, 31.6) == pytest.approx(11.5)
