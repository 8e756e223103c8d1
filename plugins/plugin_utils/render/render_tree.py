# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Writing rendered configurations: every host's folder or none, never outside the target.

Layout: <dest>/<host>/<file>, folders 0700 and files 0600 (they hold the BGP
key). A render goes first into a staging folder inside <dest>; only when every
host rendered and was written there are the host folders swapped into place,
one rename each, and a failure during the swap puts back the folders already
swapped. So a failure half-way (a render error, a full disk, a refused path)
leaves the old files as they were. Host folders that are not rendered this
time (--limit) are left alone.

The files are not fsync'ed one by one (thousands of fsyncs cost more than the
whole render): all-or-nothing holds for failures of the run, while a power
cut during a render is left to the filesystem's own journal.

A render killed outright (kill -9, a dead controller) cannot clean up: its
staging folder stays, and a kill during the swap leaves the hosts it had
moved aside in that folder. Every render holds a shared flock on <dest>; the
first one to find no other render there (an exclusive lock it can take)
puts back every host folder a dead render had moved aside and not replaced,
then removes the dead renders' staging folders.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile

STAGING_PREFIX = ".fabric-render-"


class TreeError(Exception):
    """A path that must not be written, or a failed write (nothing was changed)."""


def resolve(path, cwd=None):
    """PATH made absolute: '~' expanded, relative to CWD (default: the process's working directory)."""
    path = os.path.expanduser(str(path))
    if not os.path.isabs(path):
        path = os.path.join(cwd or os.getcwd(), path)
    return os.path.normpath(path)


def safe_name(name):
    """Whether NAME can be a single folder name inside the target."""
    return bool(name) and name not in (".", "..") and "/" not in name and "\0" not in name and not name.startswith(STAGING_PREFIX)


def _target(base, name):
    """<base>/<name>, refused unless its real path is exactly that (no symlink, no escape)."""
    if not safe_name(name):
        raise TreeError("refusing to write the configuration of host %r: not a plain folder name" % name)
    target = os.path.join(base, name)
    if os.path.realpath(target) != target or os.path.dirname(os.path.realpath(target)) != base:
        raise TreeError("refusing to write %s: it is (or goes through) a symbolic link leading outside %s" % (target, base))
    return target


def _read(path):
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError:
        return None


def unchanged(base, name, files):
    """Whether <base>/<name> holds exactly FILES ({file: text}) with the right modes."""
    if not safe_name(name):
        return False
    folder = os.path.join(base, name)
    if os.path.islink(folder) or not os.path.isdir(folder):
        return False
    if sorted(os.listdir(folder)) != sorted(files):
        return False
    if os.stat(folder).st_mode & 0o777 != 0o700:
        return False
    for filename, text in files.items():
        path = os.path.join(folder, filename)
        if os.path.islink(path) or _read(path) != text.encode("utf-8") or os.stat(path).st_mode & 0o777 != 0o600:
            return False
    return True


def _owner_bits_kept():
    """Whether the umask leaves the owner's bits alone (then mkdir/open modes need no chmod)."""
    mask = os.umask(0o077)
    os.umask(mask)
    return mask & 0o700 == 0


def _write_file(path, text, exact=False):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(text.encode("utf-8"))
    if exact:
        os.chmod(path, 0o600)


# Both indirections let the tests inject failures half-way.
_rename = os.rename
_write = _write_file


def write_tree(dest, rendered):
    """Put RENDERED ({host: {file: text}}) under DEST, all hosts or none.

    DEST must be absolute; it is created (0700) when missing. Returns the
    real path of DEST. Raises TreeError (and changes nothing) on failure.
    """
    if not os.path.isabs(dest):
        raise TreeError("the render folder %r is not an absolute path" % dest)
    try:
        os.makedirs(dest, 0o700, exist_ok=True)
    except OSError as exc:
        raise TreeError("cannot create the render folder %s: %s" % (dest, exc.strerror or exc)) from None
    base = os.path.realpath(dest)
    if not os.path.isdir(base):
        raise TreeError("the render folder %s is not a folder" % dest)
    targets = dict((name, _target(base, name)) for name in rendered)  # every path checked before any write
    lock = _lock(base)
    try:
        _swap(base, rendered, targets)
    finally:
        os.close(lock)
    return base


def _lock(base):
    """A shared flock on BASE, held by the caller for the render; alone in BASE, first clear what dead renders left."""
    fd = os.open(base, os.O_RDONLY | os.O_DIRECTORY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pass  # another render runs here: its staging folder is alive
        else:
            _clear_dead_renders(base)
        fcntl.flock(fd, fcntl.LOCK_SH)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _clear_dead_renders(base):
    """Put back the host folders dead renders moved aside and did not replace, then remove their staging folders."""
    for entry in sorted(os.listdir(base)):
        staging = os.path.join(base, entry)
        if not entry.startswith(STAGING_PREFIX) or os.path.islink(staging) or not os.path.isdir(staging):
            continue
        trash = os.path.join(staging, "previous")
        if os.path.isdir(trash) and not os.path.islink(trash):
            for name in sorted(os.listdir(trash)):
                target = os.path.join(base, name)
                if safe_name(name) and not os.path.lexists(target):
                    os.rename(os.path.join(trash, name), target)
        shutil.rmtree(staging, ignore_errors=True)


def _swap(base, rendered, targets):
    """Write RENDERED into a staging folder in BASE, then swap each host's folder in (see the module's docstring)."""
    staging = tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=base)
    done = []  # ("moved", target, previous) / ("placed", target, None), in order
    trash = os.path.join(staging, "previous")
    # One chmod per file and folder only when the umask would take owner bits away.
    chmod = not _owner_bits_kept()
    try:
        os.mkdir(trash, 0o700)
        os.mkdir(os.path.join(staging, "new"), 0o700)
        if chmod:
            for path in (staging, trash, os.path.join(staging, "new")):
                os.chmod(path, 0o700)
        for name, files in rendered.items():
            folder = os.path.join(staging, "new", name)
            os.mkdir(folder, 0o700)
            if chmod:
                os.chmod(folder, 0o700)
            for filename, text in files.items():
                if not safe_name(filename):
                    raise TreeError("refusing to write %r for host %s: not a plain file name" % (filename, name))
                _write(os.path.join(folder, filename), text, chmod)
        for name in rendered:
            target = targets[name]
            if os.path.lexists(target):
                previous = os.path.join(trash, name)
                _rename(target, previous)
                done.append(("moved", target, previous))
            _rename(os.path.join(staging, "new", name), target)
            done.append(("placed", target, None))
    except BaseException as exc:
        _undo(done)
        shutil.rmtree(staging, ignore_errors=True)
        if isinstance(exc, TreeError):
            raise
        if isinstance(exc, OSError):
            raise TreeError("writing under %s failed, nothing was changed: %s" % (base, exc)) from None
        raise
    shutil.rmtree(staging, ignore_errors=True)


def _undo(done):
    """Put back what a failed swap already replaced, newest first."""
    for step, target, previous in reversed(done):
        if step == "placed":
            shutil.rmtree(target, ignore_errors=True)
        else:
            os.rename(previous, target)
