# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""lab/lib.sh: the shell the lab's image builders and start scripts share.

Each test sources lib.sh in a fresh bash and checks one helper; nothing here
needs Docker, QEMU or root.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

from conftest import REPO

LIB = REPO / "lab" / "lib.sh"


def bash(script, *args, lib=LIB):
    """Run `script` in bash after sourcing lib (set -euo pipefail, as the lab's scripts do)."""
    return subprocess.run(["bash", "-c", 'set -euo pipefail; . "$0"; lab_name=t; ' + script, str(lib), *args],
                          capture_output=True, text=True, timeout=60, check=False)


def test_messages_go_where_the_scripts_need_them():
    proc = bash('lab_say out; lab_log err; lab_die fatal; echo unreachable')
    assert (proc.returncode, proc.stdout, proc.stderr) == (1, "t: out\n", "t: err\nt: fatal\n")


def test_optarg_needs_a_value_and_stops_the_script_with_2():
    assert bash('x=$(lab_optarg --image img); echo "$x"').stdout == "img\n"
    for args in ("--image", "--image ''"):
        proc = bash('x=$(lab_optarg %s); echo after' % args)
        assert (proc.returncode, proc.stdout, proc.stderr) == (2, "", "t: --image needs a value\n")


def test_wait_until_done_not_yet_give_up_and_timeout():
    # Done on the third call; the counter shows the command runs in this shell.
    proc = bash('n=0; f() { n=$((n + 1)); ((n == 3)); }; lab_wait_until 5 0.01 f; echo "$n"')
    assert proc.stdout == "3\n"
    # Any status but 0 and 1 ends the wait at once with that status.
    proc = bash('n=0; f() { n=$((n + 1)); return 7; }; rc=0; lab_wait_until 5 0.01 f || rc=$?; echo "$rc $n"')
    assert proc.stdout == "7 1\n"
    start = time.monotonic()
    proc = bash('rc=0; lab_wait_until 1 0.05 false || rc=$?; echo "$rc"')
    assert proc.stdout == "1\n"
    assert 0.9 < time.monotonic() - start < 10


def test_recipe_hash_covers_the_files_and_the_recipe_parts_only(tmp_path):
    recipe = tmp_path / "recipe"
    recipe.write_text("packages=(a b)\n")
    shutil.copy(LIB, tmp_path / "lib.sh")
    lib = tmp_path / "lib.sh"

    def digest():
        proc = bash('lab_recipe_hash "$1"', str(recipe), lib=lib)
        assert proc.returncode == 0 and len(proc.stdout.strip()) == 12, proc
        return proc.stdout.strip()

    first = digest()
    # Messages and loops do not shape an image: same tag, no rebuild.
    lib.write_text(LIB.read_text().replace('sleep "$step"', 'sleep "$step"  # edited') + "\n# a comment\n")
    assert digest() == first
    # What debootstrap installs from does.
    lib.write_text(LIB.read_text().replace("--variant=minbase", "--variant=buildd"))
    assert digest() != first
    lib.write_text(LIB.read_text().replace("lab_suite=bookworm", "lab_suite=trixie"))
    assert digest() != first
    # And so does the recipe file.
    shutil.copy(LIB, lib)
    recipe.write_text("packages=(a b c)\n")
    assert digest() != first


def test_qemu_pid_only_names_the_qemu_of_that_pid_file(tmp_path):
    pidfile = tmp_path / "qemu.pid"
    # A stand-in whose command line looks like QEMU's: qemu-system... -pidfile PIDFILE
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "qemu-system-x86_64", "-pidfile", str(pidfile)])
    try:
        pidfile.write_text("%d\n" % proc.pid)
        assert bash('lab_qemu_pid "$1"', str(pidfile)).stdout == "%d\n" % proc.pid
        # Another state directory's pid file naming the same pid: not ours.
        other = tmp_path / "other.pid"
        other.write_text("%d\n" % proc.pid)
        assert bash('lab_qemu_pid "$1"', str(other)).returncode == 1
        # A live process that is not QEMU (this test's own pid), garbage, nothing.
        for content in ("%d\n" % os.getpid(), "not a pid\n", ""):
            pidfile.write_text(content)
            assert bash('lab_qemu_pid "$1"', str(pidfile)).returncode == 1, content
    finally:
        proc.kill()
        proc.wait()
    assert bash('lab_qemu_pid "$1"', str(tmp_path / "missing.pid")).returncode == 1


def test_usage_prints_the_header_and_exits_2():
    proc = subprocess.run([str(REPO / "lab" / "net.sh")], capture_output=True, text=True, timeout=30, check=False)
    assert proc.returncode == 2
    assert proc.stderr.splitlines()[0] == "Lab networks: one user-defined Docker bridge per rack segment."
    assert "lab/net.sh ls" in proc.stderr


def test_the_mirrors_come_from_the_machines_apt_sources(tmp_path):
    """lab_apt_mirror reads deb822 stanzas (URIs before or after Suites) and one-line sources; the repository names no mirror."""
    deb822 = tmp_path / "debian.sources"
    deb822.write_text(
        "Types: deb\nSuites: bookworm bookworm-updates\nURIs: http://mirror.invalid/debian\nComponents: main\n\n"
        "Types: deb\nURIs: http://mirror.invalid/debian-security\nSuites: bookworm-security\nComponents: main\n"
    )
    oneline = tmp_path / "sources.list"
    oneline.write_text(
        "# comment\ndeb [arch=amd64 signed-by=/k.gpg] http://other.invalid/debian-security trixie-security main\n"
        "deb http://other.invalid/debian trixie main\n"
    )
    for files, main, security in (
        ([deb822], "http://mirror.invalid/debian", "http://mirror.invalid/debian-security"),
        ([oneline], "http://other.invalid/debian", "http://other.invalid/debian-security"),
    ):
        for kind, want in (("main", main), ("security", security)):
            proc = bash('lab_apt_mirror "$@"', kind, *map(str, files))
            assert proc.returncode == 0 and proc.stdout.strip() == want, proc
    assert "http://" not in LIB.read_text()
