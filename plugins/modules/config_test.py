#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
---
module: config_test
short_description: Run nginx's, Apache's or PHP-FPM's own config test on a staged release before it goes live
version_added: 0.1.0
description:
  - Copies the web server's configuration directory to a temporary directory, rewrites the copy so that the
    live paths of O(path_map) point at their candidates (a staged release in place of C(current)), and runs the
    server's own test on it, C(nginx -T -q -c <copy>/nginx.conf), C(apache2ctl -t -D DUMP_INCLUDES) with
    C(APACHE_CONFDIR=<copy>), or C(php-fpm<version> -t -y <copy>/php-fpm.conf) for the pools a release brings.
  - For nginx and Apache, returns the configuration files the test loaded (from nginx's dump and Apache's list of
    includes) as live paths, so that a caller can check that a staged release's own files were among them.
  - The live configuration and the live release are not touched; the copy is removed afterwards.
  - Output of the server is translated back to live paths.
author:
  - lastgood.webstack contributors (!UNKNOWN)
options:
  server:
    description: Which server's test to run.
    type: str
    required: true
    choices: [nginx, apache, php-fpm]
  path_map:
    description:
      - Maps a live path prefix to the prefix the candidate uses, for example the C(current) symlink of a site to a
        staged release directory. Applied as text to every file of the copy.
    type: dict
    default: {}
  config_dir:
    description:
      - The configuration directory to copy. Defaults to C(/etc/nginx), C(/etc/apache2), or for PHP-FPM the one
        C(/etc/php/<version>/fpm) there is (the newest when there are several).
      - For PHP-FPM the binary is C(php-fpm<version>) of that directory, else C(php-fpm).
    type: path
  tmp_dir:
    description: Where the temporary copy is made. Defaults to the system's temporary directory.
    type: path
attributes:
  check_mode:
    details: The test only reads the live configuration, so check mode runs it too.
  platform:
    details: Needs the server's binary on the host.
extends_documentation_fragment:
  - lastgood.webstack.attributes
  - lastgood.webstack.attributes.read_only
notes:
  - Relative paths in the server's configuration are resolved inside the copy, absolute paths outside the
    configuration directory stay live, as the server would read them once the release is switched in.
seealso:
  - module: lastgood.webstack.web_refs
"""

EXAMPLES = r"""
- name: Test the configuration nginx would have with the staged release
  lastgood.webstack.config_test:
    server: nginx
    path_map:
      /srv/lastgood/shop/current: /srv/lastgood/shop/releases/20261124T1015

- name: Test PHP-FPM with the pools of the staged release in place of the live ones
  lastgood.webstack.config_test:
    server: php-fpm
    path_map:
      /srv/lastgood/shop/current: /srv/lastgood/shop/releases/20261124T1015
"""

RETURN = r"""
rc:
  description: Exit status of the server's test.
  returned: always
  type: int
  sample: 0
output:
  description:
    - What the server's test printed (stderr then stdout), with paths of the copy shown as live paths, without
      nginx's dump of the configuration and Apache's list of included files (see RV(config_files)).
  returned: always
  type: str
  sample: "nginx: [warn] conflicting server name \"shop.test\" on 0.0.0.0:80, ignored"
config_files:
  description:
    - The configuration files the server's test loaded, each once, in loading order, as live paths, the copy's
      files as the files of O(config_dir) and the candidates of O(path_map) as their live prefix (a staged
      release's files as C(current)'s).
    - From the C(# configuration file <path>:) lines of C(nginx -T) and the list of C(apachectl -t -D DUMP_INCLUDES);
      always empty for PHP-FPM, whose test does not list them.
    - A line of a configuration file's own text that reads exactly like the header nginx writes before each
      file is taken for one.
  returned: always
  type: list
  elements: str
  sample: [/etc/nginx/nginx.conf, /etc/nginx/mime.types, /etc/nginx/sites-enabled/shop.conf,
           /srv/lastgood/shop/current/nginx/shop.conf, /etc/nginx/snippets/fastcgi-php.conf]
cmd:
  description: The command that ran, on the copy.
  returned: always
  type: list
  elements: str
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.lastgood.webstack.plugins.module_utils._common.params import OptionError, checked_path_map
from ansible_collections.lastgood.webstack.plugins.module_utils._webconf.candidate import (
    SERVERS,
    default_config_dir,
    server_binary,
    test_candidate,
)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            server=dict(type="str", required=True, choices=list(SERVERS)),
            path_map=dict(type="dict", default={}),
            config_dir=dict(type="path"),
            tmp_dir=dict(type="path"),
        ),
        supports_check_mode=True,
    )
    server = module.params["server"]
    config_dir = module.params["config_dir"] or default_config_dir(server)
    if config_dir is None:
        module.fail_json(msg="no /etc/php/<version>/fpm on this host: is PHP-FPM installed? Set config_dir otherwise.")
    config_dir = config_dir.rstrip("/")
    try:
        path_map = checked_path_map(module.params["path_map"])
    except OptionError as error:
        module.fail_json(msg=str(error))
    if not os.path.isdir(config_dir):
        module.fail_json(msg="config_dir %s is not a directory" % config_dir)
    binary = server_binary(lambda name, required, dirs: module.get_bin_path(name, required=required, opt_dirs=dirs),
                           server, config_dir)
    try:
        rc, output, cmd, files = test_candidate(server, config_dir, path_map, binary,
                                                lambda cmd, environ: module.run_command(cmd, environ_update=environ),
                                                module.params["tmp_dir"])
    except OSError as error:
        module.fail_json(msg="cannot copy %s for the test: %s: %s" % (config_dir, error.filename, error.strerror))
    result = dict(changed=False, rc=rc, output=output, cmd=cmd, config_files=files)
    if rc != 0:
        module.fail_json(msg="%s refuses the candidate configuration: %s" % (server, output or "exit %d" % rc), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
