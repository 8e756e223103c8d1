"""Offline stand-in for ansible-test's "get-pip" bootstrap script.

Why this exists: `ansible-test sanity --venv` creates empty virtual
environments and bootstraps pip into them by running a get-pip script that it
downloads from ci-files.testing.ansible.com, which this network cannot reach.
ansible-test first looks for a cached copy at
~/.ansible/test/cache/get_pip_<version with underscores>.py
(see ansible_test/_util/target/setup/requirements.py), so `make setup` copies
this file there.

ansible-test runs it through runpy (quiet_pip.py) with the venv's own Python,
which has no pip, and passes arguments such as
    --disable-pip-version-check pip==24.2 --no-setuptools --no-wheel
We do what get-pip does: put a pip wheel on sys.path and run pip's own
installer from it. The wheel is put next to this script by `make get-pip`,
with the project venv's pip (so this machine's pip configuration decides the
index; the repository spells no package index's host name).

Kept compatible with old Pythons on purpose: it runs inside whatever Python
ansible-test bootstraps, not only the controller's.
"""

import os
import re
import subprocess
import sys

DEFAULT_PIP_VERSION = "24.2"

# Options that only the real get-pip understands; pip itself would reject them.
GET_PIP_ONLY_ARGS = ("--no-setuptools", "--no-wheel")


def pip_version_from_filename():
    """The version comes from our own file name (get_pip_24_2.py -> 24.2).

    One script then serves any pip version a future ansible-test asks for:
    setup only has to copy it under the right name.
    """
    name = os.path.splitext(os.path.basename(__file__))[0]
    match = re.match(r"^get_pip_(\d+(?:_\d+)*)$", name)
    if match:
        return match.group(1).replace("_", ".")
    return DEFAULT_PIP_VERSION


def log(message):
    sys.stderr.write("get_pip stand-in: %s\n" % message)


def download_with_pip(version, cache_dir):
    """Use the calling interpreter's pip if it has one: it honours pip.conf
    (index, certificates, proxies) exactly like every other install here."""
    try:
        import pip  # noqa: F401  (probe only)
    except ImportError:
        return None
    try:
        subprocess.check_call(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
             "--only-binary=:all:", "--dest", cache_dir, "pip==%s" % version],
        )
    except (OSError, subprocess.CalledProcessError) as ex:
        log("pip download failed (%s)" % ex)
        return None
    return find_cached_wheel(version, cache_dir)


def find_cached_wheel(version, cache_dir):
    name = "pip-%s-py3-none-any.whl" % version
    path = os.path.join(cache_dir, name)
    return path if os.path.isfile(path) else None


def main():
    version = pip_version_from_filename()
    cache_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "get_pip_wheels")
    if not os.path.isdir(cache_dir):
        os.makedirs(cache_dir)

    wheel = find_cached_wheel(version, cache_dir)
    if wheel:
        log("using cached %s" % wheel)
    else:
        wheel = download_with_pip(version, cache_dir)
        if not wheel:
            # `make get-pip` puts the wheel here with the project venv's pip,
            # which reads this machine's pip configuration (index, certificates):
            # the repository names no package index of its own.
            raise SystemExit("get_pip stand-in: no %s in %s; run `make get-pip`" % ("pip-%s-py3-none-any.whl" % version, cache_dir))
        log("downloaded %s" % wheel)

    # A wheel is a zip archive, and pip can run straight from it (get-pip does
    # the same with its embedded copy).
    sys.path.insert(0, wheel)
    from pip._internal.cli.main import main as pip_main

    args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY_ARGS]
    # get-pip always installs pip itself; keep that when the caller names no
    # pip requirement of its own.
    if not any(re.match(r"^pip([<>=!~ ]|$)", arg) for arg in args):
        args.append("pip==%s" % version)
    # Install pip from the wheel we already hold rather than asking the index
    # for the very same file again.
    args = [wheel if arg == "pip==%s" % version else arg for arg in args]
    return pip_main(["install", "--upgrade", "--force-reinstall"] + args)


if __name__ == "__main__":
    sys.exit(main())
