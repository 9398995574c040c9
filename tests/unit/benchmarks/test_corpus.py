# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The corpus benchmark's own logic (benchmarks/corpus_mutate.py and the
pure parts of bench_corpus.py): which statements and directives it breaks,
how, and how it judges a tool's findings. No corpus root needed."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))

import bench_corpus  # noqa: E402  pylint: disable=wrong-import-position
import corpus_mutate  # noqa: E402  pylint: disable=wrong-import-position

PHP = """<html><?php // require 'comment.php';
/* require_once 'block.php'; */
require_once __DIR__ . '/inc/load.php';
$text = "require 'string.php';";
$here = <<<EOT
require 'heredoc.php';
EOT;
$object->require('method.php');
include 'inc/optional.php';
require_once(
    APP . 'inc/' .
    'multi.php'
);
require $dir . '.php';
?>
<p>require 'html.php';</p>
<?php require "lib/dq.php" ?>
"""


def test_require_sites_skip_comments_strings_heredocs_methods_and_html():
    sites = corpus_mutate.require_sites(PHP, "/app/index.php")
    assert [(site.line, site.keyword, site.literal) for site in sites] == [
        (3, "require_once", "/inc/load.php"),
        (9, "include", "inc/optional.php"),
        (10, "require_once", "multi.php"),
        (17, "require", "lib/dq.php"),
    ]
    multi = sites[2]
    assert multi.literal_line == 12
    assert PHP[multi.literal_start:multi.literal_end] == "'multi.php'"
    assert multi.expression == "( APP . 'inc/' . 'multi.php' )"


def test_require_sites_without_include_or_require_read_nothing():
    assert corpus_mutate.require_sites("<?php echo 1;", "f.php") == []


def test_mutated_literal_breaks_the_file_name_keeping_its_extension():
    assert corpus_mutate.mutated_literal("/wp-includes/load.php") == "/wp-includes/loadx.php"
    assert corpus_mutate.mutated_literal("inc/init.inc") == "inc/initx.inc"
    assert corpus_mutate.literal_tail("/../includes/WebStart.php") == "includes/WebStart.php"
    assert corpus_mutate.literal_tail("./a/b.php") == "a/b.php"


def test_apply_edit_keeps_every_line_where_it_was():
    text = "a\nrequire 'x.php';\nb\n"
    start = text.index("'x.php'")
    edited = corpus_mutate.apply_edit(text, start, start + 7, "'xx.php'")
    assert edited == "a\nrequire 'xx.php';\nb\n"
    with pytest.raises(ValueError):
        corpus_mutate.apply_edit(text, start, start + 7, "'x\n'")


def _tree(tmp_path, files):
    sources = {}
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        sources[str(path)] = text
    return sources


TREE = {
    "index.php": "<?php require __DIR__ . '/lib/boot.php';\n",
    "lib/boot.php": "<?php\nrequire_once __DIR__ . '/one.php';\nrequire_once __DIR__ . '/two.php';\n"
                    "include __DIR__ . '/three.php';\nrequire __DIR__ . '/gone.php';\n",
    "lib/one.php": "<?php\n",
    "lib/two.php": "<?php\nrequire 'lib/onex.php';\n",
    "lib/three.php": "<?php\n",
    "tools/cli.php": "<?php\nrequire __DIR__ . '/../lib/three.php';\n",
    "lib/twox.php": "<?php\n",
}


def test_reachable_follows_literal_file_names_from_the_entry_points(tmp_path):
    sources = _tree(tmp_path, TREE)
    sites = {path: corpus_mutate.require_sites(text, path) for path, text in sources.items()}
    index = corpus_mutate.TailIndex(sources)
    reached = corpus_mutate.reachable(sites.get, [str(tmp_path / "index.php")], index, os.path.exists)
    names = ("index.php", "lib/boot.php", "lib/one.php", "lib/two.php", "lib/three.php")
    assert reached == {str(tmp_path / name) for name in names}


