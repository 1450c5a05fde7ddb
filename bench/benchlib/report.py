# SPDX-License-Identifier: LGPL-2.1-or-later
# The markdown of a run (bench/out/<run>/bench-results.md, copied to docs/bench-results.md): one
# table per section, the targets table, the machine and the failures.  Each table also leaves
# the ratios its panel of the plot draws in Report.plot.

from .cases import (FIO_JOBS, NOTIFY_DEPTH, NOTIFY_MODES, NOTIFY_ROWS, SCALE_KS, STREAM_ROWS,
                    SUBMIT_ROWS, THREAD_COUNTS, THREAD_DEPTH, THREAD_MODES, VERIFY_SIZE)
from .common import DATA_SIZE, FIO_LIBAIO, FIO_URING, GLIBC, THREADS, MiB
from .stats import Verdicts, cell, flat_vs_pread, paired, stats, values


def table_head(*titles):
    return ['| ' + ' | '.join(titles) + ' |', '|' + '---|' * len(titles)]


def table_line(label, variant, why, flag, cells, goal=None):
    """One line of a table; a cell with no number (why) leaves the rest of its line empty."""
    if why:
        text = f'| {label} | {variant} | {why} |' + ' |' * (len(cells) - 1)
    else:
        text = f'| {label} | {variant}{flag} | ' + ' | '.join(cells) + ' |'
    return text if goal is None else text + f' {goal} |'


