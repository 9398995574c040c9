#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
---
module: web_refs
short_description: Check every file, directory and socket an nginx or Apache configuration refers to
version_added: 0.1.0
description:
  - Reads an nginx or Apache main configuration and every file it includes, the way the server does,
    and checks that each file, directory and unix socket the configuration refers to exists.
  - Finds what C(nginx -t) and C(apachectl -t) let through and every request then fails on, such as a
    C(root) with a typo, a C(try_files) fallback to a missing C(/index.php), a C(SCRIPT_FILENAME) naming a
    missing script, a C(fastcgi_pass) socket of a PHP version the host no longer runs, or an
    C(auto_prepend_file) that is gone.
  - With O(path_map), a release that is staged but not yet live is checked as if it were live.
  - Returns the PHP files the configuration reaches itself, the directories under which it runs whichever PHP file a
    request names, and, for nginx, the PHP files under those directories that no request runs, for
    M(lastgood.webstack.php_refs).
  - The module changes nothing on the host.
author:
  - lastgood.webstack contributors (!UNKNOWN)
options:
  server:
    description:
      - Which web server reads O(config).
    type: str
    required: true
    choices: [nginx, apache]
  config:
    description:
      - The main configuration file; includes are followed from it.
      - Defaults to C(/etc/nginx/nginx.conf) for nginx and C(/etc/apache2/apache2.conf) for Apache.
    type: path
  path_map:
    description:
      - Maps a live path prefix to the prefix where its files really are, for example the C(current)
        symlink of a site to a staged release directory.
      - Applied to every referenced path and include before it is checked. Prefixes match whole path
        components and the longest one wins.
    type: dict
    default: {}
  check_sockets:
    description:
      - Check the unix sockets named by C(fastcgi_pass), C(proxy_pass), C(uwsgi_pass), C(scgi_pass),
        C(grpc_pass), upstream C(server unix:...), C(SetHandler "proxy:unix:...") and C(ProxyPass ... unix:...).
      - Turn off when the configuration is checked on a host where PHP-FPM is not running yet.
    type: bool
    default: true
  apache_defines:
    description:
      - Names defined for Apache as with C(-D), for C(<IfDefine>) sections.
    type: list
    elements: str
    default: []
  php_fpm_pools:
    description:
      - PHP-FPM pool files (live paths, read through O(path_map)) that come with the configuration being checked.
        The unix sockets they C(listen) on count as present, since PHP-FPM creates them when it loads the pools.
      - A directory stands for the C(*.conf) files in it; a path that does not exist is skipped.
    type: list
    elements: path
    default: []
  allowed_roots:
    description:
      - The trees the configuration may reach, for example V([/etc/nginx, /srv/lastgood/shop, /run/php, /var/log/nginx]).
      - Each referenced path, with its symlinks followed, must be under one of them, or under where
        O(path_map) puts one of them; anything else, such as C(root /) or an C(include /etc/shadow), is an
        error. An include outside them is reported and never read.
      - Empty, the default, allows every path.
    type: list
    elements: path
    default: []
extends_documentation_fragment:
  - lastgood.webstack.attributes
  - lastgood.webstack.attributes.read_only
