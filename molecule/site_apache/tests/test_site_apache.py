"""What the site role leaves on an Apache host, checked on the host itself."""

SITE_DIR = "/srv/lastgood/demo"


def test_release_layout(host):
    for path in ("/srv/lastgood", SITE_DIR, SITE_DIR + "/releases"):
        directory = host.file(path)
        assert directory.is_directory, path
        assert directory.mode == 0o755, (path, oct(directory.mode))


def test_apache_includes_the_current_release_only(host):
    include = host.file("/etc/apache2/sites-enabled/demo.conf")
    assert include.is_file
    lines = [
        line.strip()
        for line in include.content_string.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert lines == ["IncludeOptional /srv/lastgood/demo/current/apache/*.conf"]
    assert not host.file("/etc/apache2/sites-enabled/000-default.conf").exists


def test_apache_modules_for_php_fpm_are_enabled(host):
    for module in ("proxy", "proxy_fcgi", "setenvif", "rewrite"):
        assert host.file(f"/etc/apache2/mods-enabled/{module}.load").exists, module


def test_apache_accepts_its_configuration(host):
    result = host.run("apache2ctl -t")
    assert result.rc == 0, result.stderr
    assert "Syntax OK" in result.stderr


def test_services_run(host):
    assert host.process.filter(comm="apache2"), "no apache2 process"
    assert host.process.filter(comm="php-fpm8.2"), "no php-fpm process"
    assert not host.process.filter(comm="nginx"), "nginx runs beside apache"


def test_hand_placed_release_is_served_by_php(host):
    response = host.run(
        "curl -sS -o /dev/stdout -w '\\n%{http_code}' http://127.0.0.1/"
    )
    assert response.rc == 0, response.stderr
    body, _newline, status = response.stdout.rpartition("\n")
    assert status == "200", response.stdout
    assert body.startswith("lastgood demo release v1 on PHP 8.2"), body
