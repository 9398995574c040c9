"""The incident through the pipeline on Debian bullseye (Python 3.9, PHP 7.4):
b-staging1 and b-prod1, with the PHP-FPM the roles found on the hosts."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "resources"))

from php_version_checks import check_php_fpm  # noqa: E402
from pipeline_checks import check_production, check_staging  # noqa: E402

testinfra_hosts = ["podman://b-staging1", "podman://b-prod1"]

# What Debian bullseye ships.
PHP_VERSION = "7.4"
PYTHON_VERSION = "3.9"


def test_the_story(host):
    if host.backend.get_hostname().startswith("b-staging"):
        check_staging(host)
    else:
        check_production(host)


def test_the_php_fpm_the_roles_used_is_the_hosts(host):
    check_php_fpm(host, PHP_VERSION, PYTHON_VERSION)
