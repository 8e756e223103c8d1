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
installer from it. The wheel comes from PyPI (reachable here) and is cached
next to this script so that later bootstraps do not download again.

Kept compatible with old Pythons on purpose: it runs inside whatever Python
ansible-test bootstraps, not only the controller's.
"""

import hashlib
import json
import os
import re
import ssl
import subprocess
import sys
import tempfile

try:
    from urllib.parse import urljoin
    from urllib.request import Request, urlopen
except ImportError:  # pragma: no cover - Python 2 is not expected, but fail clearly
    sys.exit("get_pip stand-in: Python 3 is required")

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


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


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
        log("pip download failed (%s); trying PyPI directly" % ex)
        return None
    return find_cached_wheel(version, cache_dir)


def ssl_context():
    """Trust the same CA bundle pip is told to trust (PIP_CERT), if any: a
    Python built outside the distribution may not find the system bundle."""
    cafile = os.environ.get("PIP_CERT") or os.environ.get("SSL_CERT_FILE")
    if cafile and os.path.isfile(cafile):
        return ssl.create_default_context(cafile=cafile)
    return ssl.create_default_context()


def fetch_json(url, accept="application/json"):
    request = Request(url, headers={"Accept": accept})
    return json.loads(urlopen(request, timeout=120, context=ssl_context()).read().decode("utf-8"))


def resolve_wheel(version):
    """Return (url, sha256) of pip's universal wheel for VERSION.

    Tried in order, because PyPI front ends here do not all serve every API:
    the PEP 691 JSON simple index (what pip itself uses), then the JSON API's
    per-version and whole-project documents. Relative file URLs (as some
    mirrors return) are resolved against the document's own URL.
    """
    filename = "pip-%s-py3-none-any.whl" % version
    errors = []

    url = "https://pypi.org/simple/pip/"
    try:
        for entry in fetch_json(url, "application/vnd.pypi.simple.v1+json")["files"]:
            if entry["filename"] == filename:
                return urljoin(url, entry["url"]), entry.get("hashes", {}).get("sha256")
    except Exception as ex:  # any failure here just means: try the next API
        errors.append("%s: %s" % (url, ex))

    for url in ("https://pypi.org/pypi/pip/%s/json" % version, "https://pypi.org/pypi/pip/json"):
        try:
            meta = fetch_json(url)
            files = meta["releases"].get(version, []) if "releases" in meta else meta["urls"]
            for entry in files:
                if entry["filename"] == filename:
                    return urljoin(url, entry["url"]), entry.get("digests", {}).get("sha256")
        except Exception as ex:
            errors.append("%s: %s" % (url, ex))

    raise SystemExit("get_pip stand-in: cannot find %s on PyPI (%s)" % (filename, "; ".join(errors) or "not listed"))


def download_with_urllib(version, cache_dir):
    """Download the wheel straight from PyPI and check its sha256."""
    url, expected = resolve_wheel(version)
    log("downloading %s" % url)
    target = os.path.join(cache_dir, "pip-%s-py3-none-any.whl" % version)
    # Download to a temporary name first so an interrupted download never
    # leaves a truncated wheel that a later run would trust.
    fd, temp = tempfile.mkstemp(dir=cache_dir, suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            response = urlopen(url, timeout=300, context=ssl_context())
            while True:
                chunk = response.read(1 << 20)
                if not chunk:
                    break
                out.write(chunk)
        if expected and sha256_of(temp) != expected:
            raise SystemExit("get_pip stand-in: sha256 mismatch for %s" % url)
        os.rename(temp, target)
    finally:
        if os.path.exists(temp):
            os.unlink(temp)
    return target


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
        wheel = download_with_pip(version, cache_dir) or download_with_urllib(version, cache_dir)
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
