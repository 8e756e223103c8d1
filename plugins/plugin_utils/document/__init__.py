# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fabric's documentation, generated from the typed intents: tables (CSV, Markdown) and the topology picture.

Pure and deterministic: the same intents give the same bytes (sorted, no
timestamps), so the CSV, Markdown and DOT files can be compared as goldens.
No Ansible import: the action anycast.fabric.fabric_document reads the model
and writes the files (write.py).
"""