notes:
  - Severity C(error) is a reference that makes requests fail; C(warning) one that breaks nothing by itself
    (an Apache C(<Directory>) for a path that does not exist), or a script path that reaches PHP-FPM through a
    link a switch of releases changes (an nginx C(SCRIPT_FILENAME) without C($realpath_root), an Apache
    C(DocumentRoot) with a PHP handler); C(info) one worth knowing about (an include glob that matches no file).
  - Warnings are also shown as Ansible warnings, the first 10.
  - PHP-FPM's opcache keeps each script compiled under the path it was asked for, so behind a C(current) link the
    code compiled before a switch keeps answering after it; the release module's O(lastgood.webstack.release#module:php_fpm)
    option (on in the collection's roles) reloads PHP-FPM after every switch, which is what the warning says.
  - A path that holds variables is checked through the directory of its longest static prefix. For nginx, a
    variable that C(set) gives a literal value in the server or in the location that serves the request (as for
    Magento's C($MAGE_ROOT)) is put in first; one set from other variables, in an C(if) block, or by C(map),
    C(geo) or a regex capture stays unknown.
  - nginx URIs named by C(try_files), C(error_page), C(index) and C(rewrite) are followed as nginx serves them,
    to the location they route to, through its C(rewrite) and C(return), its C(try_files) (with the files that
    exist) and named locations, to a file or to the script PHP-FPM runs. A URI whose path is a file name followed
    by variables (C(/index.php$request_uri), C(/index.php$is_args$args)) is followed by that file name. A URI
    answered without a file (C(return), a redirect, C(deny all), a proxy) is no error.
  - Apache's C(<IfVersion>) compares with the version C(apache2 -v) reports when the binary is found.
seealso:
  - module: lastgood.webstack.php_refs
"""

EXAMPLES = r"""
- name: Check the live nginx configuration
  lastgood.webstack.web_refs:
    server: nginx

- name: Check a staged release as if it were live
  lastgood.webstack.web_refs:
    server: nginx
    config: /etc/nginx/nginx.conf
    path_map:
      /srv/lastgood/shop/current: /srv/lastgood/shop/releases/20261124T101500
  register: shop_refs

- name: Show what the release makes executable
  ansible.builtin.debug:
    var: shop_refs.php_entrypoints

- name: Check a release that brings its own PHP-FPM pool (its socket appears when PHP-FPM reloads)
  lastgood.webstack.web_refs:
    server: nginx
    path_map:
      /srv/lastgood/shop/current: /srv/lastgood/shop/releases/20261124T101500
    php_fpm_pools:
      - /srv/lastgood/shop/current/php-fpm

- name: Refuse a configuration that reaches outside the site's own trees
  lastgood.webstack.web_refs:
    server: nginx
    allowed_roots:
      - /etc/nginx
      - /srv/lastgood/shop
      - /run/php
      - /var/log/nginx
      - /usr/share/nginx

- name: Check Apache without the PHP-FPM sockets (PHP-FPM is not installed yet)
  lastgood.webstack.web_refs:
    server: apache
    check_sockets: false
"""

RETURN = r"""
pool_sockets:
  description: The unix sockets the pools of O(php_fpm_pools) listen on.
  returned: always
  type: list
  elements: str
  sample: [/run/php/shop.sock]
findings:
  description:
    - What is wrong or worth knowing, in configuration order.
    - O(path_map) is reflected in RV(findings[].file), the file that was read; RV(findings[].path) is the path
      as the server would look for it (the longest static prefix for a path with variables).
  returned: always
  type: list
  elements: dict
  contains:
    severity:
      description: C(error), C(warning) or C(info).
      type: str
    file:
      description: The configuration file the directive is in.
      type: str
    line:
      description: The directive's line in RV(findings[].file).
      type: int
    directive:
      description: The directive as written.
      type: str
    path:
      description: The missing path as the server would look for it.
      type: str
    message:
      description: One line for a person.
      type: str
  sample:
    - severity: error
      file: /etc/nginx/sites-enabled/shop.conf
      line: 14
      directive: fastcgi_pass
      path: /run/php/php7.4-fpm.sock
      message: /run/php/php7.4-fpm.sock does not exist
references:
  description: Every reference found, whether or not it exists.
  returned: always
  type: list
  elements: dict
  contains:
    file:
      description: The configuration file the directive is in.
      type: str
    line:
      description: The directive's line.
      type: int
    directive:
      description: The directive as written.
      type: str
    kind:
      description: What the path is to the server, such as C(root), C(index), C(try_files), C(socket), C(include).
      type: str
    path:
      description: The live path.
      type: str
    checked:
      description: Where the path was looked for (after O(path_map)).
      type: str
    exists:
      description: Whether it exists as needed (a directory for a root, a socket for a socket).
      type: bool
    context:
      description: The server (server_name or VirtualHost) and location the directive belongs to.
      type: str
  sample:
    - file: /etc/nginx/sites-enabled/default
      line: 41
      directive: root
      kind: root
      path: /var/www/html
      checked: /var/www/html
      exists: true
      context: http > server _
php_entrypoints:
  description:
    - PHP files (live paths) the configuration names or reaches itself and that exist, each the script PHP-FPM runs
      for it, in the order they are met.
    - The scripts that index files, C(try_files) fallbacks, C(error_page) and C(rewrite) targets reach (nginx),
      C(DirectoryIndex), C(FallbackResource) and C(ErrorDocument) targets (Apache), a literal C(SCRIPT_FILENAME),
      and C(auto_prepend_file)/C(auto_append_file) settings passed to PHP-FPM.
  returned: always
  type: list
  elements: str
  sample: [/usr/share/wordpress/index.php]
php_roots:
  description:
    - Directories (live paths) under which the configuration runs whichever PHP file a request names, so any PHP
      file under them may be requested directly (except those of RV(php_hidden)).
    - For nginx, the directory a C(SCRIPT_FILENAME) builds the script path from with the request's path
      (C($document_root$fastcgi_script_name), C($realpath_root/public$fastcgi_script_name),
      C(/srv/app$fastcgi_script_name), C($request_filename)); for Apache, the C(DocumentRoot) and C(Alias)
      directories served with a PHP handler.
  returned: always
  type: list
  elements: str
  sample: [/usr/share/wordpress]
php_hidden:
  description:
    - Glob patterns (fnmatch, live paths) of the PHP files under RV(php_roots) that no request from a client runs,
      because the location their URI routes to denies them (C(deny all)), answers with C(return) or a redirect,
      rewrites them elsewhere, is C(internal), does not pass them to PHP-FPM, or runs another script; the files of
      RV(php_entrypoints) are never among them.
    - A directory whose every PHP file is hidden is given as C(<dir>/*) (C(*) matching C(/) too), other files one
      by one. Computed from the files on disk (after O(path_map)); the walk does not follow symbolic links to
      directories and stops after 50,000 entries with an C(info) finding.
    - Always empty for Apache.
  returned: always
  type: list
  elements: str
  sample: [/var/www/nextcloud/lib/*, /var/www/nextcloud/3rdparty/*, /var/www/nextcloud/console.php]
php_include_path:
  description:
    - The C(include_path) values the configuration sets for PHP (C(php_value include_path) and
      C(php_admin_value include_path) for Apache, C(PHP_VALUE) and C(PHP_ADMIN_VALUE) parameters for both), each
      once, in the order met; give one to M(lastgood.webstack.php_refs) as O(lastgood.webstack.php_refs#module:include_path)
      (split on C(:)).
  returned: always
  type: list
  elements: str
  sample: [".:/usr/share/php:/srv/app/lib"]
files_parsed:
  description:
    - Every configuration file read, in reading order, where it was read (after O(path_map)); a file included
      again is listed again.
  returned: always
  type: list
  elements: str
  sample: [/etc/nginx/nginx.conf, /etc/nginx/mime.types, /etc/nginx/sites-enabled/default]
config_files:
  description:
    - The configuration files read, each once, in reading order, as live paths (before O(path_map)), as the server
      would name them once the release is switched in.
    - Whether a staged release's own files are among them tells whether the live configuration includes the
      release at all (the deploy role refuses a release it does not); compare with
      RV(lastgood.webstack.config_test#module:config_files), what the server's own test loaded.
  returned: always
  type: list
  elements: str
  sample: [/etc/nginx/nginx.conf, /etc/nginx/mime.types, /etc/nginx/sites-enabled/shop.conf,
           /srv/lastgood/shop/current/nginx/shop.conf]
counts:
  description: The number of findings of each severity.
  returned: always
  type: dict
  sample: {error: 0, warning: 1, info: 2}
access_logs:
  description:
    - The access logs (live paths) the site's requests are written to, for a watch of real traffic (the
      C(watchdog) role's O(lastgood.webstack.watchdog#role:main:watchdog_access_logs)).
    - The site is the nginx C(server) blocks and Apache C(<VirtualHost>) sections written in, or holding a
      directive from, a file read through a prefix of O(path_map) (every one when O(path_map) is empty). For each,
      its own C(access_log) (and those of its locations) or C(CustomLog)/C(TransferLog), else those of the
      enclosing C(http) block or the main server, else nginx's built-in C(/var/log/nginx/access.log); Apache has
      no built-in access log.
    - A log that cannot be watched (C(off), syslog, a pipe, variables in its path, nginx's C(gzip)) is left out
      with an C(info) finding at its line; so is a buffered nginx C(access_log), which is kept.
  returned: always
  type: list
  elements: str
  sample: [/var/log/nginx/access.log]
error_logs:
  description:
    - The error logs (live paths) of the same blocks as RV(access_logs), chosen the same way (nginx's
      C(error_log), inherited down to the server, built-in C(/var/log/nginx/error.log); Apache's C(ErrorLog), else
      C(logs/error_log) under C(ServerRoot)). Not PHP-FPM's own log.
  returned: always
  type: list
  elements: str
  sample: [/var/log/nginx/error.log]
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.lastgood.webstack.plugins.module_utils._common.host import CheckFailed, ModuleHost
from ansible_collections.lastgood.webstack.plugins.module_utils._common.params import OptionError
from ansible_collections.lastgood.webstack.plugins.module_utils._webconf.run import ARGUMENT_SPEC, run_web_refs


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    host = ModuleHost(module)
    try:
        output = run_web_refs(module.params, host)
    except OptionError as error:
        module.fail_json(msg=str(error))
    except CheckFailed as error:
        module.fail_json(msg=str(error), **error.result)
    module.exit_json(changed=False, **output)


if __name__ == "__main__":
    main()
