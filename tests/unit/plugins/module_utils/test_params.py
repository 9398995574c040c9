import gc

import pytest

from ansible_collections.lastgood.webstack.plugins.module_utils._common.params import (
    OptionError,
    checked_allowed_roots,
    checked_path_map,
    gc_paused,
)


def test_path_map_maps_absolute_paths_to_absolute_paths():
    assert checked_path_map({"/srv/a/current": "/srv/a/releases/v2"}) == {"/srv/a/current": "/srv/a/releases/v2"}
    assert checked_path_map(None) == {}


@pytest.mark.parametrize("path_map", [{"srv/a": "/x"}, {"/srv/a": "x"}, {"/srv/a": 3}, {"/srv/a": None}])
def test_path_map_entries_that_are_not_absolute_are_refused_saying_which(path_map):
    with pytest.raises(OptionError, match=r"^path_map: .* must map an absolute live path to an absolute path$"):
        checked_path_map(path_map)


def test_allowed_roots_must_be_absolute():
    assert checked_allowed_roots(["/etc/nginx", "/srv"]) == ["/etc/nginx", "/srv"]
    with pytest.raises(OptionError, match="allowed_roots: 'srv' is not an absolute path"):
        checked_allowed_roots(["/etc/nginx", "srv"])


@pytest.mark.parametrize("enabled_before", [True, False])
def test_gc_paused_pauses_the_collector_and_restores_it_as_it_was(enabled_before):
    (gc.enable if enabled_before else gc.disable)()
    try:
        with pytest.raises(RuntimeError):
            with gc_paused():
                assert not gc.isenabled()
                raise RuntimeError("the collector comes back even so")
        assert gc.isenabled() == enabled_before
    finally:
        gc.enable()
