"""The incident through the pipeline on Apache with PHP-FPM: a-staging1, a-prod1, a-prod2."""

import os
import sys

import testinfra

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "resources"))

from pipeline_checks import canary_order, check_production, check_staging  # noqa: E402

testinfra_hosts = ["podman://a-staging1", "podman://a-prod1", "podman://a-prod2"]


def test_each_host(host):
    name = host.backend.get_hostname()
    if name.startswith("a-staging"):
        check_staging(host)
    else:
        check_production(host)


def test_production_took_v3_one_canary_batch_at_a_time():
    hosts = {name: testinfra.get_host("podman://" + name) for name in ("a-prod1", "a-prod2")}
    # Batches [1, 25%, 100%] of two hosts: a-prod1 alone, then a-prod2.
    assert canary_order(hosts) == ["a-prod1", "a-prod2"]
