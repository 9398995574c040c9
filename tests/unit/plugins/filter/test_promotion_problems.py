"""The promotion gate's decision, branch by branch: production accepts a
release only when every staging host holds this content as known good."""

import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.lastgood.webstack.plugins.filter.promotion_problems import FilterModule, promotion_problems

CHECKSUM = "5d0c" + "0" * 60
OTHER = "9f2c" + "0" * 60


def registry(host, *releases):
    """What release_info returned for ``host`` in the registered loop."""
    return {"item": host, "changed": False, "releases": [dict(release) for release in releases]}


def release(release_id, status, checksum=CHECKSUM, **fields):
    return dict(id=release_id, status=status, checksum=checksum, **fields)


def test_every_staging_host_holding_it_as_known_good_lets_it_through():
    results = [registry("staging1", release("v1", "known_good", OTHER), release("v3", "known_good")),
               registry("staging2", release("v3", "known_good"))]
    assert promotion_problems(results, CHECKSUM) == []


def test_an_unreachable_staging_host_stops_it():
    results = [{"item": "staging1", "unreachable": True, "msg": "ssh: connect to host staging1 port 22: refused"}]
    assert promotion_problems(results, CHECKSUM) == [
        "staging1 is unreachable (ssh: connect to host staging1 port 22: refused)"]


def test_a_staging_host_that_cannot_read_its_registry_stops_it():
    results = [{"item": "staging1", "failed": True, "msg": "state.json is not valid JSON \n"},
               registry("staging2", release("v3", "known_good"))]
    assert promotion_problems(results, CHECKSUM) == ["staging1 cannot tell (state.json is not valid JSON)"]


def test_content_a_staging_host_never_had_stops_it():
    results = [registry("staging1", release("v3", "known_good", OTHER)), registry("staging2")]
    assert promotion_problems(results, CHECKSUM) == ["staging1 never had this content",
                                                     "staging2 never had this content"]


@pytest.mark.parametrize("status, reason, said", [
    ("invalid", "front.php does not exist", "staging1 has it as release v2 with status invalid (front.php does not exist)"),
    ("bad", "Probe the release: 500", "staging1 has it as release v2 with status bad (Probe the release: 500)"),
    ("validated", None, "staging1 has it as release v2 with status validated"),
    ("live", None, "staging1 has it as release v2 with status live"),
    ("damaged", None, "staging1 has it as release v2 with status damaged"),
])
def test_content_a_staging_host_has_but_not_as_known_good_stops_it(status, reason, said):
    fields = {"reason": reason} if reason else {}
    assert promotion_problems([registry("staging1", release("v2", status, **fields))], CHECKSUM) == [said]


def test_the_same_content_known_good_under_another_id_vouches_for_it():
    results = [registry("staging1", release("v2", "bad"), release("v2b", "known_good"))]
    assert promotion_problems(results, CHECKSUM) == []


def test_no_staging_host_at_all_stops_it():
    assert promotion_problems([], CHECKSUM) == ["the inventory has no host in the group staging"]


def test_input_that_is_not_a_loop_result_is_an_error():
    with pytest.raises(AnsibleFilterError, match="results list of a registered loop"):
        promotion_problems({"results": []}, CHECKSUM)
    with pytest.raises(AnsibleFilterError, match="checksum"):
        promotion_problems([], "")


def test_the_filter_is_registered_under_its_name():
    assert FilterModule().filters()["promotion_problems"] is promotion_problems
