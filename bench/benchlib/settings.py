# SPDX-License-Identifier: LGPL-2.1-or-later
# The command line: its options, their defaults, and the settings derived from them.

import argparse
import datetime
import os

from .common import HERE, MiB, REPO, SECTIONS


def parse_args(description):
    ap = argparse.ArgumentParser(
        prog='bench/run', description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog='Exit status: 0 all cases ran, 1 a case failed (error, hang, wrong data), '
               '2 the library did not build (its columns skipped).')
    ap.add_argument('--reps', type=int, default=None,
                    help='repetitions (default 5; 1 with --quick)')
    ap.add_argument('--quick', action='store_true',
                    help='smoke test: one short repetition of everything (about 2 minutes)')
    ap.add_argument('--dir', default='/var/tmp/posixaio-bench',
                    help='working directory for the data files (about 800 MiB; '
                         'default %(default)s)')
    ap.add_argument('--builddir', default=os.path.join(REPO, 'build-bench'),
                    help='meson build directory for the library (default %(default)s)')
    ap.add_argument('--out', default=None,
                    help='directory for raw results (default bench/out/<date-time>)')
    ap.add_argument('--only', default=','.join(SECTIONS),
                    help='comma-separated sections to run: ' + ','.join(SECTIONS))
    ap.add_argument('--engines', default='uring,kaio',
                    help='library engines to measure (POSIXAIO_ENGINE values; default %(default)s)')
    ap.add_argument('--runtime', type=float, default=None,
                    help='seconds per fio run (default 5; 1 with --quick)')
    ap.add_argument('--docs', dest='docs', action='store_true', default=None,
                    help='write docs/bench-results.md and docs/bench.png (default unless --quick)')
    ap.add_argument('--no-docs', dest='docs', action='store_false')
    ap.add_argument('--no-build', action='store_true',
                    help='use the library already in --builddir, do not run meson/ninja')
    ap.add_argument('--fail-fast', action='store_true', help='stop at the first failed case')
    ap.add_argument('--report', metavar='OUTDIR',
                    help='run nothing: remake the tables and plot from the raw results of an '
                         'earlier run (bench/out/<date-time>)')
    args = ap.parse_args()
    if args.report:
        return args

    args.sections = [s for s in args.only.split(',') if s]
    for s in args.sections:
        if s not in SECTIONS:
            ap.error(f'unknown section {s!r}; known: {", ".join(SECTIONS)}')
    args.engines = [e for e in args.engines.split(',') if e]
    if args.reps is None:
        args.reps = 1 if args.quick else 5
    if args.reps < 1:
        ap.error('--reps must be at least 1')
    if args.runtime is None:
        args.runtime = 1 if args.quick else 5
    if args.docs is None:
        args.docs = not args.quick
    args.builddir = os.path.abspath(args.builddir)
    if os.path.realpath(args.builddir) == os.path.realpath(os.path.join(REPO, 'build')):
        ap.error('the benchmark never uses the main build directory: pick another --builddir')
    args.dir = os.path.abspath(args.dir)
    stamp = datetime.datetime.now().strftime('%Y%m%d-%H%M%S')
    args.out = os.path.abspath(args.out or os.path.join(HERE, 'out', stamp))

    q = args.quick
    args.scale_min_reqs = 20000 if q else 200000
    args.scale_max_sec = 0.3 if q else 1.0
    args.stream_bytes = 256 * MiB if q else 1024 * MiB
    args.notify_sec = 0.5 if q else 2.0
    args.stress_sec = 1 if q else 5
    args.submit_reps = 5 if q else 21
    args.threads_sec = 0.5 if q else 2.0
    return args
