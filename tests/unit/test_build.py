"""The built collection holds what a user installs, and neither the
benchmarks nor the developer scripts (galaxy.yml build_ignore)."""

import os
import shutil
import subprocess
import tarfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def built_names(tmp_path_factory):
    galaxy = shutil.which("ansible-galaxy")
    if galaxy is None:
        pytest.skip("ansible-galaxy is not installed")
    out = tmp_path_factory.mktemp("build")
    subprocess.run([galaxy, "collection", "build", "--output-path", str(out), ROOT], check=True,
                   capture_output=True, text=True)
    tarball = next(out.glob("lastgood-webstack-*.tar.gz"))
    with tarfile.open(str(tarball)) as archive:
        return archive.getnames()


def test_the_tarball_holds_no_benchmark_or_hack_file(built_names):
    shipped = [name for name in built_names
               if name.split("/")[0] in ("benchmarks", "hack", ".cache", ".venv", ".ci")
               or name.startswith(("tests/unit/benchmarks", "tests/output"))]
    assert shipped == []


def test_the_tarball_holds_the_plugins_roles_and_playbooks(built_names):
    for name in ("plugins/modules/release.py", "plugins/module_utils/_release/states.py",
                 "plugins/module_utils/_watchdog/__main__.py", "plugins/doc_fragments/attributes.py",
                 "roles/deploy/tasks/main.yml", "roles/lastgood/defaults/main.yml", "playbooks/deploy.yml",
                 "README.md", "docs/design.md"):
        assert name in built_names