def test_targets_name_no_file_for_a_tail_many_files_end(tmp_path):
    files = dict(("d%d/autoload.php" % n, "<?php\n") for n in range(4))
    files["x.php"] = "<?php require dirname(__DIR__) . '/../autoload.php';\n"
    sources = _tree(tmp_path, files)
    site, = corpus_mutate.require_sites(files["x.php"], str(tmp_path / "x.php"))
    assert corpus_mutate.targets(site, corpus_mutate.TailIndex(sources), os.path.exists) == []


def test_targets_take_a_bare_name_only_when_one_file_has_it(tmp_path):
    files = {"lib/functions.php": "<?php\n", "a/common.php": "<?php\n", "b/common.php": "<?php\n",
             "x.php": "<?php require LIBDIR . 'functions.php'; require LIBDIR . 'common.php';\n"}
    sources = _tree(tmp_path, files)
    first, second = corpus_mutate.require_sites(files["x.php"], str(tmp_path / "x.php"))
    index = corpus_mutate.TailIndex(sources)
    assert corpus_mutate.targets(first, index, os.path.exists) == [str(tmp_path / "lib/functions.php")]
    assert corpus_mutate.targets(second, index, os.path.exists) == []


def test_php_mutants_break_requires_of_existing_files_reached_from_entry_points(tmp_path):
    sources = _tree(tmp_path, TREE)
    stats = {}
    mutants = corpus_mutate.php_mutants(sources, [str(tmp_path / "index.php")], 10, 18, "app", stats=stats)
    assert stats == {"candidates": 2, "reached_files": 5}
    chosen = {(os.path.relpath(site.file, str(tmp_path)), site.line): (new, reached)
              for site, new, reached in mutants}
    # Not the include, nor a require of a missing file (gone.php, onex.php),
    # nor one whose broken name exists (two.php -> twox.php), nor one in a
    # file no entry point reaches (tools/cli.php).
    assert chosen == {("index.php", 1): ("'/lib/bootx.php'", True), ("lib/boot.php", 2): ("'/onex.php'", True)}


def test_php_mutants_of_a_library_come_from_every_file(tmp_path):
    sources = _tree(tmp_path, TREE)
    mutants = corpus_mutate.php_mutants(sources, [], 10, 18, "lib")
    assert sorted((os.path.relpath(site.file, str(tmp_path)), site.line, reached) for site, dummy, reached in mutants) \
        == [("index.php", 1, False), ("lib/boot.php", 2, False), ("tools/cli.php", 2, False)]


def test_php_mutants_follow_files_outside_the_tree(tmp_path):
    library = _tree(tmp_path / "lib", {"router.php": "<?php\nrequire_once __DIR__ . '/boot.php';\n",
                                       "boot.php": "<?php\n"})
    entry = "<?php\nrequire_once '%s/router.php';\n" % (tmp_path / "lib")
    sources = _tree(tmp_path / "app", {"index.php": entry})

    def read(path):
        return library.get(path)
    mutants = corpus_mutate.php_mutants(sources, [str(tmp_path / "app" / "index.php")], 5, 1, "app", read=read)
    assert sorted(os.path.relpath(site.file, str(tmp_path)) for site, dummy, dummy in mutants) == [
        "app/index.php", "lib/router.php"]


def test_php_mutants_are_the_same_for_the_same_seed(tmp_path):
    files = {"index.php": "<?php\n" + "".join("require __DIR__ . '/f%d.php';\n" % n for n in range(30))}
    files.update({"f%d.php" % n: "<?php\n" for n in range(30)})
    sources = _tree(tmp_path, files)
    entry = [str(tmp_path / "index.php")]

    def lines(seed):
        return [site.line for site, dummy, dummy in corpus_mutate.php_mutants(sources, entry, 5, seed, "app")]
    assert lines(1) == lines(1)
    assert lines(1) != lines(2)
    # At most two of a file while other files have candidates, then more.
    assert len(lines(1)) == 5


def test_pick_spreads_over_groups_then_fills():
    items = [("a", n) for n in range(5)] + [("b", 1)]
    chosen = corpus_mutate.pick(items, 4, 0, "k", per_group=2, group=lambda item: item[0])
    assert len(chosen) == 4 and ("b", 1) in chosen
    assert corpus_mutate.pick(items, 4, 0, "k", group=lambda item: item[0]) == chosen


