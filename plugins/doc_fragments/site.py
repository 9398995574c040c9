# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment(object):

    # The site whose release registry a module reads or changes.
    DOCUMENTATION = r"""
options:
  site:
    description: The site's name, a directory under O(base_dir).
    type: str
    required: true
  base_dir:
    description: Where the sites live.
    type: path
    default: /srv/lastgood
"""
