#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
---
module: php_refs
short_description: Follow include and require through PHP code and report every missing target
version_added: 0.1.0
description:
  - Scans PHP files statically, in one pass and without running PHP, and resolves each C(include), C(include_once),
    C(require) and C(require_once) the way PHP would, reporting every target that does not exist at its file and line.
  - Resolution follows the code from its entry points, as requests and commands run it. The entry points are
    O(web_entrypoints), O(cli_entrypoints), and every PHP file under O(web_roots) that no other file includes, that
    no O(web_hidden) pattern names and that is not in a development folder (C(tests), C(examples), C(demo),
    C(benchmarks), C(docs), C(vendor/*/bin)...). Without web entry points or roots, every PHP file under O(paths) that
    no other file includes is one.
  - From an entry point the working directory is the entry script's directory. A relative path is looked for as PHP
    does. A path starting with C(./) or C(../) is taken against the working directory only. Any other relative path
    is looked for in each include_path entry (C(.) is the working directory), then in the including file's
    directory. C(set_include_path()) and C(ini_set('include_path', ...)) with a value the scan can evaluate change
    the include_path from that statement on. Every file an include reaches is scanned, whatever its name.
  - When a file is reached from several entry points and fails from one of them, the finding names that entry point.
  - A failing C(require) that no entry point reaches is a warning that says so.
  - A branch that a C(file_exists()), C(is_file()), C(is_readable()) or C(is_dir()) test of a path the scan can
    evaluate rules out is not reported. A failing statement behind an environment probe the scan cannot decide
    (C(function_exists()), C(class_exists()), C(version_compare()), C(PHP_VERSION_ID), C(defined())...) is info,
    unless every branch of its if/else fails.
  - A file that cannot be read (a dangling symlink) is a warning at its path; a require that reaches it is an error.
  - Every file that the autoload maps composer generated (C(vendor/composer/autoload_static.php), or
    C(autoload_classmap.php), C(autoload_files.php), C(autoload_psr4.php) and C(autoload_namespaces.php) where PHP
    loads those) name must exist; a missing class or C(files) entry is an error at the map's line, a missing psr-4 or
    psr-0 directory a warning. Each C(vendor/) under O(paths) is checked.
  - Finds what C(php -l) cannot, such as C(require_once ABSPATH . WPINC . '/class-wp-locale.phpp').
  - Expressions of string literals, concatenation, parentheses, C(__DIR__), C(__FILE__), C(dirname()),
    C(DIRECTORY_SEPARATOR) and constants from C(define()) and C(const) are evaluated; anything else is reported as
    unresolved (info), never guessed.
  - A missing C(require) target is an error, a missing C(include) target a warning; a statement guarded by
    C(file_exists()), C(is_file()) or C(is_readable()) of the same expression, or silenced with C(@), is info.
  - When only the literal end of a C(require) path is known (C($IP . '/includes/Setup.php')) and no file of the trees
    and nothing in the include_path ends with it, whatever its name, that is an error; when exactly one file ends with
    it, the scan follows the statement into that file.
author:
  - lastgood.webstack contributors (!UNKNOWN)
options:
  paths:
    description: PHP files and directories; directories are scanned recursively for C(*.php), symlinked folders once.
    type: list
    elements: path
    required: true
  include_path:
    description:
      - PHP's include_path for bare relative paths. By default the host's own (C(php -r 'echo get_include_path();'))
        when PHP is installed, else C(.) and C(/usr/share/php).
    type: list
    elements: str
  constants:
    description: Constants known from outside the code, added to those the code defines (and winning over them).
    type: dict
    default: {}
  ini_files:
    description:
      - php.ini or PHP-FPM pool files whose C(auto_prepend_file) and C(auto_append_file) settings (also as
        C(php_value[...]) and C(php_admin_value[...])) are checked too.
      - A directory stands for the C(*.conf) and C(*.ini) files in it.
    type: list
    elements: path
    default: []
  path_map:
    description:
      - Maps a live path prefix to the prefix where its files really are (a staged release), as in
        M(lastgood.webstack.web_refs). Paths are reported as live paths.
    type: dict
    default: {}
  exclude:
    description: Glob patterns of live paths to leave out of the scan.
    type: list
    elements: str
    default: []
  lint:
    description: Also run C(php -l) on every scanned file, as many at a time as O(jobs) says; syntax errors are errors.
    type: bool
    default: false
  allowed_roots:
    description:
      - The trees the code may reach, for example V([/srv/lastgood/shop, /usr/share/php]).
      - Each scanned file and each include, require and C(auto_prepend_file)/C(auto_append_file) target, with its
        symlinks followed, must be under one of them or under where O(path_map) puts one of them; a target
        outside them is an error, a scanned folder or file outside them is not scanned and fails the module.
      - Empty, the default, allows every path.
    type: list
    elements: path
    default: []
  web_entrypoints:
    description:
      - PHP files the web server runs directly, such as RV(lastgood.webstack.web_refs#module:php_entrypoints). Each is
        an entry point.
    type: list
    elements: path
    default: []
  web_roots:
    description:
      - Document roots and aliases under which the web server runs PHP files, such as
        RV(lastgood.webstack.web_refs#module:php_roots).
      - Each PHP file under them that no other file includes is an entry point, unless O(web_hidden) names it or
        it is in a development folder.
    type: list
    elements: path
    default: []
  web_hidden:
    description:
      - Glob patterns of live paths under O(web_roots) that the web server does not run, such as
        RV(lastgood.webstack.web_refs#module:php_hidden).
    type: list
    elements: str
    default: []
  cli_entrypoints:
    description:
      - PHP scripts run from cron or the command line, such as V(/srv/app/current/app/bin/cron.php). Each is an entry
        point, with its own directory as the working directory.
    type: list
    elements: path
    default: []
  jobs:
    description:
      - Processes that read and tokenize the files, each a forked copy of the module taking a share of them; the
        resolution that follows runs in one. The result is the same whatever the number.
      - By default one per CPU the module may run on, 8 at most. V(1) keeps the scan in the module's own process, for a host
        whose CPUs the site needs; trees of fewer than 64 files per process are scanned in one anyway.
      - With O(lint), also how many C(php -l) run at once.
      - When PHP's tokenizer reads the files (O(tokenizer)), how many C(php) processes share them, 192 files each at
        least.
    type: int
  tokenizer:
    description:
      - What tokenizes the files to find their include, require, C(define()) and C(const) statements. The findings are
        the same whichever does it.
      - V(php) is PHP's own tokenizer (C(PhpToken), PHP 8.0 or later with the tokenizer extension), one C(php -n)
        process per job reading a share of the files; a file it could read differently from the module's own
        tokenizer (a string whose interpolation holds quotes, backticks, C(__halt_compiler()), a bare CR line end, a
        keyword next to a non-ASCII byte...), and any file a C(php) process fails to deliver, is tokenized by the
        module's own. Without a C(php) binary the module fails; with a PHP too old to tokenize, it warns and uses its
        own.
      - V(python) is the module's own tokenizer, in the module's process and its forks (O(jobs)).
      - V(auto) uses PHP's when C(php) is on the PATH and the scan has 192 files or more (fewer are faster to tokenize
        than to start C(php) for), else the module's own. RV(tokenizer) says which one ran.
    type: str
    choices: [auto, php, python]
    default: auto
attributes:
  platform:
    details: O(lint) and O(tokenizer=php) need the PHP CLI.
extends_documentation_fragment:
  - lastgood.webstack.attributes
  - lastgood.webstack.attributes.read_only
notes:
  - A command-line script's working directory is where it is started from; the scan takes the script's own directory.
seealso:
  - module: lastgood.webstack.web_refs
"""

EXAMPLES = r"""
- name: Check a staged WordPress release as if it were live
  lastgood.webstack.php_refs:
    paths: [/srv/lastgood/blog/current/app]
    path_map:
      /srv/lastgood/blog/current: /srv/lastgood/blog/releases/20261124T1015
    exclude: ["*/wp-content/upgrade/*"]

- name: Check the application and its PHP-FPM pool's auto_prepend_file
  lastgood.webstack.php_refs:
    paths: [/var/www/app]
    ini_files: [/etc/php/8.2/fpm/pool.d/app.conf]
    constants:
      APP_ROOT: /var/www/app/

- name: Check a release from the entry points its web config gives
  lastgood.webstack.php_refs:
    paths: [/srv/lastgood/shop/current/app]
    web_entrypoints: "{{ shop_refs.php_entrypoints }}"
    web_roots: "{{ shop_refs.php_roots }}"
    web_hidden: "{{ shop_refs.php_hidden }}"
    cli_entrypoints: [/srv/lastgood/shop/current/app/bin/cron.php]

- name: Refuse code that includes anything outside the release and PHP's own library
  lastgood.webstack.php_refs:
    paths: [/srv/lastgood/blog/current/app]
    path_map:
      /srv/lastgood/blog/current: /srv/lastgood/blog/releases/20261124T1015
    allowed_roots: [/srv/lastgood/blog/current, /usr/share/php]
"""

RETURN = r"""
findings:
  description: Missing or unresolved targets, in scan order.
  returned: always
  type: list
  elements: dict
  contains:
    severity:
      description: C(error), C(warning) or C(info).
      type: str
    file:
      description: The file the statement is in (live path).
      type: str
    line:
      description: The statement's line (none for a C(php -l) error that names no line).
      type: int
    directive:
      description:
        - C(require), C(require_once), C(include) or C(include_once), the ini setting, C(php -l), C(read), or a composer
          map (C(composer classmap), C(composer files), C(composer psr-4), C(composer psr-0)); the same as
          RV(findings[].statement).
        - The key the findings of M(lastgood.webstack.web_refs) have too, so that the findings of both read alike.
      type: str
    statement:
      description: The same as RV(findings[].directive).
      type: str
    expression:
      description: The statement's expression as written.
      type: str
    path:
      description: The resolved path, or the literal tail when the prefix could not be resolved.
      type: str
    message:
      description: One line for a person.
      type: str
  sample:
    - severity: error
      file: /usr/share/wordpress/wp-settings.php
      line: 120
      directive: require
      statement: require
      expression: "ABSPATH . WPINC . '/class-wp-locale.phpp'"
      path: /usr/share/wordpress/wp-includes/class-wp-locale.phpp
      message: /usr/share/wordpress/wp-includes/class-wp-locale.phpp does not exist
files_scanned:
  description: PHP files scanned.
  returned: always
  type: int
  sample: 952
includes_total:
  description: include and require statements found.
  returned: always
  type: int
  sample: 1231
includes_resolved:
  description: Those whose path was resolved statically.
  returned: always
  type: int
  sample: 1162
unresolved:
  description: Those whose path depends on run time.
  returned: always
  type: int
  sample: 69
lint_errors:
  description: With O(lint), the files C(php -l) refused.
  returned: when O(lint) is true
  type: int
  sample: 0
composer:
  description: The autoload maps of composer checked.
  returned: always
  type: dict
  contains:
    vendor_dirs:
      description: C(vendor/) directories with composer's maps under O(paths).
      type: int
    maps:
      description: Map files read.
      type: int
    entries:
      description: Classes, files and namespace directories the maps name.
      type: int
  sample: {vendor_dirs: 1, maps: 1, entries: 1728}
tokenizer:
  description:
    - What tokenized the files. V(php) when PHP's tokenizer read them (those it leaves to the module's own tokenizer
      by design included), V(php+python) when a C(php) process failed part way and the module's own tokenizer read the
      files it did not deliver, V(python) when the module's own read them all.
  returned: always
  type: str
  sample: php
duration_ms:
  description: Time the scan took.
  returned: always
  type: float
  sample: 1012.5
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.lastgood.webstack.plugins.module_utils._common.host import CheckFailed, ModuleHost
from ansible_collections.lastgood.webstack.plugins.module_utils._common.params import OptionError
from ansible_collections.lastgood.webstack.plugins.module_utils._php.run import ARGUMENT_SPEC, run_php_refs


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    try:
        output = run_php_refs(module.params, ModuleHost(module))
    except OptionError as error:
        module.fail_json(msg=str(error))
    except CheckFailed as error:
        module.fail_json(msg=str(error), **error.result)
    module.exit_json(changed=False, **output)


if __name__ == "__main__":
    main()
