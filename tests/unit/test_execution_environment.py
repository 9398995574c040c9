# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""An AWX/AAP execution environment with the collection: ansible-builder makes
the build context of docs/awx/execution-environment.yml with the collection's
tarball in it, and the build's own steps, run here as the Containerfile runs
them (the galaxy install from the context, then the introspection of the
installed collections), find what meta/execution-environment.yml names. No
container is built."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import filecmp
import glob
import os
import shutil
import subprocess
import sys

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLE = os.path.join(ROOT, "docs", "awx")


def tool(name):
    """A command of the test venv (requirements/test.txt pins ansible-builder)."""
    path = shutil.which(name, path=os.path.dirname(sys.executable)) or shutil.which(name)
    if path is None:
        pytest.fail("%s is not installed: run hack/setup.sh (requirements/test.txt)" % name)
    return path


def run(command, **kwargs):
    done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                          timeout=300, check=False, **kwargs)
    assert done.returncode == 0, "%s exited %d:\n%s" % (" ".join(command), done.returncode, done.stdout)
    return done.stdout


def listed(path):
    """The requirement lines of a requirements.txt or bindep.txt."""
    with open(path, encoding="utf-8") as handle:
        return [line.strip() for line in handle if line.strip() and not line.lstrip().startswith("#")]


@pytest.fixture(scope="module")
def build(tmp_path_factory):
    """The user's steps: the example next to a freshly built tarball, then
    ansible-builder create."""
    ee = tmp_path_factory.mktemp("ee")
    for name in ("execution-environment.yml", "requirements.yml"):
        shutil.copy(os.path.join(EXAMPLE, name), str(ee / name))
    run([tool("ansible-galaxy"), "collection", "build", "--output-path", str(ee), ROOT])
    output = run([tool("ansible-builder"), "create", "--file", str(ee / "execution-environment.yml"),
                  "--context", str(ee / "context")])
    return {"dir": ee, "context": ee / "context", "output": output,
            "tarball": glob.glob(str(ee / "lastgood-webstack-*.tar.gz"))[0]}


def test_the_collection_declares_its_dependencies_as_ansible_builder_reads_them():
    with open(os.path.join(ROOT, "meta", "execution-environment.yml"), encoding="utf-8") as handle:
        definition = yaml.safe_load(handle)
    assert definition["dependencies"] == {"python": "requirements.txt", "system": "bindep.txt"}
    # The deploy role packs each bundle on the controller: tar --gzip.
    assert {"tar", "gzip"} <= set(listed(os.path.join(ROOT, "bindep.txt")))
    # The controller-side plugins use the standard library and ansible-core only.
    assert listed(os.path.join(ROOT, "requirements.txt")) == []


def test_create_makes_a_build_context_with_the_collections_tarball(build):
    context = build["context"]
    assert "Complete! The build context can be found at" in build["output"]
    copied = context / "_build" / "collections" / os.path.basename(build["tarball"])
    assert copied.is_file() and filecmp.cmp(str(copied), build["tarball"], shallow=False)
    assert filecmp.cmp(str(context / "_build" / "requirements.yml"), os.path.join(EXAMPLE, "requirements.yml"),
                       shallow=False)
    containerfile = (context / "Containerfile").read_text()
    assert 'FROM $EE_BASE_IMAGE AS base' in containerfile
    assert "ansible-galaxy collection install $ANSIBLE_GALAXY_CLI_COLLECTION_OPTS -r requirements.yml" in containerfile
    assert "/output/scripts/introspect.py introspect" in containerfile
    assert (context / "_build" / "scripts" / "introspect.py").is_file()


def test_the_builds_introspection_finds_the_collections_system_packages(build, tmp_path):
    """The galaxy stage installs from the context's _build; the builder stage
    runs _build/scripts/introspect.py over what it installed. Here both run
    on this machine, with tmp_path for /usr/share/ansible."""
    build_dir = build["context"] / "_build"
    collections = tmp_path / "collections"
    # Only that path configured, as in the image: else ansible-galaxy finds
    # this checkout through ANSIBLE_COLLECTIONS_PATH and installs nothing.
    environ = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(collections))
    run([tool("ansible-galaxy"), "collection", "install", "-r", "requirements.yml",
         "--collections-path", str(collections)], cwd=str(build_dir), env=environ)
    installed = collections / "ansible_collections" / "lastgood" / "webstack"
    for name in ("meta/execution-environment.yml", "bindep.txt", "requirements.txt"):
        assert (installed / name).is_file(), name

    bindep, pip = tmp_path / "bindep.txt", tmp_path / "requirements.txt"
    output = run([sys.executable, str(build_dir / "scripts" / "introspect.py"), "introspect",
                  "--write-bindep=%s" % bindep, "--write-pip=%s" % pip, str(collections)])
    found = yaml.safe_load(output)
    from_collection = "  # from collection lastgood.webstack"
    assert found["system"] == [line + from_collection for line in listed(os.path.join(ROOT, "bindep.txt"))]
    assert found["python"] == []
    assert listed(str(bindep)) == found["system"]
    # Nothing for pip to install, so the build writes no pip file.
    assert not pip.exists()
