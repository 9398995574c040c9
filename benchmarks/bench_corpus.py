"""The corpus benchmark (issue 18): php_refs and web_refs on real PHP
applications and libraries as Debian installs them, and on public nginx and
Apache configs of well-known projects, none of which the tools were written
against.

The corpus root (.cache/corpus/root) is a Debian bookworm root with the
applications of benchmarks/corpus/MANIFEST.json installed by apt, so that
every absolute symlink and /usr/share/php library is where the code expects
it; benchmarks/corpus/build.sh makes it once (hack/bench.sh runs it first).
Everything runs inside it (chroot): the collection's plugins and
corpus_probe.py are copied to /opt/lastgood at each run.

1. Pristine: web_refs on each config (wrapped in a minimal nginx.conf or
   apache2.conf) and php_refs on each application with what the configs
   serving it imply (its tree, the PHP entry points and roots web_refs
   reports, or scan()'s web_* options when it has them). Every error is a
   false error unless benchmarks/corpus/known_missing.json says why the file
   is really missing.
2. Mutants: per application, require/require_once statements with a
   literal file name, in files reached from the entry points, the file name
   broken (``'/load.php'`` -> ``'/loadx.php'``); per config, its path
   directives (root, alias, include, socket, try_files, index, SCRIPT_FILENAME,
   DocumentRoot, Alias...). A mutant is caught when the tool reports a new
   error at its file and line; `php -l`, `nginx -t` and `apachectl -t` run
   on each too.
3. Speed: the php_refs module on WordPress and MediaWiki with their web
   config, and scan() on 1, 2, 4, 8 and 16 hard-linked copies of each.

    python benchmarks/bench_corpus.py [--quick] [--mutants N] [--seed S] [--only NAME]
"""

import argparse
import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import _timing  # noqa: E402
import corpus_mutate  # noqa: E402

CORPUS = os.path.join(HERE, "corpus")
MANIFEST = os.path.join(CORPUS, "MANIFEST.json")
KNOWN_MISSING = os.path.join(CORPUS, "known_missing.json")
CACHE = os.path.join(ROOT, ".cache", "corpus")
CHROOT = os.environ.get("LASTGOOD_CORPUS_ROOT") or os.path.join(CACHE, "root")
UPSTREAM = os.path.join(CACHE, "upstream")
MIRRORS = os.environ.get("LASTGOOD_MIRRORS", "/work/.mirror")
BUILD = "benchmarks/corpus/build.sh"
# Inside the root.
OPT = "/opt/lastgood"
COLLECTION = OPT + "/ansible_collections/lastgood/webstack"
CONFIGS = "/etc/corpus"
FPM_SOCKET = "/run/php/php8.2-fpm.sock"
INCLUDE_PATH = [".", "/usr/share/php"]
SPEED_APPS = (("wordpress", 1.0), ("mediawiki", 5.0))
GROWTH = (1, 2, 4, 8, 16)
SHOWN = 5


def inside(path):
    """Where a path of the root is on the host."""
    return os.path.join(CHROOT, path.lstrip("/"))


def load_manifest():
    with open(MANIFEST) as handle:
        return json.load(handle)


def load_known_missing():
    with open(KNOWN_MISSING) as handle:
        entries = json.load(handle)
    return {(entry["tool"], entry["file"], entry["line"], entry["path"]): entry for entry in entries}


def require_root():
    stamp = os.path.join(CHROOT, ".built")
    if not os.path.isfile(stamp):
        raise SystemExit("the corpus root %s is absent: run `%s` first (as root; it debootstraps Debian bookworm and "
                         "installs the applications with apt, about 15 minutes, once)" % (CHROOT, BUILD))
    if os.geteuid() != 0:
        raise SystemExit("bench_corpus.py runs its checks inside the corpus root with chroot: run it as root")


# Preparing the root -------------------------------------------------------------

def copy_tree(source, target):
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


