import pytest

from ansible_collections.lastgood.webstack.plugins.module_utils._webconf.apache_parse import (
    Loader,
    logical_lines,
    read_envvars,
    split_args,
)
from ansible_collections.lastgood.webstack.plugins.module_utils._webconf.errors import ConfigError


def test_logical_lines_join_continuations_and_drop_comments():
    text = "# comment\n\nServerName a\\\n  .example\n   DocumentRoot /var/www # not a comment\n"
    assert list(logical_lines(text)) == [(3, "ServerName a.example"), (5, "DocumentRoot /var/www # not a comment")]


def test_split_args_quotes():
    assert split_args('"a b" c \'d "e"\' "f \\"g\\""') == ["a b", "c", 'd "e"', 'f "g"']
    with pytest.raises(ValueError):
        split_args('"open')


def test_envvars_as_debian_writes_them(tmp_path):
    path = tmp_path / "envvars"
    path.write_text(
        "unset HOME\n"
        "if [ \"${APACHE_CONFDIR##/etc/apache2-}\" != \"${APACHE_CONFDIR}\" ] ; then\n"
        "\tSUFFIX=\"-${APACHE_CONFDIR##/etc/apache2-}\"\nelse\n\tSUFFIX=\nfi\n"
        "export APACHE_RUN_USER=www-data\n"
        "export APACHE_LOG_DIR=/var/log/apache2$SUFFIX\n"
        ": ${APACHE_LOCK_DIR:=/var/lock/apache2}\n"
        "export LANG=$(locale)\n"
    )
    variables = read_envvars(str(path))
    assert variables["APACHE_LOG_DIR"] == "/var/log/apache2"
    assert variables["APACHE_RUN_USER"] == "www-data"
    assert variables["APACHE_LOCK_DIR"] == "/var/lock/apache2"
    assert "LANG" not in variables
    assert read_envvars(str(tmp_path / "missing")) == {}


def load(make_tree, text, **options):
    root = make_tree({"apache2.conf": text})
    loader = Loader(server_root=str(root), envvars=str(root / "none"), **options)
    return loader, loader.load(str(root / "apache2.conf"))


def test_case_insensitive_names_and_sections(make_tree):
    loader, tree = load(make_tree, "documentroot /a\n<virtualhost *:80>\n  SERVERNAME x\n</VirtualHost>\n")
    assert [d.name for d in tree] == ["documentroot", "virtualhost"]
    assert tree[1].block[0].raw_name == "SERVERNAME" and tree[1].block[0].line == 3


def test_conditionals(make_tree):
    text = (
        "Define FEATURE\n"
        "<IfDefine FEATURE>\n  A 1\n</IfDefine>\n"
        "<IfDefine !FEATURE>\n  B 1\n  <IfDefine X>\n  </IfDefine>\n</IfDefine>\n"
        "<IfModule mod_rewrite.c>\n  C 1\n</IfModule>\n"
        "LoadModule rewrite_module modules/mod_rewrite.so\n"
        "<IfModule rewrite_module>\n  D 1\n</IfModule>\n"
        "<IfModule !mod_php.c>\n  E 1\n</IfModule>\n"
        "<IfVersion >= 2.4>\n  F 1\n</IfVersion>\n"
        "<IfVersion < 2.4.0>\n  G 1\n</IfVersion>\n"
        "<IfVersion ~ ^2\\.4>\n  H 1\n</IfVersion>\n"
        "<IfDefine DEFINED_ON_COMMAND_LINE>\n  I 1\n</IfDefine>\n"
    )
    loader, tree = load(make_tree, text, version=(2, 4, 62), defines=("DEFINED_ON_COMMAND_LINE",))
    assert [d.raw_name for d in tree if d.name != "define" and d.name != "loadmodule"] == ["A", "D", "E", "F", "H", "I"]


def test_variables(make_tree):
    loader, tree = load(make_tree, "Define ROOT /srv/www\nDocumentRoot ${ROOT}/site\nErrorLog ${NOPE}/e.log\n")
    assert tree[1].args == ["/srv/www/site"]
    assert tree[2].args == ["${NOPE}/e.log"]
    assert loader.warnings == [(loader.files_parsed[0], 3, "config variable ${NOPE} is not defined")]


@pytest.mark.parametrize("text, line, message", [
    ("<VirtualHost *:80>\n  ServerName a\n", 1, "<virtualhost> section is not closed"),
    ("<Directory /a>\n</VirtualHost>\n", 2, "</virtualhost> without matching"),
    ("\n<Directory /a\n", 2, "missing closing '>'"),
    ("ServerName \"a\n", 1, "missing closing \""),
    ("<IfVersion >= x.y>\n</IfVersion>\n", 1, "cannot read the version"),
])
def test_errors_say_file_and_line(make_tree, text, line, message):
    with pytest.raises(ConfigError) as caught:
        load(make_tree, text)
    assert caught.value.line == line
    assert caught.value.file.endswith("apache2.conf")
    assert message in str(caught.value)


def test_include_directory_recursively_and_relative_to_server_root(make_tree):
    root = make_tree({
        "apache2.conf": "Include conf.d\nIncludeOptional missing/*.conf\n",
        "conf.d/b.conf": "B 1\n",
        "conf.d/a.conf": "A 1\n",
        "conf.d/sub/c.conf": "C 1\n",
    })
    loader = Loader(server_root=str(root), envvars=str(root / "none"))
    tree = loader.load(str(root / "apache2.conf"))
    assert [d.raw_name for d in tree[0].block] == ["A", "B", "C"]
    assert tree[1].include.optional and tree[1].include.error
