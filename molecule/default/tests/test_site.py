"""What the site role leaves on each host, checked on the host itself, and
what deploy --check left (nothing) before and after a real deploy."""

import json

SITE_DIR = "/srv/lastgood/demo"


def test_release_layout(host):
    for path in ("/srv/lastgood", SITE_DIR, SITE_DIR + "/releases"):
        directory = host.file(path)
        assert directory.is_directory, path
        assert directory.user == "root"
        assert directory.mode == 0o755, (path, oct(directory.mode))


def test_nginx_includes_the_current_release_only(host):
    include = host.file("/etc/nginx/sites-enabled/demo.conf")
    assert include.is_file
    assert include.mode == 0o644
    lines = [
        line.strip()
        for line in include.content_string.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert lines == ["include /srv/lastgood/demo/current/nginx/*.conf;"]
    assert not host.file("/etc/nginx/sites-enabled/default").exists


def test_nginx_accepts_its_configuration(host):
    result = host.run("nginx -t")
    assert result.rc == 0, result.stderr


def test_services_run(host):
    assert host.process.filter(comm="nginx"), "no nginx process"
    assert host.process.filter(comm="php-fpm8.2"), "no php-fpm process"
    assert host.socket("tcp://0.0.0.0:80").is_listening
    assert host.socket("unix:///run/php/php8.2-fpm.sock").is_listening


def test_v2_went_out_over_the_hand_placed_release_and_v3_was_only_checked(host):
    # side_effect.yml: deploy --check of v2 (nothing changed), a real deploy of
    # v2 through the pipeline, then deploy --check of v3 (nothing changed).
    assert host.file(SITE_DIR + "/releases/v1").is_directory
    assert host.file(SITE_DIR + "/current").linked_to == SITE_DIR + "/releases/v2"
    assert not host.file(SITE_DIR + "/releases/v3").exists
    state = json.loads(host.file(SITE_DIR + "/state.json").content_string)
    assert state["current"] == state["known_good"] == "v2" and "v3" not in state["releases"]
    response = host.run(
        "curl -sS -o /dev/stdout -w '\\n%{http_code}' -H 'Host: demo.test' http://127.0.0.1/"
    )
    assert response.rc == 0, response.stderr
    body, _newline, status = response.stdout.rpartition("\n")
    assert status == "200", response.stdout
    assert body.startswith("lastgood demo release v2 on PHP 8.2"), body


def test_the_docs_example_bundle_is_live_with_its_shared_and_writable_paths(host):
    # side_effect.yml deploys docs/examples/shop-bundle as docs/examples/README.md says.
    shop = "/srv/lastgood/shop"
    state = json.loads(host.file(shop + "/state.json").content_string)
    assert state["current"] == state["known_good"]
    release = state["releases"][state["current"]]
    assert release["shared_paths"] == ["app/.env", "app/public/uploads"]
    assert host.file(shop + "/current/app/.env").linked_to == shop + "/shared/app/.env"
    assert host.file(shop + "/shared/app/.env").is_file
    assert host.file(shop + "/shared/app/public/uploads/hello.txt").user == "www-data"
    assert host.file(shop + "/current/app/var/cache/views.txt").user == "www-data"
