# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""python3 -m anycast_healthd (the zipapp's own entry point is anycast_healthd.cli:run)."""

from anycast_healthd.cli import run

run()
