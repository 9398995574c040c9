"""php_refs' two tokenizers against each other: PHP's own (PhpToken in php
processes, plugins/module_utils/_php/php_extract.py) and the Python lexer,
on WordPress and DokuWiki as Debian ships them (the test root) and, when
the corpus is there, MediaWiki (.cache/corpus, read through its path, no
chroot: a symlink that leads out of it fails to read alike both ways).

Rows, alternating runs, medians of the wall time and of the CPU time
(this process and its children: the forks or the php processes), which
moves less on a busy machine:
  extract, jobs=1            statements of every file, one process (php: one php)
  extract, jobs=N            one per CPU, 8 at most (Python forks, or N php processes)
  scan()                     the whole php_refs scan with each tokenizer, default jobs
Then the start-up: extract of the first n files of a shuffled WordPress
(jobs=1), where php starts to win; php_extract.MIN_FILES should be about
there. The results of both are
checked to be the same (statements, definitions, problems, findings).

    python benchmarks/bench_php_extract.py [--quick] [--runs N]

Prints the tables, then the results as JSON; keeps results/php_extract.json.
"""

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, ".cache", "collections"))

import _timing  # noqa: E402
from ansible_collections.lastgood.webstack.plugins.module_utils._common.paths import PathMap  # noqa: E402
from ansible_collections.lastgood.webstack.plugins.module_utils._php import php_extract  # noqa: E402
from ansible_collections.lastgood.webstack.plugins.module_utils._php.jobs import default_jobs, extract_all  # noqa: E402
from ansible_collections.lastgood.webstack.plugins.module_utils._php.resolve import find_php_files, scan  # noqa: E402

TEST_ROOT = os.environ.get("LASTGOOD_TEST_ROOT") or os.path.join(ROOT, ".cache", "test-root")
CORPUS_ROOT = os.path.join(ROOT, ".cache", "corpus", "root")
INCLUDE_PATH = [".", "/usr/share/php"]
# (name, the root the tree is under, the tree as the scan names it, constants known from outside the code)
TREES = (
    ("WordPress", TEST_ROOT, "/usr/share/wordpress", {}),
    ("DokuWiki", TEST_ROOT, "/usr/share/dokuwiki", {"DOKU_INC": "/usr/share/dokuwiki/"}),
    ("MediaWiki", CORPUS_ROOT, "/usr/share/mediawiki", {}),
)
STARTUP_FILES = (16, 32, 64, 96, 128, 160, 192, 256, 512)


def timed(function):
    start = time.perf_counter()
    value = function()
    return time.perf_counter() - start, value


def measured(function, cpu):
    """A contender for _timing.alternate: runs ``function``, returns its wall
    time and appends its CPU time (children included) to ``cpu``."""
    def measure():
        before = os.times()
        seconds = timed(function)[0]
        after = os.times()
        cpu.append(sum(after[field] - before[field] for field in range(4)))
        return seconds
    return measure


def row(what, python, php):
    """A table row: wall and CPU medians of both, and how many times as fast php is."""
    return (what, _timing.ms(python["median_s"]), _timing.ms(php["median_s"]), "%.2f" % (python["median_s"] / php["median_s"]),
            _timing.ms(python["cpu_median_s"]), _timing.ms(php["cpu_median_s"]),
            "%.2f" % (python["cpu_median_s"] / php["cpu_median_s"]))


HEADER = ("", "python wall", "php wall", "python / php", "python CPU", "php CPU", "python / php (CPU)")


def tokens(items):
    return [(token.kind, token.value, token.line, token.start, token.end, token.literal) for token in items]


def plain(extracted):
    return (extracted.problem, extracted.declares,
            [statement._replace(tokens=tokens(statement.tokens)) for statement in extracted.statements],
            [(name, definition._replace(tokens=tokens(definition.tokens))) for name, definition in extracted.definitions])


def outcome(result):
    return (result.findings, result.problems, result.files_scanned, result.includes_total, result.includes_resolved,
            result.unresolved)


def bench_tree(name, root, tree, constants, php, runs):
    path_map = PathMap({"/": root})
    files = find_php_files([tree], path_map)[0]
    jobs = default_jobs()
    always = php_extract.Php(php, True)
    left = {}
    php_extract.extract_with_php(files, always, 1, left)
    python_results = extract_all(files, 1)
    php_results = extract_all(files, 1, always)
    if [plain(each) for each in python_results] != [plain(each) for each in php_results]:
        raise SystemExit("%s: the two tokenizers disagree; run tests/unit/plugins/module_utils/test_php_extract_agree.py" % name)
    options = dict(include_path=INCLUDE_PATH, constants=constants, path_map={"/": root})
    if outcome(scan([tree], **options)) != outcome(scan([tree], php=always, **options)):
        raise SystemExit("%s: scan() differs with PHP's tokenizer" % name)

    whats = ("extract, jobs=1", "extract, jobs=%d" % jobs, "scan()")
    functions = {
        whats[0]: lambda tokenizer: extract_all(files, 1, tokenizer),
        whats[1]: lambda tokenizer: extract_all(files, jobs, tokenizer),
        whats[2]: lambda tokenizer: scan([tree], php=tokenizer, **options),
    }
    cpu = {}
    contenders = []
    for what in whats:
        for tokenizer, label in ((None, "python"), (always, "php")):
            key = "%s, %s" % (what, label)
            cpu[key] = []
            contenders.append((key, measured(lambda function=functions[what], tokenizer=tokenizer: function(tokenizer),
                                             cpu[key])))
    summaries = {}
    for key, values in _timing.alternate(contenders, runs).items():
        summaries[key] = dict(_timing.summary(values), cpu_median_s=statistics.median(cpu[key]),
                              cpu_all_s=[round(value, 3) for value in cpu[key]])
    title = "%s: %d PHP files, %d runs each, alternating; %d left to the Python lexer by php_extract" % (
        name, len(files), runs, len(left))
    print("\n*%s*\n" % title)
    print(_timing.markdown_table([row(what, summaries[what + ", python"], summaries[what + ", php"]) for what in whats],
                                 HEADER, title=title))
    return {"files": len(files), "jobs": jobs, "left_to_python": sorted(set(left.values())),
            "left_to_python_files": len(left), "summaries": summaries}


