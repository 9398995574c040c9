"""web_refs (parse and check) against crossplane (parse only) on one
generated nginx tree: nginx.conf includes sites/*.conf, 200 files of 10
server blocks each (2,000 servers). Every path the tree refers to exists
(document roots with index.php, error pages, certificates, log directories,
PHP-FPM unix sockets bound with Python's socket module), so web_refs must
report no error and crossplane must report status ok; otherwise the run stops.

Rows, each run alternating with its counterpart (A B A B):
  in-process    validate() from module_utils/_webconf/validate.py vs crossplane.parse()
  subprocess    the web_refs module as Ansible runs it      vs the crossplane CLI
                (both include Python start-up and writing their JSON output)
  start-up only the same two commands on a one-line config: what the
                subprocess rows cost before any config is read

The ratio is crossplane's median / web_refs' median: above 1 means web_refs
is faster. Afterwards a copy of the tree with missing paths injected shows
what web_refs finds and crossplane cannot.

    python benchmarks/bench_web_refs.py [--quick] [--runs N] [--keep DIR]
"""

import argparse
import gc
import json
import os
import shutil
import socket
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
COLLECTIONS = os.path.join(ROOT, ".cache", "collections")
sys.path.insert(0, HERE)
sys.path.insert(0, COLLECTIONS)

import _timing  # noqa: E402

try:
    import crossplane  # noqa: E402
except ImportError:
    sys.exit("crossplane is not installed: run hack/setup.sh (requirements/test.txt pins it)")
from ansible_collections.lastgood.webstack.plugins.module_utils._webconf.validate import validate  # noqa: E402

FILES = 200
SERVERS_PER_FILE = 10
POOLS = 20  # PHP-FPM pools (unix sockets), shared by the sites

FASTCGI_PARAMS = [
    ("QUERY_STRING", "$query_string"),
    ("REQUEST_METHOD", "$request_method"),
    ("CONTENT_TYPE", "$content_type"),
    ("CONTENT_LENGTH", "$content_length"),
    ("SCRIPT_NAME", "$fastcgi_script_name"),
    ("REQUEST_URI", "$request_uri"),
    ("DOCUMENT_URI", "$document_uri"),
    ("DOCUMENT_ROOT", "$document_root"),
    ("SERVER_PROTOCOL", "$server_protocol"),
    ("REQUEST_SCHEME", "$scheme"),
    ("HTTPS", "$https if_not_empty"),
    ("GATEWAY_INTERFACE", "CGI/1.1"),
    ("REMOTE_ADDR", "$remote_addr"),
    ("REMOTE_PORT", "$remote_port"),
    ("SERVER_ADDR", "$server_addr"),
    ("SERVER_PORT", "$server_port"),
    ("SERVER_NAME", "$server_name"),
    ("REDIRECT_STATUS", "200"),
]

MIME_TYPES = [
    ("text/html", "html htm shtml"), ("text/css", "css"), ("text/plain", "txt"),
    ("application/javascript", "js"), ("application/json", "json"), ("image/png", "png"),
    ("image/jpeg", "jpeg jpg"), ("image/gif", "gif"), ("image/svg+xml", "svg svgz"),
    ("image/x-icon", "ico"), ("image/webp", "webp"), ("font/woff2", "woff2"),
    ("application/pdf", "pdf"), ("application/zip", "zip"), ("application/xml", "xml"),
]


def _write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as handle:
        handle.write(text)


def _bind_socket(path):
    """A real unix socket file, as PHP-FPM leaves one (it stays after close)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(path)
    finally:
        sock.close()


def _server_block(base, site, number):
    name = "s%03d-%d" % (site, number)
    docroot = "%s/srv/www/%s/public" % (base, name)
    pool = "%s/run/php/pool%02d.sock" % (base, site % POOLS)
    return """
