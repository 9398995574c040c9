"""Coverage-guided fuzzing of the nginx, Apache and PHP parsers with atheris
(libFuzzer for Python), beside the hypothesis tests of
tests/unit/plugins/module_utils/test_fuzz_parsers.py and with their checks:
each input is parsed as text, then loaded as the main file of a tree (nginx,
Apache) or scanned as a PHP file of an application; a parser returns or
raises its own error naming a file and a line that exists, anything else
stops the run with the input that caused it.

The corpus starts from the real files of the test tree (Debian's nginx and
Apache configs, WordPress and DokuWiki), 16 KiB slices of the large ones.

    python tests/fuzz/atheris_parsers.py nginx -runs=100000
    python tests/fuzz/atheris_parsers.py php -runs=100000 -seed=1

hack/fuzz.sh runs it for each parser when atheris is installed
(requirements/fuzz.txt)."""

import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
COLLECTION_ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(COLLECTION_ROOT, ".cache", "collections"))

import atheris  # noqa: E402  (after the sys.path set-up above)

with atheris.instrument_imports(include=["ansible_collections.lastgood.webstack.plugins"]):
    from ansible_collections.lastgood.webstack.tests.unit.plugins.module_utils import test_fuzz_parsers as checks

SLICE = 16 * 1024
TEST_ROOT = os.environ.get("LASTGOOD_TEST_ROOT") or os.path.join(COLLECTION_ROOT, ".cache", "test-root")
SEEDS = {
    "nginx": (("etc/nginx", "usr/share/doc/wordpress/examples/nginx-wordpress.conf"), ""),
    "apache": (("etc/apache2",), ""),
    "php": (("usr/share/wordpress", "usr/share/dokuwiki"), ".php"),
}


def nginx(data):
    checks.nginx_parse(data)
    checks.nginx_load({"nginx.conf": data, "a.conf": data[: len(data) // 2]})


def apache(data):
    checks.apache_functions(checks.decode(data))
    checks.apache_load({"apache2.conf": data, "a.conf": data[: len(data) // 2]})


def php(data):
    checks.php_functions(checks.decode(data))
    checks.php_scan({"index.php": data})


TARGETS = {"nginx": nginx, "apache": apache, "php": php}


def write_corpus(parser, directory):
    """The seed files of ``parser`` into ``directory``, large ones sliced."""
    relatives, suffix = SEEDS[parser]
    paths = checks._files_under(TEST_ROOT, *relatives, suffix=suffix)
    if len(paths) < 5:
        raise SystemExit("too few %s files under %s: run hack/setup.sh first" % (parser, TEST_ROOT))
    for number, path in enumerate(paths):
        with open(path, "rb") as handle:
            data = handle.read()
        for part, start in enumerate(range(0, max(len(data), 1), SLICE)):
            with open(os.path.join(directory, "%05d-%d" % (number, part)), "wb") as handle:
                handle.write(data[start:start + SLICE])


def main():
    if len(sys.argv) < 2 or sys.argv[1] not in TARGETS:
        raise SystemExit("usage: %s {%s} [libFuzzer options, e.g. -runs=100000]" % (sys.argv[0], "|".join(TARGETS)))
    parser = sys.argv[1]
    target = TARGETS[parser]
    with tempfile.TemporaryDirectory(prefix="lastgood-atheris-%s-" % parser) as work:
        corpus = os.path.join(work, "corpus")
        os.mkdir(corpus)
        write_corpus(parser, corpus)
        argv = [sys.argv[0]] + sys.argv[2:] + ["-artifact_prefix=%s/" % os.getcwd(), "-max_len=%d" % SLICE, corpus]
        atheris.Setup(argv, target)
        atheris.Fuzz()


if __name__ == "__main__":
    main()
