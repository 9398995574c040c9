"""The incident through the pipeline on nginx: staging1, prod1, prod2."""

import os
import sys

import testinfra

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "resources"))

from pipeline_checks import canary_order, check_production, check_staging  # noqa: E402

testinfra_hosts = ["podman://staging1", "podman://prod1", "podman://prod2"]


def test_each_host(host):
    name = host.backend.get_hostname()
    if name.startswith("staging"):
        check_staging(host)
    else:
        check_production(host)


def test_production_took_v3_one_canary_batch_at_a_time():
    hosts = {name: testinfra.get_host("podman://" + name) for name in ("prod1", "prod2")}
    # Batches [1, 25%, 100%] of two hosts: prod1 alone, then prod2.
    assert canary_order(hosts) == ["prod1", "prod2"]