def bench_startup(php, runs):
    """Medians of extract of the first n files of a shuffled WordPress, jobs=1."""
    files = find_php_files(["/usr/share/wordpress"], PathMap({"/": TEST_ROOT}))[0]
    random.Random(18).shuffle(files)
    always = php_extract.Php(php, True)
    rows = []
    points = []
    startup_runs = max(runs, 9)
    for count in STARTUP_FILES:
        some = files[:count]
        cpu = {"python": [], "php": []}
        times = _timing.alternate([("python", measured(lambda: extract_all(some, 1), cpu["python"])),
                                   ("php", measured(lambda: extract_all(some, 1, always), cpu["php"]))], startup_runs)
        python_s, php_s = statistics.median(times["python"]), statistics.median(times["php"])
        points.append({"files": count, "python_median_s": python_s, "php_median_s": php_s,
                       "python_cpu_median_s": statistics.median(cpu["python"]), "php_cpu_median_s": statistics.median(cpu["php"])})
        rows.append((count, _timing.ms(python_s), _timing.ms(php_s), "php" if php_s < python_s else "python"))
    title = "Start-up: extract of the first n files of a shuffled WordPress, jobs=1, %d runs each, alternating" % startup_runs
    print("\n*%s*\n" % title)
    print(_timing.markdown_table(rows, ("files", "python wall (median)", "php wall (median)", "faster"), title=title))
    wins = [point["files"] for point in points if point["php_median_s"] < point["python_median_s"]]
    # From where php wins at every larger size measured.
    from_files = next((count for count in STARTUP_FILES if all(c in wins for c in STARTUP_FILES if c >= count)), None)
    _timing.note("php's tokenizer is faster from %s files on (php_extract.MIN_FILES is %d)" % (
        from_files if from_files is not None else "no size measured", php_extract.MIN_FILES))
    return {"points": points, "php_faster_from_files": from_files, "min_files": php_extract.MIN_FILES}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs")
    parser.add_argument("--runs", type=int)
    args = parser.parse_args()
    runs = args.runs or (3 if args.quick else 7)
    php = shutil.which("php")
    if php is None:
        raise SystemExit("php is not installed: run hack/setup.sh (it installs php8.2-cli)")
    if not os.path.isdir(os.path.join(TEST_ROOT, "usr", "share", "wordpress")):
        raise SystemExit("the test tree is missing: run hack/setup.sh")
    print("== php_refs' tokenizers: PHP's own (%s) against the Python lexer, %d runs each ==" % (php, runs))
    result = {"runs": runs, "php": php, "trees": {}}
    for name, root, tree, constants in TREES:
        if not os.path.isdir(os.path.join(root, tree.lstrip("/"))):
            print("\n%s: not there (%s), skipped" % (name, os.path.join(root, tree.lstrip("/"))))
            continue
        result["trees"][name] = bench_tree(name, root, tree, constants, php, runs)
    result["startup"] = bench_startup(php, runs)
    print()
    for name, tree in result["trees"].items():
        summaries = tree["summaries"]
        _timing.note("%s: with php, extract (jobs=1) %.2f times and scan() (%d jobs) %.2f times as fast as with python "
                     "(wall medians; CPU: %.2f and %.2f)" % (
                         name, summaries["extract, jobs=1, python"]["median_s"] / summaries["extract, jobs=1, php"]["median_s"],
                         tree["jobs"], summaries["scan(), python"]["median_s"] / summaries["scan(), php"]["median_s"],
                         summaries["extract, jobs=1, python"]["cpu_median_s"] / summaries["extract, jobs=1, php"]["cpu_median_s"],
                         summaries["scan(), python"]["cpu_median_s"] / summaries["scan(), php"]["cpu_median_s"]))
    _timing.note("tokenizer=auto uses php from %d files (php_extract.MIN_FILES) when php is on the PATH, else python"
                 % php_extract.MIN_FILES)
    path = _timing.save("php_extract", result)
    print(json.dumps(result, indent=2, sort_keys=True))
    print("saved %s" % path)


if __name__ == "__main__":
    main()
