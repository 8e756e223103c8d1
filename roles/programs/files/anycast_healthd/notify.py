# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""systemd's notification protocol (Type=notify, WatchdogSec=) with python3-systemd."""

from __future__ import annotations

import logging
import os

LOG = logging.getLogger("anycast-healthd")


def sd_notify(message):
    """Tell systemd (Type=notify, WatchdogSec=) how we are; a no-op outside systemd."""
    if not os.environ.get("NOTIFY_SOCKET"):
        return
    # Imported here: only the agent under systemd notifies (not --status, --check-config).
    from systemd import daemon

    try:
        daemon.notify(message)
    except OSError as exc:
        LOG.warning("cannot notify systemd: %s", exc)