def prepare_root(worktree=False):
    """The collection's plugins (as committed at HEAD, or as they are in the
    work tree), Ansible's module_utils (what AnsiballZ ships with a module),
    the probe and a PHP-FPM socket, in the root."""
    target = inside(COLLECTION + "/plugins")
    if worktree:
        copy_tree(os.path.join(ROOT, "plugins"), target)
    else:
        shutil.rmtree(target, ignore_errors=True)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        archive = subprocess.run(["git", "archive", "HEAD", "plugins"], cwd=ROOT, capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", os.path.dirname(target)], input=archive.stdout, check=True)
    try:
        import ansible  # pylint: disable=import-outside-toplevel
    except ImportError:
        raise SystemExit("ansible-core is not importable: run through hack/bench.sh, or after `. hack/env.sh`") from None
    os.makedirs(inside(OPT + "/ansible"), exist_ok=True)
    with open(inside(OPT + "/ansible/__init__.py"), "w"):
        pass
    copy_tree(os.path.join(os.path.dirname(ansible.__file__), "module_utils"), inside(OPT + "/ansible/module_utils"))
    os.makedirs(inside(OPT + "/bench"), exist_ok=True)
    for name in ("corpus_probe.py", "corpus_mutate.py"):
        shutil.copy(os.path.join(HERE, name), inside(OPT + "/bench/" + name))
    for directory in ("/run/php", "/run/apache2", "/run/lock/apache2", "/var/log/nginx", "/var/log/apache2"):
        os.makedirs(inside(directory), exist_ok=True)
    bind_socket(inside(FPM_SOCKET))


def bind_socket(path):
    """A unix socket file, as a running PHP-FPM leaves one."""
    if os.path.exists(path):
        os.unlink(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(path)
    finally:
        sock.close()


def plugins_state(worktree=False):
    """The commit the plugins are at, and whether those run differ from it."""
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                          check=False).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--", "plugins"], cwd=ROOT, capture_output=True,
                           text=True, check=False).stdout.strip()
    return {"commit": head, "plugins_dirty": bool(dirty) and worktree}


# Configs ---------------------------------------------------------------------------

def extract_block(text, number):
    """The ``number``th (from 0) ``.. code-block:: nginx`` of an .rst file, dedented."""
    blocks = []
    lines = text.split("\n")
    index = 0
    while index < len(lines):
        if lines[index].strip() == ".. code-block:: nginx":
            index += 1
            body = []
            while index < len(lines) and (not lines[index].strip() or lines[index].startswith((" ", "\t"))):
                body.append(lines[index])
                index += 1
            while body and not body[-1].strip():
                body.pop()
            while body and not body[0].strip():
                body.pop(0)
            indent = min(len(line) - len(line.lstrip()) for line in body if line.strip())
            blocks.append("\n".join(line[indent:] for line in body) + "\n")
        else:
            index += 1
    return blocks[number]


def upstream_text(origin):
    """A public repository's file at a commit: from .cache/corpus/upstream, or
    from a git mirror of the repository (then kept in the cache)."""
    owner_name = origin["repo"].replace("/", "+")
    cached = os.path.join(UPSTREAM, owner_name, origin["commit"], origin["path"])
    if not os.path.isfile(cached):
        mirror = os.path.join(MIRRORS, owner_name, "repo")
        done = subprocess.run(["git", "--git-dir", mirror, "show", "%s:%s" % (origin["commit"], origin["path"])],
                              capture_output=True, check=False) if os.path.isdir(mirror) else None
        if done is None or done.returncode != 0:
            return None
        os.makedirs(os.path.dirname(cached), exist_ok=True)
        with open(cached, "wb") as handle:
            handle.write(done.stdout)
    with open(cached, encoding="utf-8") as handle:
        return handle.read()


def config_text(config):
    """The config as its origin has it, or None with why it is absent."""
    origin = config["origin"]
    if origin["kind"] == "debian":
        path = inside(origin["path"])
        if not os.path.isfile(path):
            return None, "%s is not in the root (package %s)" % (origin["path"], origin["package"])
        with open(path, encoding="utf-8") as handle:
            return handle.read(), None
    text = upstream_text(origin)
    if text is None:
        return None, ("%s@%s:%s is not in %s nor in a mirror under %s; save that file there"
                      % (origin["repo"], origin["commit"][:12], origin["path"], UPSTREAM, MIRRORS))
    if "block" in origin:
        text = extract_block(text, origin["block"])
    return text, None


