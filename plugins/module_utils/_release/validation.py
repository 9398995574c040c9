# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every check of a staged release before anything live changes, with the
release in place of ``current``: web_refs on the live configuration, the
check that it includes the release's own config files (fail closed),
php_refs on its PHP code from the entry points web_refs found, the web
server's own test on a candidate copy (which must have loaded the release's
files too), and PHP-FPM's own test when the release brings pools. What the
deploy role's validation runs, in one call on the host. Pure standard
library."""

from __future__ import annotations

import os
import time

from ansible_collections.lastgood.webstack.plugins.module_utils._common.host import CheckFailed
from ansible_collections.lastgood.webstack.plugins.module_utils._php.run import ARGUMENT_SPEC as PHP_REFS_SPEC
from ansible_collections.lastgood.webstack.plugins.module_utils._php.run import run_php_refs
from ansible_collections.lastgood.webstack.plugins.module_utils._webconf.candidate import (
    default_config_dir,
    server_binary,
    test_candidate,
)
from ansible_collections.lastgood.webstack.plugins.module_utils._webconf.run import run_web_refs

CONFIG_SUBDIR = {"nginx": "nginx", "apache": "apache"}
DEFAULT_INCLUDE_LINE = {
    "nginx": "include {site_dir}/current/nginx/*.conf;",
    "apache": "IncludeOptional {site_dir}/current/apache/*.conf",
}
DEFAULT_INCLUDE_FILE = {
    "nginx": "/etc/nginx/sites-enabled/{site}.conf",
    "apache": "/etc/apache2/sites-enabled/{site}.conf",
}


def _defaults(spec):
    return {name: option.get("default") for name, option in spec.items()}


def release_config_files(site, release_id, server):
    """The release's own ``nginx/*.conf`` or ``apache/*.conf``, as live
    paths (through ``current``): what the site's include line reads."""
    subdir = CONFIG_SUBDIR[server]
    folder = os.path.join(site.release_dir(release_id), subdir)
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return []
    return [os.path.join(site.current_link, subdir, name) for name in names
            if name.endswith(".conf") and not os.path.isdir(os.path.join(folder, name))]


