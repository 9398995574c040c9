import os

from ansible_collections.lastgood.webstack.plugins.module_utils._webconf.candidate import make_candidate, translate_back


def test_candidate_points_at_the_staged_release_and_leaves_live_alone(make_tree, tmp_path):
    root = make_tree({
        "etc/nginx/nginx.conf": "http { include %s/etc/nginx/sites-enabled/*; }\n" % tmp_path,
        "etc/nginx/sites-available/shop.conf": "include /srv/shop/current/nginx/*.conf;\n",
        "etc/nginx/mime.types": "types {}\n",
    })
    os.symlink("../sites-available/shop.conf", str(root / "etc/nginx/sites-enabled-link"))
    os.makedirs(str(root / "etc/nginx/sites-enabled"))
    os.symlink("%s/etc/nginx/sites-available/shop.conf" % tmp_path, str(root / "etc/nginx/sites-enabled/shop.conf"))
    live = str(root / "etc/nginx")
    before = {name: open(os.path.join(live, name)).read() for name in ("nginx.conf", "sites-available/shop.conf")}

    copy = make_candidate(live, {"/srv/shop/current": "/srv/shop/releases/v2"}, parent=str(tmp_path))
    try:
        assert open(os.path.join(copy, "nginx.conf")).read() == "http { include %s/sites-enabled/*; }\n" % copy
        assert open(os.path.join(copy, "sites-available/shop.conf")).read() == \
            "include /srv/shop/releases/v2/nginx/*.conf;\n"
        # An absolute link into the live directory now points into the copy.
        assert os.readlink(os.path.join(copy, "sites-enabled/shop.conf")) == "%s/sites-available/shop.conf" % copy
        assert os.readlink(os.path.join(copy, "sites-enabled-link")) == "../sites-available/shop.conf"
        assert translate_back("error in %s/nginx.conf:1" % copy, copy, live) == "error in %s/nginx.conf:1" % live
    finally:
        import shutil
        shutil.rmtree(os.path.dirname(copy))
    assert {name: open(os.path.join(live, name)).read() for name in before} == before
    assert not [name for name in os.listdir(str(tmp_path)) if name.startswith("lastgood-candidate-")]


def test_files_the_test_loaded_come_back_as_live_paths(tmp_path):
    """test_candidate's own part: the copy's files named as the live
    directory's, the staged release's as current's, nginx's dump left out of
    the output. The server here is a stand-in shell script that dumps, as
    ``nginx -T`` does, the main file and what its one level of include lines
    names (the real nginx runs in molecule/deploy_incident)."""
    from ansible_collections.lastgood.webstack.plugins.module_utils._webconf.candidate import test_candidate
    import subprocess

    live = tmp_path / "etc-nginx"
    live.mkdir()
    (live / "nginx.conf").write_text("include %s/mime.types;\ninclude /srv/shop/current/nginx/*.conf;\n" % live)
    (live / "mime.types").write_text("types {}\n")
    release = tmp_path / "releases" / "v2"
    (release / "nginx").mkdir(parents=True)
    (release / "nginx" / "shop.conf").write_text("server {}\n")
    stand_in = tmp_path / "nginx"
    stand_in.write_text(
        "#!/bin/sh\n"
        "for f in \"$4\" $(sed -n 's/^include \\(.*\\);$/\\1/p' \"$4\"); do\n"
        "  echo \"# configuration file $f:\"; cat \"$f\"; echo\n"
        "done\n"
        "echo 'nginx: [warn] something about %s/nginx.conf' >&2\n" % live)
    stand_in.chmod(0o755)

    def run(cmd, environ):
        done = subprocess.run(cmd, env=dict(os.environ, **environ), capture_output=True, text=True, check=False)
        return done.returncode, done.stdout, done.stderr

    rc, output, cmd, files = test_candidate("nginx", str(live), {"/srv/shop/current": str(release)}, str(stand_in),
                                            run, str(tmp_path))
    assert rc == 0
    assert cmd[:3] == [str(stand_in), "-T", "-q"]
    assert files == ["%s/nginx.conf" % live, "%s/mime.types" % live, "/srv/shop/current/nginx/shop.conf"]
    assert output == "nginx: [warn] something about %s/nginx.conf" % live