class Report(Verdicts):
    """The tables of one run's results, and what they leave for the plot."""

    def __init__(self, args, results, engine_state, engine_note, lib_variants, files):
        super().__init__(results, engine_state)
        self.args = args
        self.note = engine_note
        self.engines = lib_variants
        self.files = files
        self.plot = {}          # panel -> list of (label, {variant: stats})

    def cell(self, s):
        return cell(s, reps=self.args.reps)

    def ratio(self, s):
        return cell(s, True, self.args.reps)

    def median(self, key, metric):
        """The cell of one metric: median [min-max] over the repetitions."""
        return self.cell(stats(values(self.res, key, metric)))

    def variant_lines(self, lines, label, section, row, variants, base, metric, row_cells,
                      why=None):
        """Appends one line per variant of a row; returns each variant's ratio to base's metric.

        row_cells(variant, key, ratio) gives the cells after the variant's name and the target
        text (None: the table has no target column); it runs after begin_cell, which a target
        needs.
        """
        ratios = {}
        for v in variants:
            key = (section, row, v)
            cell_why, flag = self.begin_cell(key, why)
            ratios[v] = stats(paired(self.res, key, (section, row, base), metric))
            cells, goal = row_cells(v, key, ratios[v])
            lines.append(table_line(label, v, cell_why, flag, cells, goal))
        return ratios

    # -- fio --
    def fio_table(self):
        lines = table_head('Job', 'Variant', 'IOPS', 'vs fio io_uring', 'mean lat (µs)',
                           'p99 lat (µs)', 'p99 vs io_uring', 'CPU µs/IO', 'Target')
        panel = self.plot['fio'] = []
        for job in FIO_JOBS:
            name, label = job[0], job[1]

            def row_cells(v, key, ratio):
                p99r = stats(paired(self.res, key, ('fio', name, FIO_URING), 'lat_p99_us'))
                goal = self.fio_goal(name, v, ratio, p99r)
                return [self.median(key, 'iops'),
                        self.ratio(ratio) if v != FIO_URING else '1',
                        self.median(key, 'lat_mean_us'),
                        self.median(key, 'lat_p99_us'),
                        self.ratio(p99r) if v != FIO_URING else '1',
                        self.median(key, 'cpu_us_per_io')], goal

            dio_na = name.startswith('dio') and self.files.get('direct_na')
            plot_row = self.variant_lines(
                lines, label, 'fio', name, [GLIBC] + self.engines + [FIO_URING, FIO_LIBAIO],
                FIO_URING, 'iops', row_cells, 'n/a' if dio_na else None)
            plot_row['target'] = {'pc-qd1': 0.8, 'pc-qd32': 0.95, 'dio-qd32': 0.9,
                                  'fsync': 0.9}.get(name)
            panel.append((name, plot_row))
        checks = []
        for v in [GLIBC] + self.engines:
            key = ('fio', 'verify', v)
            why = self.status(*key)
            n = self.errors(key)
            good = len(values(self.res, key, 'verified_blocks'))
            checks.append(f'{v}: ' + (why or (f'FAILED in {n} of {n + good}' if n else
                                               f'passed ({good} of {good})')))
        lines += ['', f'Data check, `fio --ioengine=posixaio --rw=randwrite --bs=4k --iodepth=32 '
                  f'--verify=crc32c --do_verify=1` on {VERIFY_SIZE // MiB} MiB, each '
                  'repetition: ' + '; '.join(checks) + '.']
        return lines

    def fio_goal(self, name, v, ratio, p99r):
        if v not in self.engines:
            return ''
        if name == 'pc-qd1':
            return '≥0.8x: ' + self.target('page cache QD1 IOPS vs fio io_uring', v, ratio, 0.8)
        if name == 'pc-qd32':
            a = self.target('page cache QD32 IOPS vs fio io_uring', v, ratio, 0.95)
            b = self.target('page cache QD32 p99 vs fio io_uring', v, p99r, 1.5, True)
            return f'≥0.95x: {a}; p99 ≤1.5x: {b}'
        if name == 'dio-qd32':
            a = self.target('O_DIRECT QD32 IOPS vs fio io_uring', v, ratio, 0.9)
            if v != 'kaio':
                return f'≥0.9x: {a}'
            lr = stats(paired(self.res, ('fio', name, v), ('fio', name, FIO_LIBAIO), 'iops'))
            b = self.target('O_DIRECT QD32 IOPS vs fio libaio (native AIO)', v, lr, 0.9)
            return f'≥0.9x: {a}; vs fio libaio {self.ratio(lr)} ≥0.9x: {b}'
        if name == 'fsync':
            return '≥0.9x: ' + self.target('fsync job IOPS vs fio io_uring', v, ratio, 0.9)
        return ''

    # -- threads --
    def threads_table(self):
        lines = table_head('Case', 'Variant', 'Rate (IOPS)', 'vs fio io_uring', 'vs glibc',
                           'vs 1 thread', 'CPU µs/IO', 'Target')
        panel = self.plot['threads'] = []
        rows = [(f'fio-t{n}', n, f'fio --thread --numjobs={n}', 'iops') for n in THREAD_COUNTS]
        rows += [(f'{m}-t{n}', n, f'{n} thread{"s" if n > 1 else ""} waiting by {m}', 'per_sec')
                 for m in THREAD_MODES for n in THREAD_COUNTS]
        for row, n, label, metric in rows:
            fio = row.startswith('fio')
            one = row.rsplit('-', 1)[0] + '-t1'

            def row_cells(v, key, ratio):
                gl = stats(paired(self.res, key, ('threads', row, GLIBC), metric))
                up = stats(paired(self.res, key, ('threads', one, v), metric))
                goal = ''
                if v in self.engines:
                    goals = ['≥1x glibc: ' + self.target(f'{label} vs glibc', v, gl, 1.0)]
                    if fio and n > 1:
                        goals.append('≥0.9x io_uring: ' + self.target(
                            f'{label} vs fio io_uring', v, ratio, 0.9))
                    if n == 2:
                        goals.append('≥1x 1 thread: ' + self.target(
                            f'{label} vs 1 thread', v, up, 1.0))
                    goal = '; '.join(goals)
                return [self.median(key, metric),
                        (self.ratio(ratio) if v != FIO_URING else '1') if fio else '—',
                        self.ratio(gl) if v != GLIBC else '1',
                        self.ratio(up) if n > 1 else '1',
                        self.median(key, 'cpu_us_per_io')], goal

            variants = [GLIBC] + self.engines + ([FIO_URING] if fio else [])
            plot_row = self.variant_lines(lines, label, 'threads', row, variants,
                                          FIO_URING if fio else GLIBC, metric, row_cells)
            if fio:
                plot_row['target'] = 0.9 if n > 1 else None
                panel.append((f'fio t{n}', plot_row))
        return lines

    # -- where glibc is ahead --
    def glibc_ahead(self):
        """Every (label, engine, ratio) where glibc's median beats the library's."""
        rows = [('fio', j[0], j[1], 'iops', False) for j in FIO_JOBS]
        rows += [('threads', f'fio-t{n}', f'fio --thread --numjobs={n}', 'iops', False)
                 for n in THREAD_COUNTS]
        rows += [('threads', f'{m}-t{n}', f'{n} thread{"s" if n > 1 else ""} waiting by {m}',
                  'per_sec', False) for m in THREAD_MODES for n in THREAD_COUNTS]
        rows += [('scale', f'k{k}', f'scale {k:,} outstanding', 'aio_ns_per_req', True)
                 for k in SCALE_KS]
        rows += [('streams', f'{k}-d{d}', f'{k}, {d} outstanding', 'mb_per_s', False)
                 for k, d in STREAM_ROWS]
        rows += [('notify', r, f'SIGEV_{m.upper()} QD{d}', 'per_sec', False)
                 for r, m, d in NOTIFY_ROWS]
        rows += [('stress', 'aio', 'stress-ng --aio', 'bogo_ops_per_sec', False)]
        rows += [('submit', r[0], f'submit time, {r[1]}', 'submit_us', True)
                 for r in SUBMIT_ROWS]
        ahead = []
        for section, row, label, metric, lower in rows:
            if section not in self.args.sections:
                continue
            for v in self.engines:
                s = stats(paired(self.res, (section, row, v), (section, row, GLIBC), metric))
                if s and (s[0] > 1 if lower else s[0] < 1):
                    ahead.append((label, v, 1 / s[0] if lower else s[0]))
        return ahead

    # -- scale --
    def scale_table(self):
        lines = table_head('Outstanding', 'Variant', 'aio ns/request', 'pread ns/request',
                           'aio vs pread (time)', 'aio vs 1,000 (time)', 'same, over pread\'s',
                           'RSS bytes/request', 'Target')
        panel = self.plot['scale'] = []
        for v in [GLIBC] + self.engines:
            for k in SCALE_KS:
                row = f'k{k}'
                key = ('scale', row, v)
                why, flag = self.begin_cell(key)
                t = stats(values(self.res, key, 'aio_ns_per_req'))
                tp = stats(values(self.res, key, 'pread_ns_per_req'))
                rel = stats(paired(self.res, key, key, 'aio_ns_per_req', 'pread_ns_per_req'))
                flat = stats(paired(self.res, key, ('scale', 'k1000', v), 'aio_ns_per_req'))
                flat_rel = stats(flat_vs_pread(self.res, key, ('scale', 'k1000', v)))
                mem = stats(values(self.res, key, 'rss_bytes_per_req'))
                goal = ''
                if v in self.engines and k == 100000:
                    a = self.target('100,000 outstanding: time per request vs pread', v, rel, 2.0,
                                    True)
                    b = self.target('flat 1,000 → 100,000: growth of time per request over '
                                    'pread\'s', v, flat_rel, 1.5, True)
                    c = self.target('library memory per request at 100,000 (bytes)', v, mem, 256,
                                    True)
                    goal = f'≤2x pread: {a}; flat (over pread) ≤1.5x: {b}; ≤256 B: {c}'
                lines.append(table_line(
                    f'{k:,}', v, why, flag,
                    [self.cell(t), self.cell(tp), self.ratio(rel),
                     self.ratio(flat) if k >= 1000 else '—',
                     self.ratio(flat_rel) if k >= 1000 else '—',
                     self.cell(mem) if k >= 1000 else '(page-sized noise)'], goal))
        for k in SCALE_KS:
            # Plotted as throughput relative to pread (higher is better, like the other panels).
            row = {v: stats(paired(self.res, ('scale', f'k{k}', v), ('scale', f'k{k}', v),
                                   'pread_ns_per_req', 'aio_ns_per_req'))
                   for v in [GLIBC] + self.engines}
            row['target'] = 0.5 if k == 100000 else None
            panel.append((f'{k:,}', row))
        return lines

    # -- streams --
    def streams_table(self):
        lines = table_head('Stream', 'Variant', 'MB/s', 'vs two blocking threads', 'Target')
        panel = self.plot['streams'] = []
        for kind, depth in STREAM_ROWS:

            def row_cells(v, key, ratio):
                goal = ''
                if v in self.engines:
                    g = 0.8 if depth == 1 else 1.0
                    goal = f'≥{g}x: ' + self.target(
                        f'{kind} {depth} outstanding vs two blocking threads', v, ratio, g)
                return [self.median(key, 'mb_per_s'),
                        self.ratio(ratio) if v != THREADS else '1'], goal

            plot_row = self.variant_lines(
                lines, f'{kind}, 64 KiB, {depth} outstanding', 'streams', f'{kind}-d{depth}',
                [THREADS, GLIBC] + self.engines, THREADS, 'mb_per_s', row_cells)
            plot_row['target'] = 0.8 if depth == 1 else 1.0
            panel.append((f'{kind} d{depth}', plot_row))
        return lines

    # -- notification --
    def notify_table(self):
        lines = table_head('Case', 'Variant', 'Rate', 'vs glibc', 'CPU µs per completion', 'Target')
        panel = self.plot['notify'] = []
        rows = [('notify', r, f'SIGEV_{m.upper()}, QD{d} (completions/s)', 'per_sec')
                for r, m, d in NOTIFY_ROWS]
        rows.append(('stress', 'aio', 'stress-ng --aio (bogo-ops/s)', 'bogo_ops_per_sec'))
        for section, row, label, metric in rows:
            if section not in self.args.sections:
                continue

            def row_cells(v, key, ratio):
                cpu = '—'
                if section == 'notify':
                    cpu = self.median(key, 'cpu_us_per_completion')
                goal = ''
                if v in self.engines and section == 'notify' and row in NOTIFY_MODES:
                    goal = '≥5x: ' + self.target(f'SIGEV_{row.upper()} throughput vs glibc', v,
                                                 ratio, 5.0)
                return [self.median(key, metric),
                        self.ratio(ratio) if v != GLIBC else '1', cpu], goal

            plot_row = self.variant_lines(lines, label, section, row, [GLIBC] + self.engines,
                                          GLIBC, metric, row_cells)
            plot_row['target'] = 5.0 if section == 'notify' and row in NOTIFY_MODES else None
            panel.append((row if section == 'notify' else 'stress-ng', plot_row))
        return lines

    # -- submit time --
    def submit_table(self):
        lines = table_head('Call', 'Variant', 'µs in the call', 'vs glibc', 'µs to completion')

        def row_cells(v, key, ratio):
            return [self.median(key, 'submit_us'), self.ratio(ratio) if v != GLIBC else '1',
                    self.median(key, 'done_us')], None

        for row, label, _, _ in SUBMIT_ROWS:
            self.variant_lines(lines, label, 'submit', row, [GLIBC] + self.engines, GLIBC,
                               'submit_us', row_cells)
        return lines

    def targets_table(self):
        lines = table_head('Target', 'Engine', 'Median', 'Goal', 'Verdict')
        order = {e: i for i, e in enumerate(self.engines)}
        for what, v, median, verdict, goal in sorted(self.targets, key=lambda t: order[t[1]]):
            lower = any(w in what for w in ('p99', 'pread', 'flat', 'memory'))
            unit = '' if 'memory' in what else 'x'
            m = '—' if median is None else (f'{median:.0f}' if 'memory' in what
                                            else f'{median:.2f}x')
            g = ('≤' if lower else '≥') + (f'{goal:g}' + unit)
            lines.append(f'| {what} | {v} | {m} | {g} | {verdict} |')
        return lines


