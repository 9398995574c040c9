"""The status playbook's tables: what release_info found on each host as one
table, and each host's last events. The expected text was printed by the
Jinja the playbook had before the status_table filter, for the same hosts."""

import json
import os

import pytest
import yaml

from ansible.errors import AnsibleFilterError
from ansible_collections.lastgood.webstack.plugins.filter.status_table import FilterModule, status_table
from ansible_collections.lastgood.webstack.tests.unit.plugins.callback.test_timeline_callback import (
    COLLECTION_ROOT,
    ansible_playbook,
)

LONG_REASON = "the probe of / answered 500 " + "x" * 120

# What ``release_info`` registered as ``lastgood_status`` on each host; web5
# registered nothing.
REGISTERED = {
    "web1": {
        "changed": False, "exists": True, "current": "v6", "known_good": "v5",
        "releases": [{"id": "v%d" % number, "status": status} for number, status in
                     enumerate(["known_good", "bad", "invalid", "known_good", "known_good", "live"], 1)],
        "frozen": {"reason": "incident 42: 500s on checkout", "by": "alice@ops1", "since": "2026-11-28T05:10:00Z"},
        "events": [
            {"at": "2026-11-28T05:02:08.123456Z", "event": "staged", "site": "demo", "release": "v6",
             "by": "deploy alice@ci1"},
            {"at": "2026-11-28T05:02:09.000000Z", "event": "switched", "site": "demo", "release": "v6", "from": "v5",
             "to": "v6"},
            {"at": "2026-11-28T05:03:00.000000Z", "event": "bad", "site": "demo", "release": "v4", "by": "watchdog",
             "reason": LONG_REASON},
            {"at": "2026-11-28T05:10:00.000000Z", "event": "frozen", "site": "demo", "release": None,
             "by": "alice@ops1", "reason": "incident 42\nsecond line"},
            {"at": "2026-11-28T05:11:00.000000Z", "event": "thawed", "site": "demo", "release": "", "by": "bob",
             "reason": ""},
        ],
    },
    "web2": {"changed": False, "exists": True, "current": None, "known_good": "",
             "releases": [{"id": "v1", "status": "staged"}], "frozen": None, "events": []},
    "web3": {"changed": False, "exists": False, "current": None, "known_good": None, "releases": [],
             "frozen": {"reason": "maintenance"},
             "events": [{"at": "2026-11-27T23:59:59.999999Z", "event": "frozen", "release": None,
                         "reason": "maintenance"}]},
    "web4": {"changed": False, "failed": False,
             "msg": "state.json is not valid JSON: Expecting value: line 1 column 1 (char 0)"},
    "web6": {"unreachable": True, "changed": False, "msg": "Failed to connect to the host via ssh: refused"},
    "web7": {"failed": True},
    "a-very-long-host-name.example.org": {
        "current": "v10-with-a-long-id", "known_good": "v9",
        "releases": [{"id": "v9", "status": "known_good"}, {"id": "v10-with-a-long-id", "status": "live"}],
        "frozen": {}, "events": []},
    "web8": {"current": "v1", "known_good": "v1", "releases": [{"id": "v1", "status": "known_good"}],
             "frozen": {"reason": "r", "by": None, "since": None},
             "events": [{"at": "2026-11-28T05:11:00Z", "event": "x", "release": "v1", "by": None, "reason": None}]},
}
HOSTS = ["web1", "web2", "web3", "web4", "web5", "web6", "web7", "a-very-long-host-name.example.org", "web8"]

# The two debug messages, as the playbook's Jinja printed them.
TABLE = [
    "host           current        known good     last releases, newest first                                frozen",
    "web1           v6             v5             v6:live  v5:known_good  v4:known_good  v3:invalid          "
    "incident 42: 500s on checkout (by alice@ops1, since 2026-11-28T05:10:00Z)",
    "web2           -              -              v1:staged                                                  no",
    "web3           -              -                                                                         "
    "maintenance (by ?, since ?)",
    "web4           ?              ?              no answer: state.json is not valid JSON: Expecting value: line 1 "
    "column 1 (char 0) ?",
    "web5           ?              ?              no answer: unreachable                                     ?",
    "web6           ?              ?              no answer: Failed to connect to the host via ssh: refused  ?",
    "web7           ?              ?              no answer: unreachable                                     ?",
    "a-very-long-host-name.example.org v10-with-a-long-id v9             v10-with-a-long-id:live  v9:known_good"
    "                     no",
    "web8           v1             v1             v1:known_good                                              "
    "r (by None, since None)",
    "",
]
EVENTS = [
    "host           last events (UTC)    event        release        by: reason",
    "web1           2026-11-28 05:02:08  staged       v6             deploy alice@ci1",
    "web1           2026-11-28 05:02:09  switched     v6             ?",
    "web1           2026-11-28 05:03:00  bad          v4             watchdog: " + LONG_REASON[:100],
    "web1           2026-11-28 05:10:00  frozen       -              alice@ops1: incident 42",
    "second line",
    "web1           2026-11-28 05:11:00  thawed       -              bob",
    "web3           2026-11-27 23:59:59  frozen       -              ?: maintenance",
    "web8           2026-11-28 05:11:00  x            v1             None",
    "",
]