def apply_edits(text, edits, where):
    for edit in edits:
        count = text.count(edit["old"])
        if count != 1:
            raise SystemExit("%s: the edit %r matches %d times, not once" % (where, edit["old"], count))
        text = text.replace(edit["old"], edit["new"])
    return text


NGINX_WRAPPER = """# The corpus benchmark's wrapper around {name} (bench_corpus.py).
pid /run/nginx-corpus.pid;
error_log /var/log/nginx/corpus-error.log;
events {{
}}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log /var/log/nginx/corpus-access.log;
    include {config};
}}
"""

# Debian's default modules, and those a PHP-FPM site enables (a2enmod proxy_fcgi
# setenvif, rewrite, headers, expires).
APACHE_MODULES = ("mpm_event", "access_compat", "alias", "auth_basic", "authn_core", "authn_file", "authz_core",
                  "authz_host", "authz_user", "autoindex", "deflate", "dir", "env", "filter", "mime", "negotiation",
                  "reqtimeout", "setenvif", "status", "proxy", "proxy_fcgi", "rewrite", "headers", "expires")
APACHE_WRAPPER = """# The corpus benchmark's wrapper around {name} (bench_corpus.py).
ServerRoot "/etc/apache2"
DefaultRuntimeDir /run/apache2
PidFile /run/apache2/corpus.pid
Mutex file:/run/lock/apache2 default
User www-data
Group www-data
ServerName corpus.test
ErrorLog /var/log/apache2/corpus-error.log
{modules}
Listen 80
Include /etc/apache2/conf-available/php8.2-fpm.conf
Include {config}
"""


def materialize(config):
    """Write the config (edited as the manifest says) and its wrapper into
    the root; returns (wrapper, config) as paths inside the root, or None
    and why."""
    text, absent = config_text(config)
    if text is None:
        return None, absent
    digest = hashlib.sha256(text.encode()).hexdigest()
    if config.get("sha256") and config["sha256"] != digest:
        sys.stderr.write("warning: %s: the origin's text changed (sha256 %s, manifest %s)\n" % (
            config["id"], digest[:16], config["sha256"][:16]))
    text = apply_edits(text, config.get("edits", []), config["id"])
    directory = CONFIGS + "/" + config["id"]
    shutil.rmtree(inside(directory), ignore_errors=True)
    os.makedirs(inside(directory))
    path = directory + "/" + config.get("name", "site.conf")
    with open(inside(path), "w") as handle:
        handle.write(text)
    if config["server"] == "nginx":
        # In /etc/nginx as Debian's nginx.conf: nginx takes relative includes
        # (include fastcgi_params) from the folder of the file -c names.
        wrapper = "/etc/nginx/corpus-%s.conf" % config["id"]
        body = NGINX_WRAPPER.format(name=config["id"], config=path)
        if config.get("context") == "server":
            body = body.replace("    include %s;" % path, "    server {\n        listen 80;\n        include %s;\n    }" % path)
    else:
        wrapper = directory + "/apache2.conf"
        names = [name for module in APACHE_MODULES for name in (module + ".load", module + ".conf")
                 if os.path.isfile(inside("/etc/apache2/mods-available/" + name))]
        modules = "\n".join("Include /etc/apache2/mods-available/%s" % name for name in names)
        body = APACHE_WRAPPER.format(name=config["id"], config=path, modules=modules)
    with open(inside(wrapper), "w") as handle:
        handle.write(body)
    return (wrapper, path, digest), None


# Running jobs in the root -----------------------------------------------------------

