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