server {{
    listen 80;
    listen [::]:80;
    listen 443 ssl;
    listen [::]:443 ssl;
    server_name {name}.example.test www.{name}.example.test;

    ssl_certificate {base}/etc/ssl/bench/site{site:03d}.crt;
    ssl_certificate_key {base}/etc/ssl/bench/site{site:03d}.key;
    ssl_session_cache shared:SSL:10m;

    root {docroot};
    index index.php index.html;
    client_max_body_size 16m;

    access_log {base}/var/log/nginx/{name}.access.log combined;
    error_log {base}/var/log/nginx/site{site:03d}.error.log warn;

    error_page 404 /errors/404.html;
    error_page 500 502 503 504 /errors/50x.html;

    location / {{
        try_files $uri $uri/ /index.php?$args;
    }}

    location /errors/ {{
        internal;
    }}

    location /static/ {{
        alias {base}/srv/www/{name}/static/;
        expires 30d;
        access_log off;
    }}

    location = /favicon.ico {{
        log_not_found off;
        access_log off;
    }}

    location ~* \\.(?:css|js|png|jpe?g|gif|svg|woff2)$ {{
        expires 7d;
        add_header Cache-Control "public";
    }}

    location ~ /\\.(?:ht|git) {{
        deny all;
    }}

    location ~ \\.php$ {{
        try_files $uri =404;
        fastcgi_split_path_info ^(.+\\.php)(/.+)$;
        include fastcgi_params;
        fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;
        fastcgi_param PATH_INFO $fastcgi_path_info;
        fastcgi_index index.php;
        fastcgi_read_timeout 60s;
        fastcgi_pass unix:{pool};
    }}
}}
""".format(name=name, base=base, site=site, docroot=docroot, pool=pool)


def generate(base, files=FILES, servers_per_file=SERVERS_PER_FILE):
    """Write the tree under ``base``; return the path of nginx.conf."""
    conf_dir = os.path.join(base, "etc", "nginx")
    _write(os.path.join(conf_dir, "nginx.conf"), """\
user www-data;
worker_processes auto;
pid {base}/run/nginx.pid;
error_log {base}/var/log/nginx/error.log;

events {{
    worker_connections 768;
}}

