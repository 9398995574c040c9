"""The php_refs module as Ansible runs it."""

import json

import pytest

from ansible.module_utils.testing import patch_module_args
from ansible_collections.lastgood.webstack.plugins.modules import php_refs


def run_module(capsys, **args):
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exited:
            php_refs.main()
    return exited.value.code, json.loads(capsys.readouterr().out)


def test_sound_code(make_tree, capsys):
    root = make_tree({"app/index.php": "<?php require __DIR__ . '/lib.php';\n", "app/lib.php": "<?php\n"})
    code, result = run_module(capsys, paths=[str(root / "app")], include_path=["."])
    assert code == 0 and result["changed"] is False
    assert (result["files_scanned"], result["includes_total"], result["includes_resolved"]) == (2, 1, 1)
    assert result["duration_ms"] >= 0


def test_missing_require_fails_with_one_line_each(make_tree, capsys):
    root = make_tree({"app/index.php": "<?php\nrequire __DIR__ . '/lib.phpp';\ninclude 'gone.php';\n"})
    code, result = run_module(capsys, paths=[str(root / "app")], include_path=["."])
    assert code == 1
    assert result["msg"] == "%s/app/index.php:2: require: %s/app/lib.phpp does not exist" % (root, root)
    assert [f["severity"] for f in result["findings"]] == ["error", "warning"]


def test_ini_files(make_tree, capsys):
    root = make_tree({"app/index.php": "<?php\n", "pool.conf": "[app]\nphp_admin_value[auto_prepend_file] = /nonexistent/prepend.php\n"})
    code, result = run_module(capsys, paths=[str(root / "app")], include_path=["."], ini_files=[str(root / "pool.conf")])
    assert code == 1
    assert result["msg"] == "%s/pool.conf:2: auto_prepend_file: auto_prepend_file /nonexistent/prepend.php does not exist" % root


def test_missing_path_is_a_clear_failure(tmp_path, capsys):
    code, result = run_module(capsys, paths=[str(tmp_path / "nope")], include_path=["."])
    assert code == 1 and result["msg"] == "%s/nope does not exist" % tmp_path


def test_lint_reports_syntax_errors_php_l_finds(make_tree, capsys):
    # hack/setup.sh installs the PHP CLI; without it this fails, never skips.
    root = make_tree({"app/good.php": "<?php echo 1;\n", "app/bad.php": "<?php\n\necho 'x'\n$y = 2;\n"})
    code, result = run_module(capsys, paths=[str(root / "app")], include_path=["."], lint=True)
    assert code == 1
    assert result["lint_errors"] == 1
    [finding] = result["findings"]
    assert (finding["file"], finding["line"], finding["statement"]) == (str(root / "app/bad.php"), 4, "php -l")
    assert "syntax error" in finding["message"]


def test_allowed_roots_option(make_tree, capsys):
    root = make_tree({"app/index.php": "<?php\nrequire '/etc/hostname';\n"})
    code, result = run_module(capsys, paths=[str(root / "app")], include_path=["."], allowed_roots=[str(root)])
    assert code == 1
    assert result["msg"] == "%s/app/index.php:2: require: /etc/hostname is outside allowed_roots (%s)" % (root, root)
    code, result = run_module(capsys, paths=[str(root / "app")], include_path=["."], allowed_roots=["app"])
    assert code == 1 and result["msg"] == "allowed_roots: 'app' is not an absolute path"
