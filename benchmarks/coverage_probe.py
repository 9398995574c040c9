"""Runs inside a test container for bench_coverage.py: prepares one case
(argv[1], JSON: the group's setup, stock command and our check, the edit),
runs the stock tool and our check on the same filesystem, and prints what
each reported as JSON. Standard library only: the collection is mounted
under /opt/lastgood (PYTHONPATH)."""

import json
import subprocess
import sys

from ansible_collections.lastgood.webstack.plugins.module_utils._php import ini as _php_ini, resolve as _php_resolve
from ansible_collections.lastgood.webstack.plugins.module_utils._webconf import validate as _web_refs
from ansible_collections.lastgood.webstack.plugins.module_utils._webconf.errors import ConfigError
from ansible_collections.lastgood.webstack.plugins.module_utils._common.paths import PathMap


def edit(case):
    with open(case["file"]) as handle:
        text = handle.read()
    if text.count(case["sound"]) != 1:
        raise SystemExit("%s: %r is not there exactly once" % (case["file"], case["sound"]))
    with open(case["file"], "w") as handle:
        handle.write(text.replace(case["sound"], case["typo"]))


def stock(argv, file):
    argv = [part.replace("{file}", file or "") for part in argv]
    done = subprocess.run(argv, capture_output=True, text=True, check=False,
                          env={"LC_ALL": "C", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})
    lines = [line for line in (done.stdout + done.stderr).splitlines() if "ulimit" not in line.lower()]
    return {"argv": argv, "rc": done.returncode, "output": lines[-4:]}


def ours(check):
    errors = []
    if check["module"] == "web_refs":
        try:
            report = _web_refs.validate(check["server"]).report
            findings = report.findings
        except ConfigError as error:
            findings = [{"severity": "error", "file": error.file, "line": error.line, "message": error.message}]
    else:
        include_path = subprocess.run(["php", "-r", "echo get_include_path();"], capture_output=True, text=True,
                                      check=True).stdout.split(":")
        result = _php_resolve.scan(check["paths"], include_path=include_path, constants=check.get("constants"))
        if check.get("ini_files"):
            _php_ini.check_ini_files(check["ini_files"], PathMap(None), result)
        findings = result.findings
    for finding in findings:
        if finding["severity"] == "error":
            errors.append("%s:%s: %s" % (finding["file"], finding["line"], finding["message"]))
    return errors


def main():
    case = json.loads(sys.argv[1])
    subprocess.run(["sh", "-c", case["setup"]], check=True)
    if case.get("file"):
        edit(case)
    print(json.dumps({"stock": stock(case["stock"], case.get("file") or case.get("control_file")), "ours": ours(case["ours"])}))


if __name__ == "__main__":
    main()
