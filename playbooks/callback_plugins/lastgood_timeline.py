# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# Ansible loads the callback plugins next to a playbook it runs, this
# collection's playbooks included; this one needs no enabling, so the
# collection's playbooks record and print their timeline by themselves.

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
---
name: lastgood_timeline
type: notification
short_description: The lastgood.webstack.timeline callback, on for the collection's playbooks
description:
  - Loaded without enabling when a playbook of lastgood.webstack runs; see lastgood.webstack.timeline.
  - Does nothing when lastgood.webstack.timeline is enabled by name, which then prints the timeline once.
author:
  - lastgood.webstack contributors (!UNKNOWN)
options:
  dir:
    description: The directory of the JSON lines files, one per run.
    type: path
    default: ./lastgood-timeline/
    env:
      - name: LASTGOOD_TIMELINE_DIR
    ini:
      - section: lastgood_timeline
        key: dir
"""

from ansible import constants
from ansible_collections.lastgood.webstack.plugins.callback.timeline import CallbackModule as TimelineCallback


class CallbackModule(TimelineCallback):
    CALLBACK_NAME = "lastgood_timeline"
    CALLBACK_NEEDS_ENABLED = False

    def __init__(self, display=None):
        super(CallbackModule, self).__init__(display=display)
        self.disabled = TimelineCallback.CALLBACK_NAME in (constants.CALLBACKS_ENABLED or [])
