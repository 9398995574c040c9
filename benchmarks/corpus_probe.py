"""Runs inside the corpus root for bench_corpus.py (``chroot ROOT python3
/opt/lastgood/bench/corpus_probe.py``): reads one job as JSON on standard
input, runs php_refs's scan() or web_refs's validate() from the collection
copied to /opt/lastgood, the stock tools, the mutants, and prints the
outcome as JSON. Standard library only; every file it breaks it puts back
(a journal in /var/tmp lets the next run put back what a killed run left)."""

import base64
import inspect
import json
import os
import re
import shutil
import subprocess
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import corpus_mutate  # noqa: E402
from ansible_collections.lastgood.webstack.plugins.module_utils._php import resolve  # noqa: E402
from ansible_collections.lastgood.webstack.plugins.module_utils._webconf import validate as web_validate  # noqa: E402
from ansible_collections.lastgood.webstack.plugins.module_utils._webconf.errors import ConfigError  # noqa: E402

JOURNAL = "/var/tmp/corpus-mutant.journal"
ENV = {"LC_ALL": "C", "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
# What the scan takes from the web config when it knows how (the lead's
# web_entrypoints, web_roots and web_hidden), and where web_refs keeps each.
WEB_OPTIONS = (("web_entrypoints", "php_entrypoints"), ("web_roots", "php_roots"),
               ("web_hidden", "php_hidden"))


# The journal ------------------------------------------------------------------

def restore_journal():
    """Put back the file a killed run left broken; returns its path or None."""
    if not os.path.exists(JOURNAL):
        return None
    with open(JOURNAL) as handle:
        entry = json.load(handle)
    _write(entry["path"], base64.b64decode(entry["original"]))
    os.unlink(JOURNAL)
    return entry["path"]


def _write(path, data):
    mode = os.stat(path).st_mode & 0o7777
    temporary = path + ".corpus-tmp"
    with open(temporary, "wb") as handle:
        handle.write(data)
    os.chmod(temporary, mode)
    os.replace(temporary, path)


class Broken:
    """A file with one edit, put back on exit."""

    def __init__(self, path, start, end, new):
        self.path, self.start, self.end, self.new = path, start, end, new

    def __enter__(self):
        with open(self.path, "rb") as handle:
            self.original = handle.read()
        text = self.original.decode("utf-8", "surrogateescape")
        broken = corpus_mutate.apply_edit(text, self.start, self.end, self.new)
        with open(JOURNAL, "w") as handle:
            json.dump({"path": self.path, "original": base64.b64encode(self.original).decode()}, handle)
        _write(self.path, broken.encode("utf-8", "surrogateescape"))
        return self

    def __exit__(self, *exc):
        _write(self.path, self.original)
        os.unlink(JOURNAL)
        return False


# Our tools --------------------------------------------------------------------

def scan_options(paths, web):
    """The scan() call for ``paths`` and what the web configs said: plain
    ``paths`` plus the PHP entry points and roots, and the web_* options
    when this scan() takes them."""
    accepted = inspect.signature(resolve.scan).parameters
    options = {}
    extra = []
    for option, key in WEB_OPTIONS:
        values = web.get(key) or []
        if option in accepted:
            options[option] = values
        elif key != "php_hidden":
            extra.extend(values)
    merged = []
    for path in list(paths) + extra:
        if path not in merged:
            merged.append(path)
    return merged, options


def _where(error):
    """The innermost frames of the collection's code an exception came through."""
    frames = [frame for frame in traceback.extract_tb(error.__traceback__) if "/ansible_collections/" in frame.filename]
    return ", ".join("%s:%d %s" % (frame.filename.rsplit("/", 1)[-1], frame.lineno, frame.name)
                     for frame in frames[-3:])


class Crashed:
    """What a scan that raised leaves: one error finding naming the exception."""

    def __init__(self, paths, error):
        self.findings = [{"severity": "error", "file": paths[0] if paths else None, "line": None,
                          "directive": "crash", "path": None, "message": "scan() raised %s" % error}]
        self.files_scanned = self.includes_total = self.includes_resolved = self.unresolved = 0
        self.problems = []


def run_scan(paths, options, include_path):
    start = time.perf_counter()
    try:
        result = resolve.scan(paths, include_path=include_path, **options)
    except Exception as error:  # pylint: disable=broad-except
        result = Crashed(paths, "%s: %s (%s)" % (type(error).__name__, error, _where(error)))
    seconds = time.perf_counter() - start
    return result, seconds


def php_summary(result, seconds):
    return {"findings": _trimmed(result.findings),
            "info": sum(1 for finding in result.findings if finding.get("severity") == "info"),
            "files_scanned": result.files_scanned,
            "includes_total": result.includes_total, "includes_resolved": result.includes_resolved,
            "unresolved": result.unresolved, "problems": result.problems, "seconds": seconds}


def apache_version():
    done = subprocess.run(["apache2", "-v"], capture_output=True, text=True, env=ENV, check=False)
    match = re.search(r"Apache/(\d+)\.(\d+)\.(\d+)", done.stdout)
    return tuple(int(part) for part in match.groups()) if match else None


def run_web(server, config, check_sockets=True):
    options = {"apache_version": apache_version()} if server == "apache" else {}
    start = time.perf_counter()
    try:
        result = web_validate.validate(server, config=config, check_sockets=check_sockets, **options)
    except ConfigError as error:
        return {"config_error": {"file": error.file, "line": error.line, "message": str(error)},
                "findings": [{"severity": "error", "file": error.file, "line": error.line,
                              "directive": "parse", "path": None, "message": str(error)}],
                "seconds": time.perf_counter() - start}
    except Exception as error:  # pylint: disable=broad-except
        return {"findings": [{"severity": "error", "file": config, "line": None, "directive": "crash", "path": None,
                              "message": "validate() raised %s: %s (%s)" % (
                                  type(error).__name__, error, _where(error))}],
                "seconds": time.perf_counter() - start}
    report = result.report
    output = {"findings": _trimmed(report.findings), "references": len(report.references),
              "files_parsed": result.files_parsed, "seconds": time.perf_counter() - start}
    for key in [key for dummy, key in WEB_OPTIONS] + ["php_include_path"]:
        value = getattr(report, key, None)
        if value is not None:
            output[key] = list(value)
    return output


# Stock tools -----------------------------------------------------------------

def stock(argv):
    done = subprocess.run(argv, capture_output=True, text=True, env=ENV, check=False)
    lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    return {"argv": argv, "rc": done.returncode, "output": lines[-3:]}


def stock_web(server, config):
    if server == "nginx":
        return stock(["nginx", "-t", "-q", "-c", config])
    return stock(["apache2ctl", "-t", "-f", config])


# Jobs ------------------------------------------------------------------------

def job_web(job):
    output = run_web(job["server"], job["config"], job.get("check_sockets", True))
    output["stock"] = stock_web(job["server"], job["config"])
    return output


def _php_sources(trees):
    sources = {}
    for tree in trees:
        for directory, dirs, files in os.walk(tree, followlinks=True):
            dirs.sort()
            for name in sorted(files):
                if name.endswith(".php"):
                    path = os.path.join(directory, name)
                    try:
                        with open(path, "rb") as handle:
                            sources[path] = handle.read().decode("utf-8", "surrogateescape")
                    except OSError:
                        continue
    return sources


def _read(path):
    try:
        with open(path, "rb") as handle:
            return handle.read().decode("utf-8", "surrogateescape")
    except OSError:
        return None


def _trimmed(findings):
    """Errors and warnings as they are; info findings only counted (a tree
    has thousands)."""
    return [finding for finding in findings if finding.get("severity") != "info"]


def job_php(job):
    """The pristine scan of one application, and its mutants."""
    paths, options = scan_options(job["paths"], job.get("web", {}))
    include_path = job["include_path"]
    result, seconds = run_scan(paths, options, include_path)
    output = {"pristine": php_summary(result, seconds), "paths": paths,
              "options": sorted(options), "mutants": []}
    pristine = result.findings
    if not job.get("mutants"):
        return output
    sources = _php_sources(job["trees"])
    entrypoints = list(job.get("web", {}).get("php_entrypoints") or []) or job.get("entrypoints", [])
    stats = {}
    chosen = corpus_mutate.php_mutants(sources, entrypoints, job["mutants"], job["seed"], job["key"],
                                       read=_read, stats=stats)
    output["candidates"] = stats
    for site, replacement, reached in chosen:
        with Broken(site.file, site.literal_start, site.literal_end, replacement):
            mutant, mutant_seconds = run_scan(paths, options, include_path)
            lint = stock(["php", "-n", "-l", site.file])
        lines = sorted({site.line, site.literal_line})
        caught, finding, at_site = corpus_mutate.judge(pristine, mutant.findings, site.file, lines)
        pristine_error = any(f["file"] == site.file and f["line"] in lines and f["severity"] == "error"
                             for f in pristine)
        output["mutants"].append({
            "file": site.file, "line": site.line, "keyword": site.keyword, "expression": site.expression,
            "literal": site.literal, "replacement": replacement, "reached": reached,
            "caught": caught, "finding": finding, "at_site": at_site,
            "miss": None if caught else corpus_mutate.miss_reason(
                at_site, pristine_error, _scanned(mutant, site.file, paths)),
            "seconds": mutant_seconds, "stock": lint, "stock_caught": lint["rc"] != 0,
        })
    return output


def _scanned(result, path, paths):
    """Whether a scan read ``path``: one of its files, or under its paths."""
    if any(path == tree or path.startswith(tree.rstrip("/") + "/") for tree in paths):
        return True
    real = os.path.realpath(path)
    return any(path in pair or real in pair for pair in getattr(result, "files", ()))


def job_web_mutants(job):
    server, config, target = job["server"], job["config"], job["file"]
    pristine = run_web(server, config, job.get("check_sockets", True))
    with open(target, encoding="utf-8", errors="surrogateescape") as handle:
        text = handle.read()
    active = corpus_mutate.apache_active(job.get("modules", ()), apache_version() or (2, 4)) \
        if server == "apache" else None
    chosen = corpus_mutate.config_mutants(text, target, server, job["mutants"], job["seed"], job["key"], active)
    results = []
    for site in chosen:
        with Broken(target, site.start, site.end, site.new):
            mutant = run_web(server, config, job.get("check_sockets", True))
            tool = stock_web(server, config)
        lines = list(range(site.line, max(site.line, _line_of(text, site.start)) + 1))
        caught, finding, at_site = corpus_mutate.judge(pristine["findings"], mutant["findings"], target, lines)
        pristine_error = any(f["file"] == target and f["line"] in lines and f["severity"] == "error"
                             for f in pristine["findings"])
        results.append({"file": target, "line": site.line, "directive": site.directive, "kind": site.kind,
                        "old": site.old, "new": site.new, "caught": caught, "finding": finding,
                        "at_site": at_site, "miss": None if caught else corpus_mutate.miss_reason(
                            at_site, pristine_error),
                        "stock": tool, "stock_caught": tool["rc"] != 0})
    return {"mutants": results}


def _line_of(text, offset):
    return text.count("\n", 0, offset) + 1


def job_growth(job):
    """scan() of 1, 2, 4 ... hard-linked copies of a tree: best time of
    ``runs`` and files, per number of copies."""
    tree, work = job["tree"], job["work"]
    shutil.rmtree(work, ignore_errors=True)
    copies = max(job["copies"])
    for number in range(copies):
        shutil.copytree(tree, os.path.join(work, "copy%02d" % number), symlinks=True, copy_function=os.link)
    rows = []
    try:
        for count in job["copies"]:
            paths = [os.path.join(work, "copy%02d" % number) for number in range(count)]
            best = None
            files = 0
            for dummy in range(job["runs"]):
                result, seconds = run_scan(paths, {}, job["include_path"])
                files = result.files_scanned
                best = seconds if best is None else min(best, seconds)
            rows.append({"copies": count, "files": files, "best_s": best})
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {"growth": rows}


def job_module(job):
    """The php_refs module as Ansible runs it (python3 -m, its arguments in a
    file), ``runs`` times; the wall time of each and what it returned."""
    args = os.path.join("/var/tmp", "corpus-module-args.json")
    with open(args, "w") as handle:
        json.dump({"ANSIBLE_MODULE_ARGS": job["args"]}, handle)
    argv = [sys.executable, "-m", "ansible_collections.lastgood.webstack.plugins.modules.php_refs", args]
    times = []
    output = {}
    for dummy in range(job["runs"]):
        start = time.perf_counter()
        done = subprocess.run(argv, cwd=job["pythonpath"], capture_output=True, text=True, check=False,
                              env=dict(ENV, PYTHONPATH=job["pythonpath"]))
        times.append(time.perf_counter() - start)
        try:
            output = json.loads(done.stdout)
        except ValueError:
            output = {"failed": True, "msg": (done.stdout + done.stderr)[-2000:]}
        if output.get("failed") and "Unsupported parameters" in (output.get("msg") or ""):
            break
    os.unlink(args)
    return {"times": times, "result": {key: output.get(key) for key in (
        "failed", "msg", "files_scanned", "includes_total", "unresolved", "duration_ms")},
        "errors": len([f for f in output.get("findings") or [] if f.get("severity") == "error"])}


JOBS = {"web": job_web, "php": job_php, "web_mutants": job_web_mutants, "growth": job_growth,
        "module": job_module}


def main():
    restored = restore_journal()
    job = json.loads(sys.stdin.read())
    output = JOBS[job["job"]](job)
    if restored:
        output["restored"] = restored
    json.dump(output, sys.stdout)


if __name__ == "__main__":
    main()