NGINX = """upstream php {
    server unix:/run/php/php8.2-fpm.sock;
}
server {
    root /usr/share/wordpress;   # the tree
    index index.php index.html;
    # root /commented/out;
    location / { try_files $uri $uri/ /index.php?$args; }
    location /static/ { alias "/srv/static/"; }
    location ~ \\.php$ {
        include fastcgi_params;
        include /etc/nginx/conf.d/*.conf;
        fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;
        fastcgi_param SCRIPT_FILENAME $document_root/healthz.php;
        fastcgi_pass unix:/run/php/php8.2-fpm.sock;
    }
    error_page 404 /404.html;
    error_page 500 @fallback;
    ssl_certificate /etc/ssl/certs/site.pem;
}
"""


def test_nginx_sites_find_each_path_directive_and_break_it():
    sites = corpus_mutate.nginx_sites(NGINX, "/etc/nginx/site.conf")
    found = [(site.line, site.directive, site.kind, site.old, site.new) for site in sites]
    assert found == [
        (2, "server", "socket", "/run/php/php8.2-fpm.sock", "/run/php/php8.2-fpmx.sock"),
        (5, "root", "root", "/usr/share/wordpress", "/usr/share/wordpressx"),
        (6, "index", "index", "index.php index.html", "indexx.php indexx.html"),
        (8, "try_files", "try_files", "/index.php?$args", "/indexx.php?$args"),
        (9, "alias", "alias", "/srv/static/", "/srv/staticx/"),
        (11, "include", "include", "fastcgi_params", "fastcgi_paramsx"),
        (13, "fastcgi_param", "script_filename", "$document_root$fastcgi_script_name",
         "$document_root/x$fastcgi_script_name"),
        (14, "fastcgi_param", "script_filename", "$document_root/healthz.php", "$document_root/healthzx.php"),
        (15, "fastcgi_pass", "socket", "/run/php/php8.2-fpm.sock", "/run/php/php8.2-fpmx.sock"),
        (17, "error_page", "error_page", "/404.html", "/404x.html"),
        (19, "ssl_certificate", "ssl", "/etc/ssl/certs/site.pem", "/etc/ssl/certs/sitex.pem"),
    ]
    for site in sites:
        assert NGINX[site.start:site.end] == site.old
        edited = corpus_mutate.apply_edit(NGINX, site.start, site.end, site.new)
        assert edited.count("\n") == NGINX.count("\n")


APACHE = """# Debian-like
Alias /wiki /usr/share/dokuwiki/
AliasMatch ^/wiki/sites/[^/]+/(.*)$ /usr/share/dokuwiki/$1
<Directory /usr/share/dokuwiki/>
    DirectoryIndex index.php doku.php
    <FilesMatch \\.php$>
        SetHandler "proxy:unix:/run/php/php8.2-fpm.sock|fcgi://localhost"
    </FilesMatch>
    php_admin_value auto_prepend_file /usr/share/dokuwiki/prepend.php
</Directory>
DocumentRoot "/var/www/html"
Include /etc/apache2/extra.conf
IncludeOptional /etc/apache2/conf.d/*.conf
ErrorDocument 404 /errors/404.html
FallbackResource /index.php
ScriptAlias /cgi-bin/ \\
    /usr/lib/cgi-bin/
"""


def test_apache_sites_find_each_path_directive_and_break_it():
    sites = corpus_mutate.apache_sites(APACHE, "/etc/apache2/site.conf")
    found = [(site.line, site.directive, site.kind, site.old, site.new) for site in sites]
    assert found == [
        (2, "Alias", "alias", "/usr/share/dokuwiki/", "/usr/share/dokuwikix/"),
        (3, "AliasMatch", "alias", "/usr/share/dokuwiki/$1", "/usr/share/dokuwikix/$1"),
        (5, "DirectoryIndex", "index", "index.php doku.php", "indexx.php dokux.php"),
        (7, "SetHandler", "socket", "/run/php/php8.2-fpm.sock", "/run/php/php8.2-fpmx.sock"),
        (9, "php_admin_value", "ini_file", "/usr/share/dokuwiki/prepend.php", "/usr/share/dokuwiki/prependx.php"),
        (11, "DocumentRoot", "document_root", "/var/www/html", "/var/www/htmlx"),
        (12, "Include", "include", "/etc/apache2/extra.conf", "/etc/apache2/extrax.conf"),
        (14, "ErrorDocument", "error_document", "/errors/404.html", "/errors/404x.html"),
        (15, "FallbackResource", "fallback", "/index.php", "/indexx.php"),
        (16, "ScriptAlias", "alias", "/usr/lib/cgi-bin/", "/usr/lib/cgi-binx/"),
    ]
    for site in sites:
        assert APACHE[site.start:site.end] == site.old