def probe(job):
    """Run one job of corpus_probe.py inside the root; its JSON answer."""
    argv = ["chroot", CHROOT, "/usr/bin/env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C.UTF-8",
            "PYTHONPATH=" + OPT, "PYTHONDONTWRITEBYTECODE=1", "python3", OPT + "/bench/corpus_probe.py"]
    done = subprocess.run(argv, input=json.dumps(job), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit("corpus probe %s failed (exit %d):\n%s" % (job["job"], done.returncode, done.stderr[-3000:]))
    answer = json.loads(done.stdout)
    if answer.get("restored"):
        print("put back %s, left broken by a run that was stopped" % answer["restored"])
    return answer


# Judging the pristine runs ------------------------------------------------------

def false_errors(tool, findings, known):
    """The error findings not justified in known_missing.json, and those that are."""
    false, justified = [], []
    for finding in findings:
        if finding.get("severity") != "error":
            continue
        key = (tool, finding.get("file"), finding.get("line"), finding.get("path"))
        (justified if key in known else false).append(finding)
    return false, justified


def construct(finding):
    """What kind of statement or directive an error came from, and its message's shape."""
    return "%s: %s" % (finding.get("directive") or "?", corpus_mutate.message_shape(finding.get("message")))


def more(items):
    return " (+%d more)" % (len(items) - SHOWN) if len(items) > SHOWN else ""


def short(finding):
    return "%s:%s: %s" % (finding.get("file"), finding.get("line"), finding.get("message"))


# The benchmark --------------------------------------------------------------------

def run_configs(manifest, only):
    results = {}
    for config in manifest["configs"]:
        if only and only not in (config["id"], config["serves"]):
            continue
        paths, absent = materialize(config)
        if paths is None:
            print("config %s skipped: %s" % (config["id"], absent))
            results[config["id"]] = {"absent": absent}
            continue
        wrapper, path, digest = paths
        answer = probe({"job": "web", "server": config["server"], "config": wrapper})
        answer.update(wrapper=wrapper, file=path, sha256=digest)
        results[config["id"]] = answer
        print("config %-28s web_refs: %3d errors, %3d warnings; %s -t: exit %d" % (
            config["id"], sum(1 for f in answer["findings"] if f["severity"] == "error"),
            sum(1 for f in answer["findings"] if f["severity"] == "warning"), config["server"],
            answer["stock"]["rc"]), flush=True)
    return results


def web_for_app(app, manifest, configs):
    """What the configs that serve ``app`` say about its PHP: entry points,
    roots and hidden paths, the union over them."""
    web = {}
    for config in manifest["configs"]:
        answer = configs.get(config["id"]) or {}
        if config["serves"] != app["name"] or "findings" not in answer:
            continue
        for key in ("php_entrypoints", "php_roots", "php_hidden", "php_include_path"):
            for path in answer.get(key) or []:
                web.setdefault(key, [])
                if path not in web[key]:
                    web[key].append(path)
    return web


def include_path_for(web):
    """The include_path the web config sets when it sets one (as the deploy
    role passes it), else Debian's default."""
    values = web.get("php_include_path") or []
    return values[0].split(":") if len(values) == 1 else INCLUDE_PATH


def run_apps(manifest, configs, mutants, seed, only):
    results = {}
    for app in manifest["apps"]:
        if only and only != app["name"]:
            continue
        web = web_for_app(app, manifest, configs)
        start = time.perf_counter()
        answer = probe({"job": "php", "paths": [app["tree"]], "trees": [app["tree"]], "web": web,
                        "entrypoints": app.get("entrypoints", []), "include_path": include_path_for(web),
                        "mutants": mutants, "seed": seed, "key": app["name"]})
        answer["web"] = web
        answer["wall_s"] = time.perf_counter() - start
        results[app["name"]] = answer
        pristine = answer["pristine"]
        caught = sum(1 for mutant in answer["mutants"] if mutant["caught"])
        print("app %-14s %5d files, %4d errors; mutants caught %d/%d, php -l %d/%d (%.0f s)" % (
            app["name"], pristine["files_scanned"],
            sum(1 for f in pristine["findings"] if f["severity"] == "error"), caught, len(answer["mutants"]),
            sum(1 for mutant in answer["mutants"] if mutant["stock_caught"]), len(answer["mutants"]),
            answer["wall_s"]), flush=True)
    return results


def run_config_mutants(manifest, configs, mutants, seed, only):
    results = {}
    for config in manifest["configs"]:
        answer = configs.get(config["id"]) or {}
        if "wrapper" not in answer:
            continue
        if only and only not in (config["id"], config["serves"]):
            continue
        result = probe({"job": "web_mutants", "server": config["server"], "config": answer["wrapper"],
                        "file": answer["file"], "mutants": mutants, "seed": seed, "key": config["id"],
                        "modules": list(APACHE_MODULES)})
        results[config["id"]] = result["mutants"]
        print("config %-28s mutants caught %d/%d, %s -t %d/%d" % (
            config["id"], sum(1 for m in result["mutants"] if m["caught"]), len(result["mutants"]),
            config["server"], sum(1 for m in result["mutants"] if m["stock_caught"]), len(result["mutants"])),
            flush=True)
    return results


def module_args(app, web, with_web_options):
    args = {"paths": [app["tree"]], "include_path": INCLUDE_PATH}
    if with_web_options:
        for option, key in (("web_entrypoints", "php_entrypoints"), ("web_roots", "php_roots"),
                            ("web_hidden", "php_hidden")):
            if web.get(key):
                args[option] = web[key]
    else:
        for key in ("php_entrypoints", "php_roots"):
            args["paths"] += [path for path in web.get(key) or [] if path not in args["paths"]]
    return args


def run_speed(manifest, apps, runs, growth):
    by_name = {app["name"]: app for app in manifest["apps"]}
    results = {}
    for name, goal in SPEED_APPS:
        if name not in apps:
            continue
        app, web = by_name[name], apps[name]["web"]
        answer = probe({"job": "module", "args": module_args(app, web, True), "runs": runs, "pythonpath": OPT})
        if answer["result"].get("failed") and "Unsupported parameters" in (answer["result"].get("msg") or ""):
            answer = probe({"job": "module", "args": module_args(app, web, False), "runs": runs, "pythonpath": OPT})
            answer["web_options"] = False
        else:
            answer["web_options"] = True
        answer["goal_s"] = goal
        answer["ansible"] = ansible_adhoc(module_args(app, web, answer["web_options"]), max(1, runs // 2))
        answer["growth"] = probe({"job": "growth", "tree": app["tree"], "work": "/var/tmp/corpus-growth",
                                  "copies": list(growth), "runs": 3 if runs >= 5 else 1,
                                  "include_path": INCLUDE_PATH})["growth"]
        results[name] = answer
        print("speed %-10s module median %.2f s (goal %.0f s), %s" % (
            name, _median(answer["times"]), goal, ", ".join(
                "%dx: %.1f us/file" % (row["copies"], row["best_s"] / max(1, row["files"]) * 1e6)
                for row in answer["growth"])), flush=True)
    return results


def ansible_adhoc(args, runs):
    """The module through Ansible itself: an ad-hoc run against the root with
    the community.general.chroot connection (AnsiballZ, the root's python3).
    Wall times, start-up included, and what the module reported."""
    argv = [os.path.join(os.path.dirname(sys.executable), "ansible"), "all", "-i", CHROOT + ",",
            "-c", "community.general.chroot", "-e", "ansible_python_interpreter=/usr/bin/python3",
            "-m", "lastgood.webstack.php_refs", "-a", json.dumps(args)]
    times, scanned, module_ms, rc = [], None, [], None
    for dummy in range(runs):
        seconds, done = _timing.run_command(argv, cwd=ROOT, check=False, env={"LC_ALL": "C.UTF-8"})
        rc = done.returncode
        if rc not in (0, 2):  # 2: the module failed on error findings, as it should
            return {"failed": "exit %d: %s" % (rc, (done.stdout + done.stderr)[-500:])}
        times.append(seconds)
        match = re.search(r'"files_scanned": (\d+)', done.stdout)
        scanned = int(match.group(1)) if match else None
        match = re.search(r'"duration_ms": ([\d.]+)', done.stdout)
        if match:
            module_ms.append(float(match.group(1)))
    return {"times": times, "files_scanned": scanned, "duration_ms": module_ms, "rc": rc}


def _median(values):
    return _timing.summary(values)["median_s"] if values else float("nan")


# The report ----------------------------------------------------------------------

def report(manifest, configs, apps, config_mutants, speed, known, args, build):
    summary = {}
    rows = []
    for app in manifest["apps"]:
        answer = apps.get(app["name"])
        if not answer:
            continue
        pristine = answer["pristine"]
        false, justified = false_errors("php_refs", pristine["findings"], known)
        summary[app["name"]] = {"false_errors": len(false), "justified": len(justified)}
        rows.append([app["name"], app["package"], app["tree"], pristine["files_scanned"], pristine["includes_total"],
                     pristine["unresolved"], len(false), len(justified),
                     "; ".join(short(f) for f in false[:SHOWN]) + more(false)])
    print()
    print(_timing.markdown_table(rows, ("app", "package", "tree", "PHP files", "include/require", "unresolved",
                                        "false errors", "really missing", "first false errors"),
                                 title="php_refs on the pristine applications (paths: the tree and what the web "
                                       "configs serving it say)"))
    config_rows = []
    for config in manifest["configs"]:
        answer = configs.get(config["id"])
        if not answer:
            continue
        if "absent" in answer:
            config_rows.append([config["id"], config["server"], config["serves"], "absent: " + answer["absent"],
                                "", "", ""])
            continue
        false, justified = false_errors("web_refs", answer["findings"], known)
        summary[config["id"]] = {"false_errors": len(false), "justified": len(justified)}
        stock = "passes" if answer["stock"]["rc"] == 0 else "fails: %s" % " ".join(answer["stock"]["output"][-1:])
        config_rows.append([config["id"], config["server"], config["serves"], len(false), len(justified), stock,
                            "; ".join(short(f) for f in false[:SHOWN])])
    print()
    print(_timing.markdown_table(config_rows, ("config", "server", "serves", "false errors", "really missing",
                                               "stock -t", "first false errors"),
                                 title="web_refs on the pristine configs"))
    groups = {}
    for tool, answers in (("php_refs", {name: a["pristine"]["findings"] for name, a in apps.items()}),
                          ("web_refs", {name: a["findings"] for name, a in configs.items() if "findings" in a})):
        for name, findings in answers.items():
            for finding in false_errors(tool, findings, known)[0]:
                group = groups.setdefault((tool, construct(finding)), {"count": 0, "where": {}, "example": finding})
                group["count"] += 1
                group["where"][name] = group["where"].get(name, 0) + 1
    group_rows = [[tool, shape, group["count"], ", ".join("%s (%d)" % item for item in sorted(group["where"].items())),
                   short(group["example"])]
                  for (tool, shape), group in sorted(groups.items(), key=lambda item: -item[1]["count"])]
    if group_rows:
        print()
        print(_timing.markdown_table(group_rows, ("tool", "construct (directive: message shape)", "false errors",
                                                  "where", "example"),
                                     title="false errors grouped by the construct behind them"))

    mutant_rows = []
    totals = {"php": [0, 0, 0], "web": [0, 0, 0]}
    few = []
    for app in manifest["apps"]:
        answer = apps.get(app["name"])
        if answer and len(answer["mutants"]) < args.mutants:
            stats = answer.get("candidates") or {}
            few.append("%s %d (%s)" % (app["name"], len(answer["mutants"]), "no entry point" if not answer["web"]
                                       and not app.get("entrypoints") else "%s files reached" % stats.get(
                                           "reached_files", "?")))
        if not answer or not answer["mutants"]:
            continue
        mutants = answer["mutants"]
        caught = sum(1 for m in mutants if m["caught"])
        stock = sum(1 for m in mutants if m["stock_caught"])
        totals["php"] = [totals["php"][0] + len(mutants), totals["php"][1] + caught, totals["php"][2] + stock]
        misses = ["%s:%s `%s %s`: %s" % (m["file"], m["line"], m["keyword"], m["expression"], m["miss"])
                  for m in mutants if not m["caught"]]
        reached = sum(1 for m in mutants if m["reached"]) if app.get("kind") != "library" else "any file (a library)"
        mutant_rows.append([app["name"], "require", len(mutants), caught, "php -l: %d" % stock, reached,
                            "; ".join(misses) or "–"])
    for config in manifest["configs"]:
        mutants = config_mutants.get(config["id"])
        if not mutants:
            continue
        caught = sum(1 for m in mutants if m["caught"])
        stock = sum(1 for m in mutants if m["stock_caught"])
        totals["web"] = [totals["web"][0] + len(mutants), totals["web"][1] + caught, totals["web"][2] + stock]
        misses = ["%s:%s %s %s -> %s: %s" % (os.path.basename(m["file"]), m["line"], m["directive"], m["old"],
                                             m["new"], m["miss"]) for m in mutants if not m["caught"]]
        kinds = sorted({m["kind"] for m in mutants})
        mutant_rows.append([config["id"], ", ".join(kinds), len(mutants), caught,
                            "%s -t: %d" % ("nginx" if config["server"] == "nginx" else "apachectl", stock), "",
                            "; ".join(misses) or "–"])
    print()
    print(_timing.markdown_table(mutant_rows, ("tree or config", "broken", "mutants", "caught by ours",
                                               "caught by the stock tool", "in files reached from an entry point",
                                               "missed, and what defeated it"),
                                 title="mutants (seed %d, up to %d per tree or config)" % (args.seed, args.mutants)))
    speed_rows = []
    for name, answer in speed.items():
        times = answer["times"]
        stats = _timing.summary(times)
        speed_rows.append([name, "python3 -m (the module alone)", answer["result"].get("files_scanned"),
                           _timing.ms(stats["median_s"]), _timing.ms(stats["min_s"]), _timing.ms(stats["max_s"]),
                           "%.0f s" % answer["goal_s"], "met" if stats["median_s"] < answer["goal_s"] else "NOT met",
                           "web_* options" if answer["web_options"] else "entry points as paths"])
        adhoc = answer.get("ansible") or {}
        if adhoc.get("times"):
            stats = _timing.summary(adhoc["times"])
            speed_rows.append([name, "ansible ad-hoc, chroot connection (start-up included; the module's own "
                               "duration_ms %s)" % _timing.ms(_median(adhoc["duration_ms"]) / 1000.0),
                               adhoc["files_scanned"], _timing.ms(stats["median_s"]), _timing.ms(stats["min_s"]),
                               _timing.ms(stats["max_s"]), "", "", ""])
        elif adhoc.get("failed"):
            speed_rows.append([name, "ansible ad-hoc: " + adhoc["failed"], "", "", "", "", "", "", ""])
    if speed_rows:
        print()
        print(_timing.markdown_table(speed_rows, ("app", "how", "files", "median", "min", "max", "goal", "",
                                                  "web config as"),
                                     title="the php_refs module as Ansible runs it, in the root, with the app's web "
                                           "config; %d runs (ad-hoc: %d)" % (
                                               len(next(iter(speed.values()))["times"]),
                                               len((next(iter(speed.values())).get("ansible") or {}).get("times")
                                                   or []))))
        growth_rows = []
        for name, answer in speed.items():
            for row in answer["growth"]:
                growth_rows.append([name, row["copies"], row["files"], _timing.ms(row["best_s"]),
                                    "%.1f us" % (row["best_s"] / max(1, row["files"]) * 1e6),
                                    "%.0f" % (row["files"] / row["best_s"])])
        print()
        print(_timing.markdown_table(growth_rows, ("app", "copies", "files", "best scan()", "per file", "files/s"),
                                     title="scan() against tree size (hard-linked copies, in the root)"))
    print()
    counted = list(summary.values())
    checked = [config for config in manifest["configs"] if "findings" in (configs.get(config["id"]) or {})]
    _timing.note("corpus: %d applications and libraries, %d configs (%s); root built %s" % (
        len(apps), len(checked), ", ".join("%s %d" % (server, sum(1 for c in checked if c["server"] == server))
                                           for server in ("nginx", "apache")), build.get("built", "?")))
    _timing.note("false errors on pristine trees: php_refs %d over %d applications, web_refs %d over %d configs "
                 "(justified as really missing: %d)" % (
                     sum(summary[a]["false_errors"] for a in apps if a in summary), len(apps),
                     sum(summary[c]["false_errors"] for c in configs if c in summary),
                     sum(1 for c in configs if c in summary), sum(entry["justified"] for entry in counted)))
    if few:
        _timing.note("fewer require mutants than %d where fewer require/require_once statements with a literal file "
                     "name are in the files reached from the entry points (the rest of the code is autoloaded): %s"
                     % (args.mutants, ", ".join(few)))
    for label, key, stock_name in (("require mutants", "php", "php -l"),
                                   ("config mutants", "web", "nginx -t / apachectl -t")):
        total, caught, stock = totals[key]
        if total:
            _timing.note("%s: ours caught %d of %d (%.0f%%), %s %d of %d" % (
                label, caught, total, 100.0 * caught / total, stock_name, stock, total))
    for name, answer in speed.items():
        growth = answer["growth"]
        rates = [row["files"] / row["best_s"] for row in growth]
        _timing.note("goal: %s with its web config in under %.0f s of module time: %s (median %.2f s); files/s "
                     "from 1 to %d copies: %.0f to %.0f (%+.0f%%)" % (
                         name, answer["goal_s"], "met" if _median(answer["times"]) < answer["goal_s"] else "NOT met",
                         _median(answer["times"]), growth[-1]["copies"], rates[0], rates[-1],
                         100.0 * (rates[-1] / rates[0] - 1)))
    return summary, totals


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--quick", action="store_true", help="3 mutants per tree or config, 3 module runs")
    parser.add_argument("--mutants", type=int, help="mutants per tree or config (default 8)")
    parser.add_argument("--seed", type=int, default=18, help="the seed that picks the mutants")
    parser.add_argument("--runs", type=int, help="module runs for the speed rows (default 5)")
    parser.add_argument("--worktree", action="store_true",
                        help="run the plugins as they are in the work tree (default: as committed at HEAD)")
    parser.add_argument("--only", help="only this application or config (no speed rows unless it is one)")
    args = parser.parse_args()
    args.mutants = args.mutants if args.mutants is not None else (3 if args.quick else 8)
    runs = args.runs or (3 if args.quick else 5)
    require_root()
    manifest = load_manifest()
    known = load_known_missing()
    with open(os.path.join(CHROOT, ".built")) as handle:
        built = handle.read().strip()
    build = {"built": time.strftime("%Y-%m-%d", time.gmtime(os.path.getmtime(os.path.join(CHROOT, ".built")))),
             "digest": built}
    start = time.perf_counter()
    prepare_root(args.worktree)
    state = plugins_state(args.worktree)
    print("== corpus: %s; plugins at %s%s ==" % (
        CHROOT, state["commit"], " with uncommitted changes" if state["plugins_dirty"] else ""))
    configs = run_configs(manifest, args.only)
    apps = run_apps(manifest, configs, args.mutants, args.seed, args.only)
    config_mutants = run_config_mutants(manifest, configs, args.mutants, args.seed, args.only)
    speed = run_speed(manifest, apps, runs, GROWTH)
    summary, totals = report(manifest, configs, apps, config_mutants, speed, known, args, build)
    seconds = time.perf_counter() - start
    _timing.note("the benchmark took %.0f s; plugins at %s%s" % (
        seconds, state["commit"], " with uncommitted changes" if state["plugins_dirty"] else ""))
    versions = _package_versions([app["package"] for app in manifest["apps"]])
    if args.only:
        print("not saved: a run with --only is not the whole corpus")
        return 0
    path = _timing.save("corpus", {
        "seed": args.seed, "mutants_per_tree": args.mutants, "plugins": state, "build": build,
        "packages": versions, "summary": summary, "totals": totals, "configs": configs, "apps": apps,
        "config_mutants": config_mutants, "speed": speed, "seconds": seconds})
    print("saved %s" % os.path.relpath(path, ROOT))
    return 0


def _package_versions(packages):
    versions = {}
    listing = os.path.join(CHROOT, ".packages")
    if os.path.isfile(listing):
        with open(listing) as handle:
            for line in handle:
                name, dummy, version = line.strip().partition(" ")
                if name in packages:
                    versions[name] = version
    return versions


if __name__ == "__main__":
    sys.exit(main())
