#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
---
module: health_probe
short_description: Probe a site with many HTTP requests in one call and fail on the first burst of errors
version_added: 0.1.0
description:
  - Sends GET requests to O(urls) from O(concurrency) threads over kept-alive connections, for O(requests) requests
    or for O(duration) seconds (the bake time of a new release), and judges each answer as it arrives.
  - O(fail_fast) consecutive failed requests end the probe at once, so a deploy can roll back within a second of a
    release starting to fail, instead of a M(ansible.builtin.uri) loop with retries and delays.
  - Fails when a threshold is crossed, saying which, with samples of the failed answers.
  - Meant for the host's own loopback; the requests go wherever O(urls) say.
author:
  - lastgood.webstack contributors (!UNKNOWN)
options:
  urls:
    description: URLs to request, in turn.
    type: list
    elements: str
    required: true
  host_header:
    description: The C(Host) header to send (the site's server name), when it is not the URL's host.
    type: str
  expect_status:
    description: Statuses that count as success.
    type: list
    elements: int
    default: [200]
  expect_body:
    description: A regular expression the first 64 KiB of each body must match.
    type: str
  requests:
    description: How many requests to send. Mutually exclusive with O(duration); the default when neither is given is 20.
    type: int
  duration:
    description: Seconds to probe for (the bake time). Mutually exclusive with O(requests).
    type: float
  rate:
    description: Requests per second over all threads; V(0) sends as fast as answers come.
    type: float
    default: 50
  concurrency:
    description: Requests in flight at once.
    type: int
    default: 2
  timeout:
    description: Seconds one request may take; a request that takes longer counts as failed.
    type: float
    default: 5
  max_error_rate:
    description: Share of failed requests (0 to 1) above which the probe fails.
    type: float
    default: 0.0
  max_p95_ms:
    description: 95th percentile latency in milliseconds above which the probe fails.
    type: float
  fail_fast:
    description: Consecutive failed requests that end the probe at once and fail it; V(0) never ends it early.
    type: int
    default: 3
  validate_certs:
    description: Verify TLS certificates of https URLs.
    type: bool
    default: true
attributes:
  check_mode:
    details: A probe only sends GET requests, so it runs in check mode too and reports the site's health.
extends_documentation_fragment:
  - lastgood.webstack.attributes
  - lastgood.webstack.attributes.read_only
notes:
  - A request counts as failed when its status is not in O(expect_status), its body does not match O(expect_body),
    it times out, or the connection fails (counted under C(no_answer) in RV(status_counts)).
seealso:
  - module: ansible.builtin.uri
"""

EXAMPLES = r"""
- name: Watch the new release for ten seconds on the host's loopback
  lastgood.webstack.health_probe:
    urls: [http://127.0.0.1/]
    host_header: shop.example
    duration: 10
    fail_fast: 3

- name: 200 quick requests, none may fail, p95 under 300 ms
  lastgood.webstack.health_probe:
    urls:
      - http://127.0.0.1/
      - http://127.0.0.1/cart
    requests: 200
    concurrency: 4
    rate: 0
    max_p95_ms: 300
    expect_body: "</html>"
"""

RETURN = r"""
total:
  description: Requests answered or failed.
  returned: always
  type: int
  sample: 500
ok:
  description: Requests that succeeded.
  returned: always
  type: int
  sample: 500
errors:
  description: Requests that failed.
  returned: always
  type: int
  sample: 0
error_rate:
  description: RV(errors) / RV(total).
  returned: always
  type: float
  sample: 0.0
status_counts:
  description: Requests per status; C(no_answer) for timeouts and connection failures.
  returned: always
  type: dict
  sample: {"200": 500}
p50_ms:
  description: Median latency.
  returned: always
  type: float
  sample: 3.1
p95_ms:
  description: 95th percentile latency (nearest rank).
  returned: always
  type: float
  sample: 7.9
max_ms:
  description: Slowest request.
  returned: always
  type: float
  sample: 21.4
first_failure_after_ms:
  description: Time from the start of the probe to the first failed answer, or null.
  returned: always
  type: float
  sample: 312.5
elapsed_ms:
  description: How long the probe ran.
  returned: always
  type: float
  sample: 10004.2
stopped_by:
  description: C(fail_fast) when consecutive failures ended the probe early, else null.
  returned: always
  type: str
failure_samples:
  description: Up to five failed requests, with URL, status, reason, when, and the start of the body.
  returned: always
  type: list
  elements: dict
  sample:
    - url: http://127.0.0.1/
      status: 500
      reason: 500 Internal Server Error
      after_ms: 312.5
      body: "PHP Fatal error: ..."
"""

import gc

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.lastgood.webstack.plugins.module_utils._probe import (
    Probe,
    ProbeError,
    describe_failure,
    verdict,
)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            urls=dict(type="list", elements="str", required=True),
            host_header=dict(type="str"),
            expect_status=dict(type="list", elements="int", default=[200]),
            expect_body=dict(type="str"),
            requests=dict(type="int"),
            duration=dict(type="float"),
            rate=dict(type="float", default=50),
            concurrency=dict(type="int", default=2),
            timeout=dict(type="float", default=5),
            max_error_rate=dict(type="float", default=0.0),
            max_p95_ms=dict(type="float"),
            fail_fast=dict(type="int", default=3),
            validate_certs=dict(type="bool", default=True),
        ),
        mutually_exclusive=[("requests", "duration")],
        supports_check_mode=True,
    )
    params = module.params
    if params["requests"] is None and params["duration"] is None:
        params["requests"] = 20
    if not 0 <= params["max_error_rate"] <= 1:
        module.fail_json(msg="max_error_rate is a share between 0 and 1, not %s" % params["max_error_rate"])
    # Latency is what is measured: no collector pauses in the middle of it.
    gc.disable()
    try:
        probe = Probe(
            params["urls"], host_header=params["host_header"], expect_status=params["expect_status"],
            expect_body=params["expect_body"], requests=params["requests"], duration=params["duration"],
            concurrency=params["concurrency"], timeout=params["timeout"], fail_fast=params["fail_fast"],
            rate=params["rate"], validate_certs=params["validate_certs"],
        )
    except ProbeError as error:
        module.fail_json(msg=str(error))
    summary = probe.run()
    problems = verdict(summary, params["max_error_rate"], params["max_p95_ms"], params["fail_fast"])
    if problems:
        module.fail_json(msg=describe_failure(summary, problems), **summary)
    module.exit_json(changed=False, **summary)


if __name__ == "__main__":
    main()
