"""Stand-in for get-pip.py, which ansible-test downloads from a host this
machine cannot reach. ansible-test runs it inside a fresh venv with the pip
options and the packages it wants (``pip==X``); this bootstraps pip from the
interpreter's own ensurepip and then installs exactly those packages."""

import subprocess
import sys

args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
subprocess.run([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"],
               check=True, stdout=subprocess.DEVNULL)
sys.exit(subprocess.run([sys.executable, "-m", "pip", "install", "-q", *args], check=False).returncode)
