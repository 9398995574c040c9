"""The web_refs module returns php_hidden: for nginx, the PHP files under
its PHP roots that no request runs; for Apache, none."""

import json

import pytest

from ansible.module_utils.testing import patch_module_args
from ansible_collections.lastgood.webstack.plugins.modules import web_refs


def run_module(capsys, **args):
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exited:
            web_refs.main()
    return exited.value.code, json.loads(capsys.readouterr().out)


def test_nginx_php_hidden_is_returned_with_entry_points_and_roots(tmp_path, capsys):
    for name in ("index.php", "lib/a.php", "lib/b.php"):
        (tmp_path / "www" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "www" / name).write_text("<?php\n")
    config = tmp_path / "nginx.conf"
    config.write_text(
        "http {\n  server {\n    root %s/www;\n    index index.php;\n    location ^~ /lib/ { deny all; }\n"
        "    location ~ \\.php$ {\n      fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;\n"
        "      fastcgi_pass 127.0.0.1:9000;\n    }\n  }\n}\n" % tmp_path)
    code, result = run_module(capsys, server="nginx", config=str(config))
    assert code == 0, result.get("msg")
    assert result["php_entrypoints"] == ["%s/www/index.php" % tmp_path]
    assert result["php_roots"] == ["%s/www" % tmp_path]
    assert result["php_hidden"] == ["%s/www/lib/*" % tmp_path]


def test_apache_php_hidden_is_empty(tmp_path, capsys):
    (tmp_path / "www").mkdir()
    config = tmp_path / "apache2.conf"
    config.write_text("DocumentRoot %s/www\n" % tmp_path)
    code, result = run_module(capsys, server="apache", config=str(config))
    assert code == 0, result.get("msg")
    assert result["php_hidden"] == []