CONDITIONAL = """<IfModule mod_rewrite.c>
    DirectoryIndex index.php
</IfModule>
<IfModule !mod_rewrite.c>
    DirectoryIndex error_norewrite.html
</IfModule>
<IfModule php_module>
    <Location /gosa>
        include /etc/gosa/gosa.secrets
    </Location>
</IfModule>
<IfVersion >= 2.3>
    ErrorDocument 403 /forbidden.html
</IfVersion>
<IfVersion < 2.3>
    ErrorDocument 404 /old.html
</IfVersion>
"""


def test_apache_sites_leave_out_sections_not_in_effect():
    active = corpus_mutate.apache_active(["rewrite", "proxy_fcgi"], (2, 4, 57))
    sites = corpus_mutate.apache_sites(CONDITIONAL, "c.conf", active)
    assert [(site.line, site.old) for site in sites] == [(2, "index.php"), (13, "/forbidden.html")]
    everything = corpus_mutate.apache_sites(CONDITIONAL, "c.conf")
    assert len(everything) == 5
    assert corpus_mutate.apache_active(["php"])("IfModule", ("mod_php8.c",))
    assert corpus_mutate.apache_active([])("IfModule", ("version_module",))
    assert corpus_mutate.apache_active([])("Directory", ("/x",))


def test_config_mutants_are_deterministic_and_spread_over_kinds():
    first = corpus_mutate.config_mutants(NGINX, "f", "nginx", 6, 18, "site")
    assert first == corpus_mutate.config_mutants(NGINX, "f", "nginx", 6, 18, "site")
    kinds = [site.kind for site in first]
    assert len(first) == 6 and max(kinds.count(kind) for kind in kinds) <= 2


def _error(file, line, message="x does not exist", severity="error"):
    return {"severity": severity, "file": file, "line": line, "message": message}


def test_judge_wants_a_new_error_at_the_broken_line():
    pristine = [_error("a.php", 3, "old"), _error("a.php", 9, "kept")]
    caught, finding, at_site = corpus_mutate.judge(pristine, pristine + [_error("a.php", 5, "new")], "a.php", [5])
    assert caught and finding["message"] == "new"
    # An error elsewhere, or one the pristine tree had at that line, is not a catch.
    assert not corpus_mutate.judge(pristine, pristine + [_error("a.php", 6)], "a.php", [5])[0]
    assert not corpus_mutate.judge(pristine, pristine, "a.php", [9])[0]
    assert not corpus_mutate.judge([], [_error("b.php", 5)], "a.php", [5])[0]
    # A warning at the line is not a catch, and names what the tool said.
    caught, finding, at_site = corpus_mutate.judge([], [_error("a.php", 5, "unresolved", "info")], "a.php", [4, 5])
    assert not caught and finding is None
    assert corpus_mutate.miss_reason(at_site, False) == "only info: unresolved"
    assert corpus_mutate.miss_reason([], False) == "no finding at that line"
    assert corpus_mutate.miss_reason([], False, scanned=False) == "the file was not scanned"
    assert "already reported" in corpus_mutate.miss_reason([], True)


def test_message_shape_groups_findings_of_one_construct():
    one = corpus_mutate.message_shape("/usr/share/a/b.php does not exist (nor in include_path)")
    two = corpus_mutate.message_shape("/usr/share/c.php does not exist (nor in include_path)")
    assert one == two == "<path> does not exist (nor in include_path)"
    assert corpus_mutate.message_shape("X . '/y.php': line 12") == "X . <literal>: line N"


