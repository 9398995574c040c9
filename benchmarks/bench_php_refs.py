"""php_refs against `php -l` on WordPress and DokuWiki as Debian ships them
(the trees extracted from the test image into .cache/test-root).

Rows, alternating runs:
  php_refs scan()            in-process, the whole tree, includes resolved
  php_refs module            as Ansible runs it (Python and Ansible start-up
                             included), tokenizing in one process per CPU
  php_refs module, jobs=1    the same in one process
  php -l, one file at a time as people run it: find ... -exec php -l {} \\;
  php -l, xargs -P<CPUs>     one php -l per CPU at a time
php -l only checks syntax; php_refs resolves every include and require and
finds what php -l cannot (shown afterwards on a copy with a .phpp typo).
Linear growth: scan() of 1, 4 and 16 copies of the tree (hard links),
time per file.

    python benchmarks/bench_php_refs.py [--quick] [--runs N] [--app wordpress|dokuwiki]
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
COLLECTIONS = os.path.join(ROOT, ".cache", "collections")
TEST_ROOT = os.environ.get("LASTGOOD_TEST_ROOT") or os.path.join(ROOT, ".cache", "test-root")
sys.path.insert(0, HERE)
sys.path.insert(0, COLLECTIONS)

import _timing  # noqa: E402
from ansible_collections.lastgood.webstack.plugins.module_utils._php.jobs import usable_cpus  # noqa: E402
from ansible_collections.lastgood.webstack.plugins.module_utils._php.resolve import scan  # noqa: E402

INCLUDE_PATH = [".", "/usr/share/php"]
# (tree, constants known from outside the code, a require to type as .phpp and the file holding it)
APPS = {
    "wordpress": ("/usr/share/wordpress", {}, "wp-settings.php", "'/class-wp-locale.php'"),
    "dokuwiki": ("/usr/share/dokuwiki", {"DOKU_INC": "/usr/share/dokuwiki/"}, "doku.php", "'inc/init.php'"),
}
GROWTH = (1, 4, 16)


def timed(function):
    start = time.perf_counter()
    value = function()
    return time.perf_counter() - start, value


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs")
    parser.add_argument("--runs", type=int)
    parser.add_argument("--app", choices=sorted(APPS), action="append", help="only this application (default: all)")
    args = parser.parse_args()
    runs = args.runs or (2 if args.quick else 5)
    php = shutil.which("php")
    if php is None:
        raise SystemExit("php is not installed: run hack/setup.sh (it installs php8.2-cli)")
    for name in args.app or sorted(APPS, reverse=True):
        bench_app(name, runs, php)


def bench_app(name, runs, php):
    app, constants, typo_file, typo_text = APPS[name]
    if not os.path.isdir(os.path.join(TEST_ROOT, app.lstrip("/"))):
        raise SystemExit("the test tree is missing: run hack/setup.sh")
    path_map = {"/": TEST_ROOT}
    tree = os.path.join(TEST_ROOT, app.lstrip("/"))
    files = []
    for directory, dirs, names in os.walk(tree, followlinks=True):
        dirs.sort()
        files.extend(os.path.join(directory, name) for name in sorted(names) if name.endswith(".php"))
    work = tempfile.mkdtemp(prefix="lastgood-bench-php-refs-")
    try:
        list_file = os.path.join(work, "files")
        with open(list_file, "w") as handle:
            handle.write("\0".join(files))
        args_file = os.path.join(work, "args.json")
        with open(args_file, "w") as handle:
            json.dump({"ANSIBLE_MODULE_ARGS": {"paths": [app], "include_path": INCLUDE_PATH,
                                               "constants": constants, "path_map": path_map}}, handle)
        module = [sys.executable, "-m", "ansible_collections.lastgood.webstack.plugins.modules.php_refs", args_file]
        env = dict(os.environ, LC_ALL="C")

        def in_process():
            seconds, result = timed(lambda: scan([app], include_path=INCLUDE_PATH, constants=constants,
                                                 path_map=path_map))
            return seconds

        one_job_args_file = os.path.join(work, "args-one-job.json")
        with open(one_job_args_file, "w") as handle:
            json.dump({"ANSIBLE_MODULE_ARGS": {"paths": [app], "include_path": INCLUDE_PATH, "jobs": 1,
                                               "constants": constants, "path_map": path_map}}, handle)

        def as_module(argv):
            def measure():
                seconds, completed = timed(lambda: subprocess.run(argv, cwd=COLLECTIONS, env=env,
                                                                  stdout=subprocess.PIPE, check=False))
                output = json.loads(completed.stdout)
                if output.get("files_scanned") != len(files):
                    raise SystemExit("the module scanned %s files, expected %d" % (
                        output.get("files_scanned"), len(files)))
                return seconds
            return measure

        def php_lint(parallel):
            argv = ["xargs", "-0", "-n1"] + (["-P%d" % parallel] if parallel > 1 else []) + [php, "-n", "-l"]

            def measure():
                with open(list_file, "rb") as stdin:
                    seconds, completed = timed(lambda: subprocess.run(argv, stdin=stdin, env=env, stdout=subprocess.DEVNULL,
                                                                      stderr=subprocess.DEVNULL, check=False))
                if completed.returncode != 0:
                    raise SystemExit("php -l refused a file of %s (exit %d)" % (app, completed.returncode))
                return seconds
            return measure

        print("== php_refs: %s as Debian ships it, %d PHP files, %d runs each ==" % (app, len(files), runs))
        result = scan([app], include_path=INCLUDE_PATH, constants=constants, path_map=path_map)
        print("php_refs: %d files, %d include/require, %d resolved, %d unresolved, %d findings"
              % (result.files_scanned, result.includes_total, result.includes_resolved, result.unresolved,
                 len(result.findings)))
        cpus = usable_cpus()
        parallel_lint = "php -l, xargs -P%d" % cpus
        times = _timing.alternate([
            ("php_refs scan() in-process", in_process),
            ("php_refs module", as_module(module)),
            ("php_refs module, jobs=1", as_module(module[:-1] + [one_job_args_file])),
            ("php -l, one file at a time", php_lint(1)),
            (parallel_lint, php_lint(cpus)),
        ], runs)
        summaries = {name: _timing.summary(values) for name, values in times.items()}
        rows = [(name, _timing.ms(s["median_s"]), _timing.ms(s["min_s"]), _timing.ms(s["max_s"]))
                for name, s in summaries.items()]
        print()
        print(_timing.markdown_table(rows, ("contender", "median", "min", "max"),
                                     title="%s: %d PHP files, %d runs each, alternating; php_refs in %d processes "
                                           "unless jobs=1" % (name, len(files), runs, cpus)))
        lint_serial = summaries["php -l, one file at a time"]["median_s"]
        lint_parallel = summaries[parallel_lint]["median_s"]
        ratios = {
            "serial_lint_over_scan": lint_serial / summaries["php_refs scan() in-process"]["median_s"],
            "parallel_lint_over_scan": lint_parallel / summaries["php_refs scan() in-process"]["median_s"],
            "serial_lint_over_module": lint_serial / summaries["php_refs module"]["median_s"],
            "parallel_lint_over_module": lint_parallel / summaries["php_refs module"]["median_s"],
            "serial_lint_over_module_one_job": lint_serial / summaries["php_refs module, jobs=1"]["median_s"],
        }
        print()
        for ratio, value in ratios.items():
            _timing.note("ratio %s = %.1f (php -l time / php_refs time)" % (ratio, value))
        module_s = summaries["php_refs module"]["median_s"]
        _timing.note("goal: the whole %s tree in under a second of module time: %s (median %.2f s)" % (
            name, "met" if module_s < 1 else "NOT met", module_s))
        _timing.note("goal: php_refs 20 times faster than php -l over the same files: %s "
                     "(module against serial php -l: %.1f; in-process scan against serial php -l: %.1f)" % (
                         "met" if ratios["serial_lint_over_module"] >= 20 else "NOT met as a module",
                         ratios["serial_lint_over_module"], ratios["serial_lint_over_scan"]))

        growth = []
        copies_dir = os.path.join(work, "copies")
        for number in range(max(GROWTH)):
            # Hard links: 16 copies cost no disk space, and scan() reads each file anyway.
            shutil.copytree(tree, os.path.join(copies_dir, "%s%d" % (name, number)), symlinks=True,
                            copy_function=os.link)
        for copies in GROWTH:
            paths = [os.path.join(copies_dir, "%s%d" % (name, number)) for number in range(copies)]
            mapping = {"/": TEST_ROOT}
            mapping.update({path: path for path in paths})
            scanned = scan(paths, include_path=INCLUDE_PATH, constants=constants, path_map=mapping).files_scanned
            seconds = min(timed(lambda: scan(paths, include_path=INCLUDE_PATH, constants=constants,
                                             path_map=mapping))[0]
                          for dummy in range(max(2, runs // 2)))
            growth.append((copies, scanned, seconds))
        print()
        print(_timing.markdown_table(
            [(copies, count, _timing.ms(seconds), "%.1f us" % (seconds / count * 1e6)) for copies, count, seconds in growth],
            ("copies", "files", "best scan()", "per file"),
            title="%s: scan() time against tree size (hard-linked copies)" % name))

        copy = os.path.join(work, name)
        shutil.copytree(tree, copy, symlinks=True)
        settings = os.path.join(copy, typo_file)
        with open(settings) as handle:
            text = handle.read()
        with open(settings, "w") as handle:
            handle.write(text.replace(typo_text, typo_text.replace(".php'", ".phpp'")))
        typo = scan([app], include_path=INCLUDE_PATH, constants=constants, path_map={"/": TEST_ROOT, app: copy})
        found = [f for f in typo.findings if f["severity"] == "error" and f["path"].endswith(".phpp")]
        lint_rc = subprocess.run([php, "-n", "-l", settings], stdout=subprocess.DEVNULL, check=False).returncode
        print()
        _timing.note(".phpp typo in %s: php_refs reports %s; php -l exits %d (no syntax error)"
                     % (typo_file, ", ".join("%s:%s" % (f["file"], f["line"]) for f in found) or "nothing", lint_rc))
        print("saved %s" % _timing.save("php_refs" if name == "wordpress" else "php_refs_" + name, {
            "app": app,
            "files": len(files), "runs": runs, "summaries": summaries, "ratios": ratios,
            "growth": [{"copies": c, "files": n, "best_s": s} for c, n, s in growth],
            "typo_found": bool(found), "php_lint_rc_on_typo": lint_rc}))
        if not found:
            raise SystemExit("php_refs missed the injected typo")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
