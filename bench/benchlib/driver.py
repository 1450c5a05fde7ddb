# SPDX-License-Identifier: LGPL-2.1-or-later
# The order of a run: build, data, engine probes, the interleaved repetitions that write
# raw.jsonl and meta.json, then the outputs; and --report, which remakes the outputs from them.

import argparse
import datetime
import json
import os
import shlex
import shutil
import sys
import time

from .build import build_library, build_programs, machine_info
from .cases import build_cases, quick_metric
from .common import DOCS, EXIT_FAILED, EXIT_NO_LIBRARY, MAX_HANGS, CaseError, log, loud
from .data import prepare_data, warm_page_cache
from .engines import env_for, probe_engine
from .plot import plot
from .report import Report, glibc_ahead_line, markdown
from .settings import parse_args


def run_all(args, cases, lib, engine_state, files, raw):
    """results[(section,row,variant)] = list over reps of dict | {'error':..} | None."""
    results = {}
    failures = []
    hangs = {}
    for rep in range(args.reps):
        log(f'\n=== repetition {rep + 1}/{args.reps} ===')
        warm_page_cache(files['pattern'])
        for section, row, label, na, variants in cases:
            k = rep % len(variants)
            for variant, fn in variants[k:] + variants[:k]:
                key = (section, row, variant)
                results.setdefault(key, [None] * args.reps)
                state = engine_state.get(variant, 'ok')
                if na or state != 'ok':
                    continue
                t0 = time.monotonic()
                try:
                    r = fn(env_for(variant, lib))
                    results[key][rep] = r
                    log(f'  {section:7} {row:9} {variant:12} {quick_metric(section, r)}')
                except CaseError as e:
                    results[key][rep] = {'error': str(e), 'detail': e.detail}
                    failures.append((rep, section, row, variant, str(e), e.detail))
                    loud(f'FAILED: {section} {row} on {variant} (repetition {rep + 1}): {e}\n'
                         + e.detail)
                    r = {'error': str(e), 'detail': e.detail}
                    hangs[variant] = hangs.get(variant, 0) + e.hang
                    if e.hang and hangs[variant] >= MAX_HANGS and variant in engine_state:
                        engine_state[variant] = 'ERROR'
                        loud(f'{variant} hung {MAX_HANGS} times: its remaining cases are skipped')
                raw.write(json.dumps({'rep': rep, 'section': section, 'row': row,
                                      'variant': variant, 'seconds': time.monotonic() - t0,
                                      **r}) + '\n')
                raw.flush()
                if failures and args.fail_fast:
                    return results, failures
    return results, failures



def finish(args, results, failures, lib, engine_state, engine_note, files, info, command,
           started, took):
    """Tables, plot, docs; returns the exit status."""
    rep = Report(args, results, engine_state, engine_note, args.engines, files)
    md = markdown(args, rep, info, engine_note, failures, command, started, took)
    with open(os.path.join(args.out, 'bench-results.md'), 'w') as f:
        f.write(md)
    err = plot(args, rep, os.path.join(args.out, 'bench.png'))
    if err:
        loud(f'no plot: {err}')
    log('\n' + md)
    if args.docs:
        os.makedirs(DOCS, exist_ok=True)
        shutil.copy(os.path.join(args.out, 'bench-results.md'),
                    os.path.join(DOCS, 'bench-results.md'))
        if not err:
            shutil.copy(os.path.join(args.out, 'bench.png'), os.path.join(DOCS, 'bench.png'))
        log(f'wrote {DOCS}/bench-results.md' + ('' if err else ' and bench.png') +
            ('' if not err else f' (bench.png left as it was: {err})'))
    log(f'raw results: {args.out}')
    log(glibc_ahead_line(rep))

    if failures:
        loud(f'{len(failures)} case(s) FAILED; see "Failures" above and {args.out}/raw.jsonl')
        return EXIT_FAILED
    if any(engine_state.get(e) == 'ERROR' for e in args.engines):
        loud('the library failed its probe on some engine; see above')
        return EXIT_FAILED
    if lib is None:
        loud('the library did not build: its columns were skipped')
        return EXIT_NO_LIBRARY
    return 0


