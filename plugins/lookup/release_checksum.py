# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
---
name: release_checksum
short_description: The checksum of a release bundle on the controller
version_added: 0.1.0
description:
  - Computes, on the controller, the checksum M(lastgood.webstack.release) records when the same directory is staged
    on a host, the sha256 of its C(MANIFEST.sha256) (one C(sha256  path) line per file, sorted by path).
  - Lets a play know a release's identity before copying anything, so deploying the release that is already live
    changes nothing, and production can accept only what staging verified.
author:
  - lastgood.webstack contributors (!UNKNOWN)
options:
  _terms:
    description: Release bundle directories on the controller.
    required: true
    type: list
    elements: path
"""

EXAMPLES = r"""
- name: Name the release after its content
  ansible.builtin.set_fact:
    shop_release_id: "{{ lookup('lastgood.webstack.release_checksum', 'releases/shop-v2')[:12] }}"
"""

RETURN = r"""
_raw:
  description: One sha256 hex digest per directory.
  type: list
  elements: str
"""

import os

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase
from ansible_collections.lastgood.webstack.plugins.module_utils._release.layout import ReleaseError
from ansible_collections.lastgood.webstack.plugins.module_utils._release.manifest import checksum_of, manifest_lines


class LookupModule(LookupBase):

    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        checksums = []
        for term in terms:
            path = os.path.abspath(os.path.expanduser(term))
            if not os.path.isdir(path):
                raise AnsibleLookupError("release bundle %s is not a directory on the controller" % path)
            try:
                checksums.append(checksum_of("".join(manifest_lines(path))))
            except (ReleaseError, OSError) as error:
                raise AnsibleLookupError("cannot checksum release bundle %s: %s" % (path, error))
        return checksums
