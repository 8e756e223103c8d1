# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Stage 2, rendering: an intent to its daemon's configuration text (templates/ beside it), and writing the rendered tree."""