http {{
    sendfile on;
    tcp_nopush on;
    types_hash_max_size 2048;
    server_tokens off;

    include mime.types;
    default_type application/octet-stream;

    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_prefer_server_ciphers on;

    access_log {base}/var/log/nginx/access.log;
    gzip on;

    include sites/*.conf;
}}
""".format(base=base))
    _write(os.path.join(conf_dir, "mime.types"), "types {\n%s}\n" % "".join(
        "    %s %s;\n" % (mime, extensions) for mime, extensions in MIME_TYPES))
    _write(os.path.join(conf_dir, "fastcgi_params"), "".join(
        "fastcgi_param %s %s;\n" % (name, value) for name, value in FASTCGI_PARAMS))
    os.makedirs(os.path.join(base, "var", "log", "nginx"))
    for pool in range(POOLS):
        _bind_socket(os.path.join(base, "run", "php", "pool%02d.sock" % pool))
    for site in range(files):
        for suffix in ("crt", "key"):
            _write(os.path.join(base, "etc", "ssl", "bench", "site%03d.%s" % (site, suffix)), "placeholder\n")
        blocks = []
        for number in range(servers_per_file):
            blocks.append(_server_block(base, site, number))
            site_dir = os.path.join(base, "srv", "www", "s%03d-%d" % (site, number))
            _write(os.path.join(site_dir, "public", "index.php"), "<?php echo 'ok';\n")
            _write(os.path.join(site_dir, "public", "errors", "404.html"), "not found\n")
            _write(os.path.join(site_dir, "public", "errors", "50x.html"), "error\n")
            os.makedirs(os.path.join(site_dir, "static"))
        _write(os.path.join(conf_dir, "sites", "site%03d.conf" % site),
               "# site %03d: %d servers\n%s" % (site, servers_per_file, "".join(blocks)))
    return os.path.join(conf_dir, "nginx.conf")


def count_servers(payload):
    def walk(block):
        total = 0
        for directive in block:
            if directive["directive"] == "server":
                total += 1
            total += walk(directive.get("block") or [])
        return total
    return sum(walk(entry["parsed"]) for entry in payload["config"])


# Contenders ---------------------------------------------------------------

def timed(function):
    gc.collect()
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def web_refs_in_process(config):
    result = validate("nginx", config=config)
    errors = result.report.errors()
    if errors:
        sys.exit("web_refs found %d errors in the generated tree (first: %s); the comparison is meaningless"
                 % (len(errors), errors[0]["message"]))
    return result


def crossplane_in_process(config):
    payload = crossplane.parse(config)
    if payload["status"] != "ok":
        sys.exit("crossplane failed on the generated tree: %s" % payload["errors"][:3])
    return payload


def module_command(workdir, config):
    args = os.path.join(workdir, "web_refs_args.json")
    with open(args, "w") as handle:
        json.dump({"ANSIBLE_MODULE_ARGS": {"server": "nginx", "config": config}}, handle)
    return [sys.executable, "-m", "ansible_collections.lastgood.webstack.plugins.modules.web_refs", args]


def run_module(argv):
    seconds, completed = _timing.run_command(argv, cwd=COLLECTIONS)
    result = json.loads(completed.stdout)
    if result.get("failed") or result["counts"]["error"]:
        sys.exit("the web_refs module failed on the generated tree: %s" % result.get("msg"))
    return seconds, result


def crossplane_command(config):
    return [os.path.join(os.path.dirname(sys.executable), "crossplane"), "parse", config]


def run_crossplane_cli(argv):
    seconds, completed = _timing.run_command(argv)
    payload = json.loads(completed.stdout)
    if payload["status"] != "ok":
        sys.exit("crossplane parse failed on the generated tree: %s" % payload["errors"][:3])
    return seconds, payload


# Injected missing paths ------------------------------------------------------

def inject_missing(base, count):
    """Delete ``count`` referenced paths of different kinds; return them."""
    kinds = [
        lambda i: os.path.join(base, "srv", "www", "s%03d-%d" % (i * 7 % FILES, i % SERVERS_PER_FILE), "public", "index.php"),
        lambda i: os.path.join(base, "etc", "ssl", "bench", "site%03d.key" % (i * 11 % FILES)),
        lambda i: os.path.join(base, "srv", "www", "s%03d-%d" % (i * 13 % FILES, (i + 3) % SERVERS_PER_FILE), "public", "errors", "50x.html"),
        lambda i: os.path.join(base, "run", "php", "pool%02d.sock" % (i % POOLS)),
    ]
    removed = []
    i = 0
    while len(removed) < count:
        path = kinds[len(removed) % len(kinds)](i)
        i += 1
        if path not in removed and os.path.exists(path):
            os.unlink(path)
            removed.append(path)
    return removed


def missing_demo(base, config, count):
    removed = inject_missing(base, count)
    result = validate("nginx", config=config)
    errors = result.report.errors()
    reported = {finding["path"] for finding in errors} | {
        reference["checked"] for reference in result.report.references if not reference["exists"]}
    found = [path for path in removed if path in reported]
    payload = crossplane.parse(config)
    return {
        "injected": len(removed),
        "web_refs_found": len(found),
        "web_refs_errors": len(errors),
        "crossplane_status": payload["status"],
        "crossplane_errors": len(payload["errors"]),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--quick", action="store_true", help="5 runs of each instead of 15")
    parser.add_argument("--runs", type=int, help="runs of each contender")
    parser.add_argument("--missing", type=int, default=20, help="missing paths to inject afterwards (0: none)")
    parser.add_argument("--keep", metavar="DIR", help="generate into DIR and keep it (default: a temporary dir)")
    options = parser.parse_args()
    runs = options.runs or (5 if options.quick else 15)

    if options.keep:
        base = os.path.abspath(options.keep)
        if os.path.exists(base):
            shutil.rmtree(base)
        os.makedirs(base)
    else:
        base = tempfile.mkdtemp(prefix="lastgood-bench-web-refs-")
    try:
        return bench(base, runs, options.missing)
    finally:
        if not options.keep:
            shutil.rmtree(base, ignore_errors=True)


def bench(base, runs, missing):
    print("== web_refs: %d server blocks in %d included files, %d runs each ==" % (
        FILES * SERVERS_PER_FILE, FILES, runs))
    start = time.perf_counter()
    config = generate(base)
    print("generated %s in %.1f s" % (base, time.perf_counter() - start))

    # One checked run of each, outside the timing: the comparison is only
    # meaningful when both read the whole tree and find nothing wrong.
    result = web_refs_in_process(config)
    payload = crossplane_in_process(config)
    servers = count_servers(payload)
    if servers != FILES * SERVERS_PER_FILE:
        sys.exit("crossplane saw %d server blocks, expected %d" % (servers, FILES * SERVERS_PER_FILE))
    counts = result.report.counts()
    references = len(result.report.references)
    print("web_refs: %d files read, %d references, %d errors, %d warnings, %d info, %d PHP entrypoints" % (
        len(result.files_parsed), references, counts["error"], counts["warning"], counts["info"],
        len(result.report.php_entrypoints)))
    print("crossplane: status %s, %d files, %d server blocks" % (payload["status"], len(payload["config"]), servers))
    files_read = len(result.files_parsed)
    # Nothing of these runs stays alive during the timing: a larger heap
    # makes every garbage collection slower, for both contenders.
    del result, payload

    in_process = _timing.alternate([
        ("web_refs validate()", lambda: timed(lambda: web_refs_in_process(config))),
        ("crossplane.parse()", lambda: timed(lambda: crossplane_in_process(config))),
    ], runs)

    module_argv = module_command(base, config)
    cli_argv = crossplane_command(config)
    module_result = run_module(module_argv)[1]
    if len(module_result["references"]) != references:
        sys.exit("the module saw %d references, validate() %d" % (len(module_result["references"]), references))
    run_crossplane_cli(cli_argv)
    subprocess_times = _timing.alternate([
        ("web_refs module", lambda: run_module(module_argv)[0]),
        ("crossplane parse (CLI)", lambda: run_crossplane_cli(cli_argv)[0]),
    ], runs)

    # What the subprocess rows spend before reading any config: both on a
    # one-line config (interpreter, imports; AnsibleModule for the module).
    tiny = os.path.join(base, "tiny", "nginx.conf")
    _write(tiny, "events {}\n")
    tiny_module, tiny_cli = module_command(os.path.dirname(tiny), tiny), crossplane_command(tiny)
    startup_times = _timing.alternate([
        ("web_refs module, 1-line config", lambda: run_module(tiny_module)[0]),
        ("crossplane parse (CLI), 1-line config", lambda: run_crossplane_cli(tiny_cli)[0]),
    ], runs)

    rows = []
    results = {}
    ratios = {}
    for label, times, (ours, theirs) in (
            ("in-process", in_process, ("web_refs validate()", "crossplane.parse()")),
            ("subprocess", subprocess_times, ("web_refs module", "crossplane parse (CLI)")),
            ("start-up only", startup_times,
             ("web_refs module, 1-line config", "crossplane parse (CLI), 1-line config"))):
        for name in (ours, theirs):
            stats = _timing.summary(times[name])
            results[name] = stats
            rows.append([label, name, _timing.ms(stats["median_s"]), _timing.ms(stats["min_s"]),
                         _timing.ms(stats["max_s"])])
        ratios[label] = results[theirs]["median_s"] / results[ours]["median_s"]

    print()
    print(_timing.markdown_table(rows, ["how", "contender", "median", "min", "max"],
                                 title="%d nginx files, %d servers, %d references; %d runs each, alternating" % (
                                     files_read, FILES * SERVERS_PER_FILE, references, runs)))
    print()
    for label, ratio in ratios.items():
        _timing.note("ratio %s: crossplane median / web_refs median = %.2f (>1 means web_refs faster)"
                     % (label, ratio))

    for label in ("in-process", "subprocess"):
        _timing.note("goal: web_refs (parse and check) no slower than crossplane's parse alone, %s: %s"
                     % (label, "met" if ratios[label] >= 1 else "NOT met"))
    demo = None
    if missing:
        demo = missing_demo(base, config, missing)
        _timing.note("injected %d missing paths: web_refs reported %d of them (%d error findings); "
                     "crossplane status %s with %d errors" % (
                         demo["injected"], demo["web_refs_found"], demo["web_refs_errors"],
                         demo["crossplane_status"], demo["crossplane_errors"]))

    path = _timing.save("web_refs", {
        "tree": {"files": FILES, "servers": FILES * SERVERS_PER_FILE, "files_read": files_read,
                 "references": references, "counts": counts},
        "runs": runs,
        "results": results,
        "ratios": ratios,
        "missing_demo": demo,
        "crossplane_version": crossplane.__version__,
    })
    print("saved %s" % os.path.relpath(path, ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
