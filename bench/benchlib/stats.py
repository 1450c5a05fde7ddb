# SPDX-License-Identifier: LGPL-2.1-or-later
# Numbers from raw results: medians and min-max over the repetitions, ratios taken pair by pair
# inside one repetition, their formatting, and the verdict on each target.

import statistics


def ok(r):
    return isinstance(r, dict) and 'error' not in r


def values(results, key, metric):
    return [r[metric] for r in results.get(key, []) if ok(r)]


def paired(results, key_a, key_b, metric_a, metric_b=None):
    """Ratios a/b inside each repetition where both ran."""
    a = results.get(key_a, [])
    b = results.get(key_b, [])
    return [x[metric_a] / y[metric_b or metric_a] for x, y in zip(a, b)
            if ok(x) and ok(y) and y[metric_b or metric_a]]


def stats(v):
    if not v:
        return None
    return statistics.median(v), min(v), max(v)


def num(v):
    if v is None:
        return '—'
    a = abs(v)
    if a >= 1e6:
        return f'{v / 1e6:.2f}M'
    if a >= 1e4:
        return f'{v / 1e3:.1f}k'
    if a >= 100:
        return f'{v:.0f}'
    if a >= 10:
        return f'{v:.1f}'
    return f'{v:.2f}'


def cell(s, ratio=False, reps=1):
    if s is None:
        return '—'
    f = (lambda v: f'{v:.2f}x') if ratio else num
    if reps == 1 or s[1] == s[2]:
        return f(s[0])
    return f'{f(s[0])} [{f(s[1])}–{f(s[2])}]'


def flat_vs_pread(results, key, key1000):
    """Per repetition: (aio/pread at K) / (aio/pread at 1,000).

    Time per request grows with K for pread too (K buffers and aiocbs stop fitting in the
    caches); this is the growth that the AIO implementation adds on top of that.
    """
    out = []
    for a, b in zip(results.get(key, []), results.get(key1000, [])):
        if ok(a) and ok(b):
            out.append((a['aio_ns_per_req'] / a['pread_ns_per_req']) /
                       (b['aio_ns_per_req'] / b['pread_ns_per_req']))
    return out


class Verdicts:
    """What each cell of the tables is (a number, n/a, ERROR, skipped) and the targets judged."""

    def __init__(self, results, engine_state):
        self.res = results
        self.state = engine_state
        self.targets = []       # (what, variant, median ratio or None, met or None, goal text)
        self.cur = None         # what overrides a target's verdict in the current cell

    def status(self, section, row, variant):
        """Why a cell has no number: 'n/a', 'ERROR', 'skipped', or None when it has."""
        runs = self.res.get((section, row, variant))
        if self.state.get(variant, 'ok') != 'ok':
            return self.state[variant]
        if runs is None:
            return 'skipped'
        if not any(r is not None for r in runs):
            return 'n/a'
        return None

    def errors(self, key):
        return sum(1 for r in self.res.get(key, []) if isinstance(r, dict) and 'error' in r)

    def begin_cell(self, key, why=None):
        """Sets what overrides a target's verdict for this cell; returns (why, label suffix)."""
        why = why or self.status(*key)
        n = self.errors(key)
        self.cur = why or ('ERROR' if n else None)
        return why, (f' ({n} ERROR)' if n else '')

    def target(self, what, variant, s, goal, lower_is_better=False):
        if self.cur:
            self.targets.append((what, variant, s[0] if s else None, self.cur, goal))
            return self.cur
        if s is None:
            self.targets.append((what, variant, None, 'no data', goal))
            return 'no data'
        met = s[0] <= goal if lower_is_better else s[0] >= goal
        verdict = 'met' if met else 'NOT MET'
        self.targets.append((what, variant, s[0], verdict, goal))
        return verdict
