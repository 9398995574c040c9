"""The web_refs module as Ansible runs it: arguments in, JSON out."""

import json

import pytest

from ansible.module_utils.testing import patch_module_args
from ansible_collections.lastgood.webstack.plugins.modules import web_refs


def run_module(capsys, **args):
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exited:
            web_refs.main()
    result = json.loads(capsys.readouterr().out)
    return exited.value.code, result


def write(tmp_path, text):
    (tmp_path / "www").mkdir(exist_ok=True)
    (tmp_path / "www" / "index.php").write_text("<?php\n")
    config = tmp_path / "nginx.conf"
    config.write_text(text.replace("{T}", str(tmp_path)))
    return config


SOUND = "http {\n  server {\n    root {T}/www;\n    index index.php;\n  }\n}\n"


def test_sound_config_exits_unchanged(tmp_path, capsys):
    config = write(tmp_path, SOUND)
    code, result = run_module(capsys, server="nginx", config=str(config))
    assert code == 0
    assert result["changed"] is False
    assert result["findings"] == []
    assert result["php_entrypoints"] == ["%s/www/index.php" % tmp_path]
    assert result["files_parsed"] == [str(config)]
    assert result["config_files"] == [str(config)]
    assert result["counts"] == {"error": 0, "warning": 0, "info": 0}
    assert {r["kind"] for r in result["references"]} == {"root", "index"}
    # No log set anywhere: nginx's built-in ones.
    assert result["access_logs"] == ["/var/log/nginx/access.log"]
    assert result["error_logs"] == ["/var/log/nginx/error.log"]


def test_check_mode_is_the_same_run(tmp_path, capsys):
    config = write(tmp_path, SOUND.replace("/www;", "/wwv;"))
    code, result = run_module(capsys, server="nginx", config=str(config), _ansible_check_mode=True)
    assert code == 1 and result["failed"]
    assert result["counts"]["error"] == 1


def test_errors_fail_with_one_line_each(tmp_path, capsys):
    config = write(tmp_path, SOUND.replace("index index.php;", "index index.phpp;\n    error_page 404 /404.html;"))
    code, result = run_module(capsys, server="nginx", config=str(config))
    assert code == 1 and result["failed"]
    assert result["msg"].split("\n") == [
        "%s:4: index: %s/www/index.phpp does not exist" % (config, tmp_path),
        "%s:5: error_page: %s/www/404.html does not exist" % (config, tmp_path),
    ]
    assert len(result["findings"]) == 2


def test_path_map_option(tmp_path, capsys):
    config = write(tmp_path, "http {\n  server {\n    root /srv/site/current/www;\n    index index.php;\n  }\n}\n")
    code, result = run_module(capsys, server="nginx", config=str(config),
                              path_map={"/srv/site/current": str(tmp_path)})
    assert code == 0, result.get("msg")
    assert result["php_entrypoints"] == ["/srv/site/current/www/index.php"]


def test_config_files_name_a_staged_release_by_its_live_path(tmp_path, capsys):
    """files_parsed says where each file was read, config_files what the
    server would read once the release is live: each once, before path_map.
    Without the site's include line the release's file is not among them."""
    release = tmp_path / "releases" / "r2"
    (release / "nginx").mkdir(parents=True)
    (release / "www").mkdir()
    (release / "www" / "index.php").write_text("<?php\n")
    (release / "nginx" / "shop.conf").write_text(
        "server {\n  root /srv/shop/current/www;\n  index index.php;\n"
        "  location /a { include %s/params; }\n  location /b { include %s/params; }\n}\n" % (tmp_path, tmp_path))
    (tmp_path / "params").write_text("# fastcgi_params\n")
    include = "  include /srv/shop/current/nginx/*.conf;\n"
    config = tmp_path / "nginx.conf"
    config.write_text("http {\n%s}\n" % include)
    path_map = {"/srv/shop/current": str(release)}
    code, result = run_module(capsys, server="nginx", config=str(config), path_map=path_map)
    assert code == 0, result.get("msg")
    params = str(tmp_path / "params")
    assert result["files_parsed"] == [str(config), str(release / "nginx" / "shop.conf"), params, params]
    assert result["config_files"] == [str(config), "/srv/shop/current/nginx/shop.conf", params]

    config.write_text("http {\n}\n")
    code, result = run_module(capsys, server="nginx", config=str(config), path_map=path_map)
    assert code == 0, result.get("msg")
    assert result["config_files"] == [str(config)]


def test_syntax_error_is_a_clear_failure_with_file_and_line(tmp_path, capsys):
    config = write(tmp_path, SOUND.replace("index index.php;", "index index.php"))
    code, result = run_module(capsys, server="nginx", config=str(config))
    assert code == 1
    assert result["msg"] == 'nginx configuration cannot be checked: %s:5: unexpected "}"' % config
    assert result["file"] == str(config) and result["line"] == 5
    assert "Traceback" not in json.dumps(result)


def test_missing_main_config(tmp_path, capsys):
    code, result = run_module(capsys, server="apache", config=str(tmp_path / "apache2.conf"))
    assert code == 1
    assert result["msg"] == ("apache configuration cannot be checked: %s/apache2.conf: "
                             "cannot read the main config: No such file or directory" % tmp_path)


def test_bad_path_map(tmp_path, capsys):
    config = write(tmp_path, SOUND)
    code, result = run_module(capsys, server="nginx", config=str(config), path_map={"relative": "/x"})
    assert code == 1
    assert "must map an absolute live path to an absolute path" in result["msg"]


def test_unknown_server_is_refused(capsys):
    code, result = run_module(capsys, server="lighttpd")
    assert code == 1
    assert "server" in result["msg"] and "lighttpd" in result["msg"]


def test_sockets_of_the_release_pools_count_as_present(tmp_path, capsys):
    sock = tmp_path / "run" / "shop.sock"
    config = write(tmp_path, SOUND.replace("index index.php;", "index index.php;\n"
                                           "    location ~ \\.php$ { fastcgi_pass unix:%s; }" % sock))
    code, result = run_module(capsys, server="nginx", config=str(config))
    assert code == 1 and result["msg"] == "%s:5: fastcgi_pass: %s does not exist" % (config, sock)
    release = tmp_path / "release" / "php-fpm"
    release.mkdir(parents=True)
    (release / "shop.conf").write_text("[global]\nlisten = /elsewhere.sock\n[shop]\nlisten = %s/run/$pool.sock ; ours\n"
                                       % tmp_path)
    code, result = run_module(capsys, server="nginx", config=str(config), php_fpm_pools=["/srv/shop/current/php-fpm"],
                              path_map={"/srv/shop/current": str(tmp_path / "release")})
    assert code == 0, result.get("msg")
    code, result = run_module(capsys, server="nginx", config=str(config), php_fpm_pools=[str(tmp_path / "none")])
    assert code == 1


def test_allowed_roots_option(tmp_path, capsys):
    config = write(tmp_path, SOUND.replace("    index index.php;", "    index index.php;\n    location /all { root /; }"))
    code, result = run_module(capsys, server="nginx", config=str(config), allowed_roots=[str(tmp_path)])
    assert code == 1 and result["failed"]
    assert result["msg"] == "%s:5: root: / is outside allowed_roots (%s)" % (config, tmp_path)
    code, result = run_module(capsys, server="nginx", config=str(config), allowed_roots=["relative/dir"])
    assert code == 1 and result["msg"] == "allowed_roots: 'relative/dir' is not an absolute path"