def test_false_errors_leave_out_the_justified_ones():
    findings = [_error("f", 1), _error("f", 2), dict(_error("f", 3), severity="warning")]
    findings[0]["path"] = "/gone"
    known = {("php_refs", "f", 1, "/gone"): {"justification": "really missing"}}
    false, justified = bench_corpus.false_errors("php_refs", findings, known)
    assert false == [findings[1]] and justified == [findings[0]]
    assert bench_corpus.false_errors("web_refs", findings, known)[0] == findings[:2]


RST = """Title
=====

.. code-block:: nginx

    server {
        root /var/www/x;
    }

text

.. code-block:: nginx

    # second
      indented;

after
"""


def test_extract_block_takes_the_numbered_code_block_dedented():
    assert bench_corpus.extract_block(RST, 0) == "server {\n    root /var/www/x;\n}\n"
    assert bench_corpus.extract_block(RST, 1) == "# second\n  indented;\n"


def test_apply_edits_wants_each_old_text_exactly_once():
    edits = [{"old": "root /var/www/x;", "new": "root /usr/share/x;"}]
    assert bench_corpus.apply_edits("root /var/www/x;\n", edits, "c") == "root /usr/share/x;\n"
    with pytest.raises(SystemExit, match="matches 2 times"):
        bench_corpus.apply_edits("root /var/www/x;\nroot /var/www/x;\n", edits, "c")


def test_web_for_app_unites_what_its_configs_say():
    manifest = {"configs": [{"id": "a", "serves": "wp"}, {"id": "b", "serves": "wp"}, {"id": "c", "serves": "dw"}]}
    configs = {"a": {"findings": [], "php_entrypoints": ["/w/index.php"], "php_roots": ["/w"]},
               "b": {"findings": [], "php_entrypoints": ["/w/index.php", "/w/x.php"]},
               "c": {"findings": [], "php_roots": ["/d"]}}
    assert bench_corpus.web_for_app({"name": "wp"}, manifest, configs) == {
        "php_entrypoints": ["/w/index.php", "/w/x.php"], "php_roots": ["/w"]}


def test_module_args_pass_the_web_config_as_options_or_as_paths():
    app = {"tree": "/w"}
    web = {"php_entrypoints": ["/w/index.php"], "php_roots": ["/w", "/var/lib/w"]}
    assert bench_corpus.module_args(app, web, True) == {
        "paths": ["/w"], "include_path": bench_corpus.INCLUDE_PATH,
        "web_entrypoints": ["/w/index.php"], "web_roots": ["/w", "/var/lib/w"]}
    assert bench_corpus.module_args(app, web, False)["paths"] == ["/w", "/w/index.php", "/var/lib/w"]


def test_the_manifest_names_origin_licence_edits_and_tree_of_every_config():
    manifest = bench_corpus.load_manifest()
    apps = {app["name"] for app in manifest["apps"]}
    assert len(apps) >= 10 and len(manifest["apps"]) == len(apps)
    ids = [config["id"] for config in manifest["configs"]]
    assert len(ids) >= 8 and len(set(ids)) == len(ids)
    for config in manifest["configs"]:
        assert config["server"] in ("nginx", "apache")
        assert config["serves"] in apps, config["id"]
        assert config["licence"] and config["sha256"]
        origin = config["origin"]
        assert (origin["kind"], bool(origin.get("package") or origin.get("commit"))) in (
            ("debian", True), ("git", True)), config["id"]
        for edit in config["edits"]:
            assert edit["old"] and edit["new"] and edit["why"]


def test_known_missing_entries_say_why():
    with open(bench_corpus.KNOWN_MISSING) as handle:
        entries = json.load(handle)
    for entry in entries:
        assert entry["tool"] in ("php_refs", "web_refs")
        assert entry["file"] and entry["path"] and entry["justification"]
    assert len(bench_corpus.load_known_missing()) == len(entries)


def test_the_corpus_benchmark_says_what_to_run_without_its_root(tmp_path, monkeypatch):
    monkeypatch.setattr(bench_corpus, "CHROOT", str(tmp_path / "absent"))
    with pytest.raises(SystemExit, match="benchmarks/corpus/build.sh"):
        bench_corpus.require_root()