def hostvars(registered, var="lastgood_status"):
    return {name: ({var: registered[name]} if name in registered else {}) for name in HOSTS}


def rows(text):
    """The text as the playbook shows it: split on newlines."""
    return text.split("\n")


# The filter, branch by branch ---------------------------------------------------

def test_the_releases_table_is_the_one_the_jinja_printed():
    assert rows(status_table(HOSTS, hostvars(REGISTERED))) == TABLE


def test_the_events_table_is_the_one_the_jinja_printed():
    assert rows(status_table(HOSTS, hostvars(REGISTERED), table="events")) == EVENTS


def test_each_line_ends_in_a_newline_and_no_hosts_is_the_header_alone():
    assert status_table([], {}) == TABLE[0] + "\n"
    assert status_table([], {}, table="events") == EVENTS[0] + "\n"


def test_the_result_can_be_registered_under_another_name():
    assert rows(status_table(HOSTS, hostvars(REGISTERED, "shop_status"), result_var="shop_status")) == TABLE
    # the default name finds nothing: no answer, as web5
    assert rows(status_table(["web1"], hostvars(REGISTERED, "shop_status")))[1] == TABLE[5].replace("web5", "web1")


@pytest.mark.parametrize("result, row", [
    # only the last four releases, newest first
    ({"releases": [{"id": "v%d" % number, "status": "bad"} for number in range(1, 7)], "current": "v6",
      "known_good": None, "frozen": None},
     "web1           v6             -              v6:bad  v5:bad  v4:bad  v3:bad                             no"),
    # a registry without releases yet, and entries that are not releases
    ({"releases": None, "current": None, "known_good": None, "frozen": False},
     "web1           -              -                                                                         no"),
    ({"releases": ["junk", {"id": "v1", "status": "known_good"}], "current": "v1", "known_good": "v1", "frozen": {}},
     "web1           v1             v1             v1:known_good                                              no"),
    # a freeze record that is not a dict is shown as it is
    ({"releases": [], "frozen": "yes"},
     "web1           -              -                                                                         yes"),
    # a result that is not a dict, or a registered message that is null
    ("not a result", "web1           ?              ?              no answer: unreachable                                     ?"),
    ({"msg": None}, "web1           ?              ?              no answer: None                                            ?"),
])
def test_release_rows(result, row):
    assert rows(status_table(["web1"], {"web1": {"lastgood_status": result}}))[1] == row


def test_event_rows_skip_what_is_not_an_event_and_a_host_without_variables():
    registered = {"events": ["junk", {"at": "2026-11-28T05:02:09.000000Z", "event": "known_good", "release": "v1",
                                      "by": "deploy", "reason": 42}]}
    assert rows(status_table(["web1", "gone"], {"web1": {"lastgood_status": registered}}, table="events"))[1:] == [
        "web1           2026-11-28 05:02:09  known_good   v1             deploy: 42", ""]
    assert rows(status_table(["web1"], {"web1": {"lastgood_status": {"events": None}}}, table="events")) == \
        [EVENTS[0], ""]


def test_input_that_is_not_hosts_and_hostvars_or_an_unknown_table_is_an_error():
    with pytest.raises(AnsibleFilterError, match="list of hosts"):
        status_table("web1", {})
    with pytest.raises(AnsibleFilterError, match="needs hostvars"):
        status_table(["web1"], ["web1"])
    with pytest.raises(AnsibleFilterError, match="releases or events, not 'hosts'"):
        status_table(["web1"], {}, table="hosts")


def test_the_filter_is_registered_under_its_name():
    assert FilterModule().filters()["status_table"] is status_table


# The playbook, on these registered results -------------------------------------

def test_the_status_playbook_prints_the_tables_it_always_printed(tmp_path):
    """The status playbook's tasks that show what release_info registered,
    on hosts whose inventory holds it."""
    with open(os.path.join(COLLECTION_ROOT, "playbooks", "status.yml")) as handle:
        play = yaml.safe_load(handle)[-1]  # the first play checks the pipeline settings
    shown = [task for task in play["tasks"] if "ansible.builtin.debug" in task]
    assert len(shown) == 2
    inventory = {"all": {"vars": {"ansible_connection": "local"},
                         "hosts": {name: {"lastgood_status": REGISTERED[name]} if name in REGISTERED else {}
                                   for name in HOSTS}}}
    (tmp_path / "inventory.json").write_text(json.dumps(inventory))
    (tmp_path / "shown.yml").write_text(yaml.safe_dump(
        [{"name": "Show", "hosts": "all:!localhost", "gather_facts": False, "tasks": shown}], sort_keys=False))
    run = ansible_playbook(tmp_path, "-i", "inventory.json", "shown.yml", ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json")
    assert run.returncode == 0, run.stdout
    output = json.loads(run.stdout[run.stdout.index("{"):])
    messages = [list(task["hosts"].values())[0]["msg"] for task in output["plays"][0]["tasks"]]
    assert messages == [TABLE, EVENTS]