class ReleaseChecks:
    """The checks of ``release_id`` of ``site`` as ``settings`` say
    (the release_stage module's ``validate`` option); :meth:`run` returns
    what each check found or raises CheckFailed saying why the release is
    invalid."""

    def __init__(self, site, release_id, settings, host, host_label=None):
        self.site = site
        self.release_id = release_id
        self.settings = settings
        self.host = host
        self.host_label = host_label or "this host"
        self.server = settings["server"]
        self.live = site.current_link
        self.release_dir = site.release_dir(release_id)
        self.path_map = {self.live: self.release_dir}
        self.results = {"timings": {}}

    def _timed(self, name, function):
        started = time.monotonic()
        try:
            return function()
        finally:
            self.results["timings"][name + "_ms"] = round((time.monotonic() - started) * 1000.0, 1)

    def run(self):
        has_app = os.path.isdir(os.path.join(self.release_dir, "app"))
        has_pools = os.path.isdir(os.path.join(self.release_dir, "php-fpm"))
        own_files = release_config_files(self.site, self.release_id, self.server)
        self.results["release_config_files"] = own_files
        web = self._timed("web_refs", lambda: self._web_refs(has_pools))
        self.results["web_refs"] = web
        self._require_read(own_files, web["config_files"], "web_refs")
        if self.settings["check_php"] and has_app:
            self.results["php_refs"] = self._timed("php_refs", lambda: self._php_refs(web))
        config_test = self._timed("config_test", self._config_test)
        self.results["config_test"] = config_test
        self._require_read(own_files, config_test["config_files"],
                           "%s's own test (config_test)" % self.server)
        if has_pools:
            self.results["php_fpm_test"] = self._timed("php_fpm_test", self._php_fpm_test)
        return self.results

    def _web_refs(self, pools=False):
        params = dict(config=None, path_map=self.path_map, apache_defines=[], allowed_roots=[],
                      server=self.server, check_sockets=self.settings["check_sockets"],
                      php_fpm_pools=[self.live + "/php-fpm"] if pools else [])
        try:
            return run_web_refs(params, self.host)
        except CheckFailed as error:
            self.results["web_refs"] = error.result
            raise

    def _require_read(self, own_files, read, reader):
        """Fail closed: a check of a configuration that does not include the
        release proves nothing of it."""
        if not own_files:
            subdir = CONFIG_SUBDIR[self.server]
            raise CheckFailed(
                "Release %s of %s has no %s/*.conf: the site's include line (%s) would read nothing of it, so "
                "nothing of it was checked." % (self.release_id, self.site.name, subdir, self._include_line()))
        unread = [path for path in own_files if path not in read]
        if unread:
            raise CheckFailed(
                "The live %s configuration on %s does not include release %s of %s: %s did not read %s, so the "
                "release was not checked. Write the site's include line with the site role (ansible-playbook "
                "lastgood.webstack.site), or add \"%s\" to %s." % (
                    self.server, self.host_label, self.release_id, self.site.name, reader, ", ".join(unread),
                    self._include_line(), self.settings.get("include_file") or DEFAULT_INCLUDE_FILE[
                        self.server].format(site=self.site.name)))

    def _include_line(self):
        return self.settings.get("include_line") or DEFAULT_INCLUDE_LINE[self.server].format(site_dir=self.site.dir)

    def _php_refs(self, web):
        php = self.settings["php"] or {}
        live_app = self.live + "/app"
        entrypoints = web["php_entrypoints"]
        web_include_path = web.get("php_include_path") or []
        include_path = php.get("include_path") or None
        if not include_path and len(web_include_path) == 1:
            include_path = web_include_path[0].split(":")
        params = _defaults(PHP_REFS_SPEC)
        params.update(
            paths=[live_app] + [path for path in entrypoints if not path.startswith(live_app + "/")],
            path_map=self.path_map,
            constants=php.get("constants") or {},
            exclude=php.get("exclude") or [],
            web_entrypoints=entrypoints,
            web_roots=web["php_roots"],
            web_hidden=web.get("php_hidden") or [],
            include_path=include_path,
            cli_entrypoints=[self.live + "/" + path.lstrip("/") for path in php.get("cli_entrypoints") or []],
            lint=bool(php.get("lint")),
            ini_files=[self.live + "/php-fpm"] if os.path.isdir(os.path.join(self.release_dir, "php-fpm")) else [],
        )
        try:
            return run_php_refs(params, self.host)
        except CheckFailed as error:
            self.results["php_refs"] = error.result
            raise

    def _run_test(self, server, config_dir, path_map):
        """The server's own test on a candidate copy; its result, or CheckFailed."""
        binary = server_binary(self.host.get_bin_path, server, config_dir)
        try:
            rc, output, cmd, files = test_candidate(server, config_dir, path_map, binary, self.host.run_command)
        except OSError as error:
            raise CheckFailed("cannot copy %s for the test: %s: %s" % (config_dir, error.filename, error.strerror))
        result = dict(rc=rc, output=output, cmd=cmd, config_files=files)
        self.results["php_fpm_test" if server == "php-fpm" else "config_test"] = result
        if rc != 0:
            raise CheckFailed("%s refuses the candidate configuration: %s" % (server, output or "exit %d" % rc),
                              result)
        return result

    def _config_test(self):
        return self._run_test(self.server, default_config_dir(self.server), self.path_map)

    def _php_fpm_test(self):
        config_dir = self.settings.get("php_fpm_config_dir") or default_config_dir("php-fpm")
        if not config_dir or not os.path.isdir(config_dir):
            raise CheckFailed("release %s brings PHP-FPM pools, but there is no PHP-FPM configuration at %s to test "
                              "them with" % (self.release_id, config_dir or "/etc/php/<version>/fpm"))
        # The site role's include names current as curren[t].
        path_map = dict(self.path_map)
        path_map[self.site.dir + "/curren[t]"] = self.release_dir
        return self._run_test("php-fpm", config_dir.rstrip("/"), path_map)
