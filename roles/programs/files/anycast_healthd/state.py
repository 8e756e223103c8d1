# -*- coding: utf-8 -*-
# Copyright: anycast.fabric contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""State machines: a check's rise and fall, a VIP's flap damping, and the VIP itself."""

from __future__ import annotations

import math
import time

from anycast_healthd.checks import describe


class CheckState:
    """Rise/fall filter of one check: `rise` successes in a row bring it up,
    `fall` failures in a row bring it down. It starts down (fail-closed).
    An event-driven check (systemd_unit, process) has no `fall`: its first
    failure brings it down."""

    def __init__(self, spec, name):
        self.spec = spec
        self.name = name
        self.up = False
        self.successes = 0  # current run of successes
        self.failures = 0  # current run of failures
        self.runs = 0
        self.failed_runs = 0
        self.latency = None
        self.error = "not checked yet"
        self.running_since = None  # monotonic start of the run in progress
        self.hung = False  # the run in progress was declared failed already

    def record(self, ok, latency=None, error=""):
        """Account for one result; True when the check changed state."""
        self.runs += 1
        self.latency = latency
        if ok:
            self.successes, self.failures = self.successes + 1, 0
            self.error = ""
        else:
            self.successes, self.failures = 0, self.failures + 1
            self.failed_runs += 1
            self.error = error
        before = self.up
        if not self.up and self.successes >= self.spec["rise"]:
            self.up = True
        elif self.up and self.failures >= self.spec.get("fall", 1):
            self.up = False
        return self.up != before

    def force_down(self, error):
        """A run that hangs must not keep the VIP announced: fail the check now."""
        self.hung = True
        self.successes, self.failures = 0, max(self.failures, self.spec.get("fall", 1))
        self.error = error
        before, self.up = self.up, False
        return before


class Damping:
    """RFC 2439-style flap damping of one VIP's health.

    Each fall adds `penalty`; the penalty halves every `half_life_s`. Reaching
    `suppress` holds the VIP down (even while healthy) until the penalty has
    decayed below `reuse`. The penalty is capped at reuse * 2^(max_hold_s /
    half_life_s): a hold never outlasts max_hold_s after the last fall, while
    a VIP that keeps flapping is held for longer and longer up to that cap.
    """

    def __init__(self, spec):
        self.spec = spec
        self.enabled = spec["enabled"]
        self.half_life = float(spec["half_life_s"])
        # 2^60 is far beyond any real penalty; it only avoids float overflow
        # for a max_hold_s much longer than the half-life.
        self.ceiling = spec["reuse"] * 2.0 ** min(spec["max_hold_s"] / self.half_life, 60.0)
        self.value = 0.0
        self.at = 0.0  # monotonic time `value` was taken at
        self.suppressed = False

    def penalty(self, now):
        if not self.value:
            return 0.0
        return self.value * 2.0 ** (-(now - self.at) / self.half_life)

    def fall(self, now):
        """The VIP's health fell: add the penalty; True when this starts a hold."""
        if not self.enabled:
            return False
        self.value = min(self.penalty(now) + self.spec["penalty"], self.ceiling)
        self.at = now
        if not self.suppressed and self.value >= self.spec["suppress"]:
            self.suppressed = True
            return True
        return False

    def held(self, now):
        """Whether the VIP is held down now (releases the hold once below reuse)."""
        if self.suppressed and self.penalty(now) < self.spec["reuse"]:
            self.suppressed = False
        return self.suppressed

    def hold_left(self, now):
        """Seconds until the hold ends (0 when not held)."""
        if not self.held(now):
            return 0.0
        return max(0.0, self.half_life * math.log2(self.penalty(now) / self.spec["reuse"]))

    def restore(self, penalty, suppressed, age, now):
        """Carry the penalty over from a previous run, decayed by `age` seconds."""
        if not self.enabled or not isinstance(penalty, (int, float)) or penalty <= 0:
            return
        self.value = min(float(penalty) * 2.0 ** (-max(age, 0.0) / self.half_life), self.ceiling)
        self.at = now
        self.suppressed = bool(suppressed) and self.value >= self.spec["reuse"]


class Vip:
    """One VIP: its checks, its health, its damping and whether it is announced."""

    def __init__(self, spec, wall=None):
        self.spec = spec
        self.prefix = spec["prefix"]
        self.name = spec.get("name")
        self.checks = [CheckState(c, describe(c, self.prefix)) for c in spec["checks"]]
        self.damping = Damping(spec["damping"])
        self.healthy = False
        self.announced = False
        self.transitions = 0  # announced <-> withdrawn, the metric
        self.falls = 0  # healthy -> sick
        self.last_fall = None  # wall time of the last fall
        self.last_change = wall if wall is not None else time.time()
        self.retry_at = 0.0  # after a failed `ip` call

    @property
    def label(self):
        return "%s (%s)" % (self.prefix, self.name) if self.name else self.prefix

    def evaluate(self, now):
        """Recompute health from the checks; returns (changed, hold started)."""
        healthy = all(c.up for c in self.checks)
        if healthy == self.healthy:
            return False, False
        self.healthy = healthy
        hold = False
        if not healthy:
            self.falls += 1
            self.last_fall = time.time()
            hold = self.damping.fall(now)
        return True, hold

    def wanted(self, now):
        """Announce exactly while healthy and not held down by damping."""
        return self.healthy and not self.damping.held(now)

    def failing(self):
        return "; ".join("%s: %s" % (c.name, c.error) for c in self.checks if not c.up) or "-"
