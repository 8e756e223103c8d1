# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Writing the documentation folder: every file or none, never outside it.

The files go first into a staging folder inside the target; once all are
written they are renamed into place one by one, and a failure on the way puts
back the files already replaced. A file of ours the run did not make (the
picture, when Graphviz is missing) is removed with the same care, so the
folder never holds a picture of an older fabric beside newer tables.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable, Mapping

STAGING_PREFIX = ".fabric-document-"


class WriteError(Exception):
    """The folder or a file cannot be written (nothing was changed)."""


def _read(path: str) -> bytes | None:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError:
        return None


def _plain_name(name: str) -> bool:
    return bool(name) and name not in (".", "..") and "/" not in name and "\0" not in name and not name.startswith(STAGING_PREFIX)


def changes(dest: str, files: Mapping[str, str], remove: Iterable[str] = ()) -> list[str]:
    """The names under DEST that writing FILES (and removing REMOVE) would change, sorted."""
    out = []
    for name, text in files.items():
        path = os.path.join(dest, name)
        if os.path.islink(path) or _read(path) != text.encode("utf-8"):
            out.append(name)
    out += [name for name in remove if os.path.lexists(os.path.join(dest, name))]
    return sorted(out)


def write_files(dest: str, files: Mapping[str, str], remove: Iterable[str] = ()) -> str:
    """Put FILES ({name: text}) into DEST and remove REMOVE there, all or nothing; the real path of DEST."""
    if not os.path.isabs(dest):
        raise WriteError("the documentation folder %r is not an absolute path" % dest)
    for name in list(files) + list(remove):
        if not _plain_name(name):
            raise WriteError("refusing to write %r: not a plain file name" % name)
    try:
        os.makedirs(dest, exist_ok=True)
    except OSError as exc:
        raise WriteError("cannot create the documentation folder %s: %s" % (dest, exc.strerror or exc)) from None
    base = os.path.realpath(dest)
    if not os.path.isdir(base):
        raise WriteError("the documentation folder %s is not a folder" % dest)
    for name in files:
        target = os.path.join(base, name)
        if os.path.isdir(target) and not os.path.islink(target):
            raise WriteError("refusing to write %s: it is a folder" % target)
    try:
        staging = tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=base)
    except OSError as exc:
        raise WriteError("cannot write into %s: %s" % (base, exc.strerror or exc)) from None
    done: list[tuple[str, str | None]] = []  # (target, its previous copy in staging or None)
    try:
        os.mkdir(os.path.join(staging, "previous"))
        for name, text in files.items():
            with open(os.path.join(staging, name), "wb") as handle:
                handle.write(text.encode("utf-8"))
            # What a plain file written here gets (the staging folder is 0700, its files 0600 by mkstemp's rules).
            os.chmod(os.path.join(staging, name), 0o666 & ~_umask())
        for name in sorted(files) + sorted(set(remove) - set(files)):
            target = os.path.join(base, name)
            previous = None
            if os.path.lexists(target):
                previous = os.path.join(staging, "previous", name)
                os.rename(target, previous)
            done.append((target, previous))
            if name in files:
                os.rename(os.path.join(staging, name), target)
    except BaseException as exc:
        for target, previous in reversed(done):
            if os.path.lexists(target) and not os.path.isdir(target):
                os.unlink(target)
            if previous is not None:
                os.rename(previous, target)
        shutil.rmtree(staging, ignore_errors=True)
        if isinstance(exc, OSError):
            raise WriteError("writing under %s failed, nothing was changed: %s" % (base, exc)) from None
        raise
    shutil.rmtree(staging, ignore_errors=True)
    return base


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
