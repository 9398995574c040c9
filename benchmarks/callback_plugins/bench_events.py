# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# Used by benchmarks/bench_stock.py only: the moment each task failed on a
# host, so that detection time is measured the same way for the deploy role's
# probe and for a stock playbook's uri health check.

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
---
name: bench_events
type: notification
short_description: Write when each task failed, as JSON lines, for the benchmarks
description:
  - Appends one JSON line per failed task result (host, task name, UNIX time) to the file named by
    E(LASTGOOD_BENCH_EVENTS); does nothing when it is not set.
author:
  - lastgood.webstack contributors (!UNKNOWN)
"""

import json
import os
import time

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "notification"
    CALLBACK_NAME = "bench_events"
    CALLBACK_NEEDS_ENABLED = True

    def v2_runner_on_failed(self, result, ignore_errors=False):
        path = os.environ.get("LASTGOOD_BENCH_EVENTS")
        if not path:
            return
        event = {"event": "failed", "at": time.time(), "host": result._host.get_name(),
                 "task": result._task.get_name(), "ignored": bool(ignore_errors)}
        with open(path, "a") as handle:
            handle.write(json.dumps(event) + "\n")