def glibc_ahead_line(rep):
    ahead = rep.glibc_ahead()
    if not ahead:
        return 'glibc is ahead on no row.'
    return 'glibc is ahead on: ' + '; '.join(f'{label} on {v} ({r:.2f}x glibc)'
                                             for label, v, r in ahead) + '.'


def markdown(args, rep, info, engine_note, failures, command, started, took):
    sec = args.sections
    body = {}
    if 'fio' in sec:
        body['fio'] = rep.fio_table()
    if 'scale' in sec:
        body['scale'] = rep.scale_table()
    if 'streams' in sec:
        body['streams'] = rep.streams_table()
    if 'notify' in sec or 'stress' in sec:
        body['notify'] = rep.notify_table()
    if 'submit' in sec:
        body['submit'] = rep.submit_table()
    if 'threads' in sec:
        body['threads'] = rep.threads_table()

    md = ['# libposixaio benchmark results', '',
          f'Measured {started} in {took / 60:.1f} min with `{command}` '
          f'({args.reps} interleaved repetition{"s" if args.reps > 1 else ""}'
          f'{", quick mode" if args.quick else ""}).  How the numbers are taken: '
          '[bench/README.md](../bench/README.md).', '',
          'Cells are the median over the repetitions, with [min–max] when there are several.  '
          'Ratios are taken pair by pair inside each repetition, then summarised the same way.  '
          'Targets are judged on the median ratio.  "n/a": the library cannot run that engine '
          'here, or the filesystem has no O_DIRECT; "ERROR": the case failed (see Failures).', '',
          '## Machine', '', '| | |', '|---|---|']
    md += [f'| {k} | {v} |' for k, v in info.items()]
    md += [f'| engine {e} | {engine_note.get(e, "")} |' for e in args.engines]
    md += ['', '![benchmark ratios](bench.png)', '', '## Targets', '']
    fill = len(md)
    titles = {'fio': '## 1. fio: posixaio engine (glibc, library) against io_uring and libaio',
              'scale': '## 2. Scale: K outstanding aio_reads on one descriptor',
              'streams': '## 3. Streams: pipe and socketpair',
              'notify': '## 4. Notification',
              'submit': '## 6. Submit time: how long the submitting call holds the caller',
              'threads': '## 7. Threads: several threads submitting at once'}
    intro = {
        'fio': f'`fio --ioengine=posixaio` (glibc, or under `LD_PRELOAD` with each engine) '
               f'against `--ioengine=io_uring` and `libaio`, {args.runtime:g} s per run, '
               f'{DATA_SIZE // MiB} MiB file, `--invalidate=0`, page cache warm.  CPU µs/IO: '
               'user+system time of the whole fio process tree divided by I/Os.',
        'scale': 'Submit K 4 KiB aio_reads of a page-cached file on one descriptor, wait for '
                 'all, collect all; against K preads in the same process.  Memory: growth of '
                 'VmRSS while the K requests were in flight, per request.',
        'streams': '64 KiB aio_read/aio_write, one thread keeping N requests in flight each way, '
                   'every byte verified; against two threads doing blocking read/write.  Pipe '
                   'buffer 1 MiB.',
        'notify': f'4 KiB reads of a page-cached file, QD{NOTIFY_DEPTH} (and QD1 for signals), '
                  'one notification per request; each notification collects its request and '
                  'submits the next.  '
                  'stress-ng: `--aio 1 --aio-requests 16 --verify`.',
        'submit': 'Time inside aio_read or lio_listio(LIO_NOWAIT) alone, page-cached file, '
                  'median of 21 calls per repetition (5 with --quick), each waited for with '
                  'aio_suspend before the next; ratio: library / glibc in the same repetition.',
    }
    intro['threads'] = (
        f'4 KiB random reads of a page-cached file, {THREAD_DEPTH} in flight per thread.  '
        '`fio --thread --numjobs=N --group_reporting` (posixaio under each variant, and '
        'fio\'s io_uring engine with the same threads); then `bench/threads.c`: N threads, '
        'each on its own descriptor, waiting by `aio_suspend` on its list or by polling '
        '`aio_error` with `sched_yield` between empty rounds.  "vs 1 thread": the same '
        'variant\'s one-thread rate in the same repetition.')
    for s in ('fio', 'threads', 'scale', 'streams', 'notify', 'submit'):
        if s in body:
            md += ['', titles[s], '', intro[s], ''] + body[s]
    md[fill:fill] = rep.targets_table() + ['', '### Where glibc is ahead', '',
                                            glibc_ahead_line(rep)]
    md += ['', '## Failures', '']
    if failures:
        for r, s, row, v, msg, detail in failures:
            md += [f'- repetition {r + 1}, {s} {row} on {v}: {msg}']
            if detail.strip():
                md += ['', '  ```', *['  ' + line for line in detail.strip().splitlines()],
                       '  ```', '']
    else:
        md += ['None: every case ran, every check passed.']
    md += ['', 'Raw per-repetition numbers are kept in `bench/out/` (not committed).', '']
    return '\n'.join(md)
