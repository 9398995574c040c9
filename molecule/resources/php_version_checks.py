"""What the scenarios of other Debian releases check on every host: the
host runs the PHP and Python its Debian release ships, and the roles, which
were given no lastgood_php_version, used that PHP-FPM: the site role's pool
include is in its pool directory and no other, the deploys and the rollback
reloaded its master (its log counts the reloads, and the switches the
release module refuses without a PHP-FPM under the pid file went through),
and the site answers from it."""

import re

from deploy_checks import served

SITE = "demo"


def check_php_fpm(host, php_version, python_version):
    python = host.check_output("/usr/bin/python3 -c 'import sys; print(\"%d.%d\" % sys.version_info[:2])'")
    assert python == python_version
    installed = sorted(name[len("php-fpm"):] for name in host.check_output("ls /usr/sbin").split()
                       if re.match(r"^php-fpm[0-9]+\.[0-9]+$", name))
    assert installed == [php_version]
    cli = host.check_output("php -r 'echo PHP_MAJOR_VERSION, \".\", PHP_MINOR_VERSION;'")
    assert cli == php_version

    pool_includes = host.check_output("ls -1 /etc/php/*/fpm/pool.d/lastgood-%s.conf" % SITE).split()
    assert pool_includes == ["/etc/php/%s/fpm/pool.d/lastgood-%s.conf" % (php_version, SITE)]

    pidfile = host.file("/run/php/php%s-fpm.pid" % php_version)
    assert pidfile.exists, "no pid file of PHP-FPM %s" % php_version
    pid = int(pidfile.content_string.strip())
    assert host.file("/proc/%d/comm" % pid).content_string.strip() == "php-fpm" + php_version
    master = host.file("/proc/%d/cmdline" % pid).content_string.replace("\0", " ")
    assert "/etc/php/%s/fpm/php-fpm.conf" % php_version in master, master

    # Staging: v1, v2f and back, v3; production: v1, v3 and the rollback.
    reloads = host.file("/var/log/php%s-fpm.log" % php_version).content_string.count("Reloading in progress")
    assert reloads >= 3, "PHP-FPM %s was reloaded %d times" % (php_version, reloads)

    status, body = served(host)
    assert status == "200" and (" on PHP %s" % php_version) in body, body
