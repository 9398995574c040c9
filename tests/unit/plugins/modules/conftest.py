"""Fixtures of the module tests: the release module run in-process
against a registry under a temporary base_dir."""

import json

import pytest

from ansible.module_utils.testing import patch_module_args
from ansible_collections.lastgood.webstack.plugins.modules import release, release_info


def run_module(capsys, **args):
    module = release if "state" in args else release_info
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exited:
            module.main()
    return exited.value.code, json.loads(capsys.readouterr().out)


@pytest.fixture
def env(tmp_path, capsys):
    base = tmp_path / "srv"

    def source(name, files):
        src = tmp_path / "src" / name
        for relative, text in files.items():
            path = src / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        return str(src)

    def call(expect_ok=True, **args):
        args.setdefault("site", "shop")
        args.setdefault("base_dir", str(base))
        code, result = run_module(capsys, **args)
        if expect_ok:
            assert code == 0, result.get("msg")
        else:
            assert code == 1 and result["failed"], result
        return result

    return base, source, call
