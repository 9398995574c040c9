# -*- coding: utf-8 -*-
# Copyright: lastgood.webstack contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The watchdog's command line, as the watchdog role runs it::

    python3 -m ansible_collections.lastgood.webstack.plugins.module_utils._watchdog CONFIG [--supervise | --check]
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time

from ansible_collections.lastgood.webstack.plugins.module_utils._probe import ProbeError, Target
from ansible_collections.lastgood.webstack.plugins.module_utils._release import layout, registry
from ansible_collections.lastgood.webstack.plugins.module_utils._watchdog.watcher import (
    MODULE,
    ConfigError,
    Watchdog,
    load_config,
)


def supervise(argv):
    """Run the watcher as a child and start it again when it dies; SIGTERM
    stops both. For hosts without systemd."""
    child = None

    def stop(_signum, _frame):
        if child is not None and child.poll() is None:
            child.terminate()
        raise SystemExit(0)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    backoff = 1.0
    while True:
        started = time.monotonic()
        child = subprocess.Popen([sys.executable, "-m", MODULE] + argv)
        rc = child.wait()
        sys.stderr.write("%s watchdog exited (%s); starting it again in %.0fs\n" % (layout.now(), rc, backoff))
        sys.stderr.flush()
        time.sleep(backoff)
        backoff = 1.0 if time.monotonic() - started > 60 else min(backoff * 2, 30.0)


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--supervise" in argv:
        argv.remove("--supervise")
        supervise(argv)
        return 0
    check_only = "--check" in argv
    if check_only:
        argv.remove("--check")
    if len(argv) != 1:
        sys.stderr.write("usage: python3 -m %s CONFIG [--supervise | --check]\n" % MODULE)
        return 2
    try:
        config = load_config(argv[0])
        if check_only:
            registry.Site(config["base_dir"], config["site"])
            for url in config["urls"]:
                Target(url)
            return 0
        watchdog = Watchdog(config, log=lambda text: (sys.stderr.write("%s %s\n" % (layout.now(), text)),
                                                      sys.stderr.flush()))
    except (ConfigError, layout.ReleaseError, ProbeError) as error:
        sys.stderr.write("watchdog: %s\n" % error)
        return 2
    watchdog.forever()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
