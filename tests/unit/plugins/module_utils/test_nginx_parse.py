import os

import pytest

from ansible_collections.lastgood.webstack.plugins.module_utils._webconf.errors import ConfigError
from ansible_collections.lastgood.webstack.plugins.module_utils._webconf.nginx_parse import Loader, parse


def names(block):
    return [directive.name for directive in block]


def test_directives_blocks_and_lines():
    tree = parse("user www-data;\n\nhttp {\n  server {\n    listen 80;\n  }\n}\n", "main.conf")
    assert names(tree) == ["user", "http"]
    assert tree[0].args == ["www-data"] and tree[0].line == 1
    server = tree[1].block[0]
    assert server.name == "server" and server.line == 4 and server.file == "main.conf"
    assert server.block[0].args == ["80"] and server.block[0].line == 5


def test_quotes_escapes_and_comments():
    tree = parse(
        'log_format main \'$remote_addr "$request"\';  # a comment ; {\n'
        'add_header X-A "a b;c";\n'
        'return 200 "say \\"hi\\"\\n";\n'
        'set $path /var/www/a\\ b;\n'
    )
    assert tree[0].args == ["main", '$remote_addr "$request"']
    assert tree[1].args == ["X-A", "a b;c"]
    assert tree[2].args == ["200", 'say "hi"\n']
    # As nginx does: an escaped space joins the word and keeps its backslash.
    assert tree[3].args == ["$path", "/var/www/a\\ b"]
    assert len(tree) == 4


def test_braced_variables_are_not_blocks():
    tree = parse("root /srv/${site}_root;\nlocation / { try_files $uri ${uri}/ =404; }\n")
    assert tree[0].args == ["/srv/${site}_root"]
    assert tree[1].block[0].args == ["$uri", "${uri}/", "=404"]


def test_lua_block_body_is_opaque():
    text = (
        "http {\n"
        "  content_by_lua_block {\n"
        "    local s = \"}\" -- a } in a comment\n"
        "    --[[ long comment with { ]]\n"
        "    ngx.say([[ long string } ]])\n"
        "  }\n"
        "  root /var/www;\n"
        "}\n"
    )
    tree = parse(text)
    http = tree[0].block
    assert names(http) == ["content_by_lua_block", "root"]
    assert "ngx.say" in http[0].args[-1]
    assert http[1].line == 7


@pytest.mark.parametrize("text, line, message", [
    # At the end of the file nginx names the line it reached, as here.
    ("http {\n  server {\n", 3, 'expecting "}"'),
    ("root /a\n", 2, 'expecting ";" or "}"'),
    ("http {\n}\n}\n", 3, 'unexpected "}"'),
    ("\n\nroot \"/a;\n", 3, "closing quote"),
    ("events {\n ; }\n", 2, 'unexpected ";"'),
    ('root "/a"b;\n', 1, 'unexpected "b"'),
    ("x {\n  content_by_lua_block {\n  if a then\n", 2, "Lua block"),
])
def test_syntax_errors_say_file_and_line(text, line, message):
    with pytest.raises(ConfigError) as caught:
        parse(text, "/etc/nginx/bad.conf")
    assert caught.value.file == "/etc/nginx/bad.conf"
    assert caught.value.line == line
    assert message in str(caught.value)
    assert str(caught.value).startswith("/etc/nginx/bad.conf:%d: " % line)


def test_non_utf8_bytes_keep_lines(tmp_path):
    path = tmp_path / "nginx.conf"
    path.write_bytes(b"# caf\xe9\nroot /var/www;\n")
    tree = Loader().load(str(path))
    assert tree[0].line == 2


def test_includes_are_relative_to_the_main_config_dir_and_globs_sorted(make_tree):
    root = make_tree({
        "conf/nginx.conf": "http {\n  include sites/*.conf;\n  include mime.types;\n}\n",
        "conf/mime.types": "types { text/html html; }\n",
        "conf/sites/b.conf": "server { listen 82; }\n",
        "conf/sites/a.conf": "server { listen 81; }\n",
        "conf/sites/ignored.txt": "not included\n",
    })
    loader = Loader()
    tree = loader.load(str(root / "conf/nginx.conf"))
    include = tree[0].block[0]
    assert include.include.is_glob
    assert [os.path.basename(path) for path in include.include.files] == ["a.conf", "b.conf"]
    assert [d.block[0].args for d in include.block] == [["81"], ["82"]]
    assert [os.path.basename(path) for path in loader.files_parsed] == ["nginx.conf", "a.conf", "b.conf", "mime.types"]


def test_missing_include_and_glob_without_match(make_tree):
    root = make_tree({"nginx.conf": "include missing.conf;\ninclude none/*.conf;\n"})
    tree = Loader().load(str(root / "nginx.conf"))
    assert tree[0].include.error == "does not exist"
    assert tree[1].include.error is None and tree[1].include.files == []


def test_include_loop_is_an_error_not_a_hang(make_tree):
    root = make_tree({
        "nginx.conf": "include a.conf;\n",
        "a.conf": "include b.conf;\n",
        "b.conf": "include a.conf;\n",
    })
    tree = Loader().load(str(root / "nginx.conf"))
    inner = tree[0].block[0].block[0]
    assert inner.include.error.startswith("include loop")


def test_symlink_loop_is_an_error(make_tree):
    root = make_tree({"nginx.conf": "include loop.conf;\n"})
    os.symlink("loop.conf", str(root / "loop.conf"))
    tree = Loader().load(str(root / "nginx.conf"))
    assert tree[0].include.error == "is a symlink loop"


def test_syntax_error_in_included_file_names_that_file(make_tree):
    root = make_tree({"nginx.conf": "http {\ninclude site.conf;\n}\n", "site.conf": "server {\n  listen 80\n}\n"})
    with pytest.raises(ConfigError) as caught:
        Loader().load(str(root / "nginx.conf"))
    assert caught.value.file == str(root / "site.conf")
    assert caught.value.line == 3
    assert 'unexpected "}"' in str(caught.value)


def test_path_map_reads_the_staged_files(make_tree):
    root = make_tree({
        "etc/nginx.conf": "http { include /srv/site/current/nginx/*.conf; }\n",
        "srv/site/releases/v2/nginx/site.conf": "server { listen 80; }\n",
    })
    loader = Loader({"/srv/site/current": str(root / "srv/site/releases/v2")})
    tree = loader.load(str(root / "etc/nginx.conf"))
    include = tree[0].block[0].include
    assert include.path == "/srv/site/current/nginx/*.conf"
    assert include.files == [str(root / "srv/site/releases/v2/nginx/site.conf")]


def test_unreadable_main_config(tmp_path):
    with pytest.raises(ConfigError) as caught:
        Loader().load(str(tmp_path / "nginx.conf"))
    assert "cannot read the main config" in str(caught.value)