def report_only(args):
    """Remake the outputs of an earlier run from its meta.json and raw.jsonl."""
    out = os.path.abspath(args.report)
    docs = args.docs
    with open(os.path.join(out, 'meta.json')) as f:
        meta = json.load(f)
    args = argparse.Namespace(**meta['settings'])
    args.out = out
    args.docs = bool(docs)
    engine_state = {e: v[0] for e, v in meta['engines'].items()}
    engine_note = {e: v[1] for e, v in meta['engines'].items()}
    results, failures = {}, []
    with open(os.path.join(out, 'raw.jsonl')) as f:
        for line in f:
            r = json.loads(line)
            key = (r['section'], r['row'], r['variant'])
            results.setdefault(key, [None] * args.reps)[r['rep']] = r
            if 'error' in r:
                failures.append((r['rep'], r['section'], r['row'], r['variant'], r['error'],
                                 r.get('detail', '')))
    files = {'direct_na': meta.get('direct_na')}
    lib = meta.get('library')
    return finish(args, results, failures, lib, engine_state, engine_note, files,
                  meta['machine'], meta['command'], meta['started'], meta.get('took', 0))


def main(doc):
    args = parse_args(doc.split('\n\n')[0])
    if args.report:
        return report_only(args)
    command = 'bench/run ' + shlex.join(sys.argv[1:]) if sys.argv[1:] else 'bench/run'
    started = datetime.datetime.now().strftime('%Y-%m-%d %H:%M')
    t_start = time.monotonic()
    os.makedirs(args.out, exist_ok=True)
    log(f'bench/run: {args.reps} repetition(s), sections {",".join(args.sections)}; '
        f'raw results in {args.out}')

    info = machine_info()
    bindir = os.path.join(args.out, 'bin')
    build_programs(bindir)
    if args.no_build:
        lib = os.path.join(args.builddir, 'src', 'libposixaio.so')
        if not os.path.exists(lib):
            loud(f'--no-build: {lib} does not exist; every libposixaio column is skipped')
            lib = None
    else:
        log(f'building libposixaio in {args.builddir} (buildtype=release)')
        lib = build_library(args, os.path.join(args.out, 'build.log'))
    files = prepare_data(args)

    engine_state, engine_note = {}, {}
    for e in args.engines:
        if lib is None:
            engine_state[e], engine_note[e] = 'skipped', 'library did not build'
            continue
        try:
            engine_state[e], engine_note[e] = probe_engine(bindir, lib, e, files['pattern'])
        except CaseError as err:
            engine_state[e], engine_note[e] = 'ERROR', f'{err}: {err.detail.strip()}'
            loud(f'The library is broken on engine {e}: {err}\n{err.detail}')
        log(f'engine {e}: {engine_state[e]} ({engine_note[e]})')
        if engine_state[e] == 'n/a':
            loud(f'engine {e} is n/a: {engine_note[e]}')
    info['libposixaio'] += f', {lib}' if lib else ', not built'

    meta = {'command': command, 'started': started, 'machine': info, 'library': lib,
            'direct_na': files['direct_na'],
            'engines': {e: [engine_state[e], engine_note[e]] for e in args.engines},
            'settings': dict(vars(args))}
    with open(os.path.join(args.out, 'meta.json'), 'w') as f:
        json.dump(meta, f, indent=1)
    cases = build_cases(args, files, bindir, args.engines)
    with open(os.path.join(args.out, 'raw.jsonl'), 'w') as raw:
        results, failures = run_all(args, cases, lib, engine_state, files, raw)
    took = time.monotonic() - t_start
    meta['took'] = took
    for e in args.engines:
        if engine_state[e] == 'ERROR' and meta['engines'][e][0] != 'ERROR':
            engine_note[e] = f'hung {MAX_HANGS} times during the run; later cases skipped'
        meta['engines'][e] = [engine_state[e], engine_note[e]]
    with open(os.path.join(args.out, 'meta.json'), 'w') as f:
        json.dump(meta, f, indent=1)
    return finish(args, results, failures, lib, engine_state, engine_note, files, info, command,
                  started, took)
