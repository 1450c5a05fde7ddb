# SPDX-License-Identifier: LGPL-2.1-or-later
# Each benchmark case (fio, scale, streams, notify, stress, submit): its rows, the command it
# runs and the metrics it returns for one run, or a CaseError.

import json
import os
import re

from .common import (DATA_SIZE, FIO_LIBAIO, FIO_URING, GLIBC, THREADS, CaseError, MiB, json_line,
                     run, tail)

FIO_JOBS = [
    # name, label, rw, bs, iodepth, direct, fsync
    ('pc-qd1', 'page cache 4 KiB randread QD1', 'randread', '4k', 1, False, 0),
    ('pc-qd8', 'page cache 4 KiB randread QD8', 'randread', '4k', 8, False, 0),
    ('pc-qd32', 'page cache 4 KiB randread QD32', 'randread', '4k', 32, False, 0),
    ('pc-qd128', 'page cache 4 KiB randread QD128', 'randread', '4k', 128, False, 0),
    ('dio-qd1', 'O_DIRECT 4 KiB randread QD1', 'randread', '4k', 1, True, 0),
    ('dio-qd32', 'O_DIRECT 4 KiB randread QD32', 'randread', '4k', 32, True, 0),
    ('pc-wr-qd16', 'page cache 4 KiB randwrite QD16', 'randwrite', '4k', 16, False, 0),
    ('fsync', '128 KiB write, fsync every 32, QD8', 'write', '128k', 8, False, 32),
]


def fio_case(args, files, job, env, ioengine):
    name, _, rw, bs, depth, direct, fsync = job
    path = files['direct' if direct else ('write' if 'write' in rw else 'pattern')]
    cmd = ['fio', '--name=' + name, '--filename=' + path, f'--size={DATA_SIZE}', '--rw=' + rw,
           '--bs=' + bs, f'--iodepth={depth}', '--ioengine=' + ioengine, '--invalidate=0',
           '--time_based', f'--runtime={args.runtime:g}', '--ramp_time=0',
           '--lat_percentiles=1', '--output-format=json']
    if rw.startswith('rand'):
        cmd += ['--norandommap']
    if direct:
        cmd += ['--direct=1']
    if fsync:
        cmd += [f'--fsync={fsync}']
    out, err, cpu = run(cmd, env=env, timeout=args.runtime + 30, cwd=args.dir)
    try:
        doc = json.loads(out[out.index('{'):])
        j = doc['jobs'][0]
    except (ValueError, KeyError, IndexError):
        raise CaseError('fio printed no JSON result', tail(err + out))
    if j.get('error'):
        raise CaseError(f'fio job error {j["error"]} ({os.strerror(j["error"])})', tail(err))
    d = j['write' if 'write' in rw else 'read']
    if not d.get('total_ios'):
        raise CaseError('fio did no I/O', tail(err))
    lat = d['lat_ns']
    return {
        'iops': d['iops'],
        'lat_mean_us': lat['mean'] / 1e3,
        'lat_p99_us': lat['percentile']['99.000000'] / 1e3,
        # Whole fio (job process, all its threads, io_uring workers) per I/O; no ramp, so
        # every I/O of the run is counted.  fio's own usr_cpu/sys_cpu is the job thread only.
        'cpu_us_per_io': cpu * 1e6 / d['total_ios'],
        'fio_usr_cpu_pct': j['usr_cpu'],
        'fio_sys_cpu_pct': j['sys_cpu'],
        'total_ios': d['total_ios'],
        'stderr': err.strip()[-2000:],
    }


def fio_verify_case(args, env):
    """A correctness check, not a measurement: random writes at QD32, read back, crc32c."""
    cmd = ['fio', '--name=verify', '--filename=' + os.path.join(args.dir, 'verify.dat'),
           f'--size={VERIFY_SIZE}', '--rw=randwrite', '--bs=4k', '--iodepth=32',
           '--ioengine=posixaio', '--verify=crc32c', '--do_verify=1', '--verify_fatal=1',
           '--output-format=json']
    out, err, _ = run(cmd, env=env, timeout=120, cwd=args.dir)
    try:
        j = json.loads(out[out.index('{'):])['jobs'][0]
    except (ValueError, KeyError, IndexError):
        raise CaseError('fio printed no JSON result', tail(err + out))
    if j.get('error'):
        raise CaseError(f'fio verify job error {j["error"]} ({os.strerror(j["error"])})',
                        tail(err))
    want = VERIFY_SIZE // 4096
    if j['write']['total_ios'] != want or j['read']['total_ios'] != want:
        raise CaseError(f'fio verify: {j["write"]["total_ios"]} writes and '
                        f'{j["read"]["total_ios"]} reads, want {want} of each', tail(err))
    return {'verified_blocks': want, 'write_iops': j['write']['iops']}


VERIFY_SIZE = 32 * MiB
SCALE_KS = (1, 1000, 10000, 100000)


def scale_case(args, bindir, files, k, env):
    cmd = [os.path.join(bindir, 'scale'), files['pattern'], str(k), str(args.scale_min_reqs),
           str(args.scale_max_sec)]
    out, err, cpu = run(cmd, env=env, timeout=180)
    r = json_line(out)
    r['cpu_sec'] = cpu
    return r


STREAM_ROWS = [('pipe', 1), ('pipe', 16), ('socket', 1), ('socket', 16)]


def streams_case(args, bindir, kind, depth, mode, env):
    cmd = [os.path.join(bindir, 'streams'), kind, mode, str(depth), str(args.stream_bytes)]
    out, err, _ = run(cmd, env=env, timeout=120)
    return json_line(out)


NOTIFY_MODES = ('signal', 'thread')
NOTIFY_DEPTH = 16
# (row, mode, depth): each mode at NOTIFY_DEPTH, and signals one at a time, where the
# thread that sends each one is on the path of every request.
NOTIFY_ROWS = [(m, m, NOTIFY_DEPTH) for m in NOTIFY_MODES] + [('signal-qd1', 'signal', 1)]


def notify_case(args, bindir, files, mode, depth, env):
    cmd = [os.path.join(bindir, 'notify'), mode, files['pattern'], str(depth),
           str(args.notify_sec)]
    out, err, _ = run(cmd, env=env, timeout=args.notify_sec + 60)
    return json_line(out)


def stress_case(args, env):
    yaml = os.path.join(args.dir, 'stress-ng.yaml')
    if os.path.exists(yaml):
        os.unlink(yaml)
    cmd = ['stress-ng', '--aio', '1', '--aio-requests', '16', '--timeout', f'{args.stress_sec}s',
           '--verify', '--metrics-brief', '--yaml', yaml, '--temp-path', args.dir]
    out, err, cpu = run(cmd, env=env, timeout=args.stress_sec + 60)
    text = out + err
    if re.search(r'\bfail\b|\berror\b', text, re.I) and 'successful run completed' not in text:
        raise CaseError('stress-ng reported a failure', tail(text))
    try:
        with open(yaml) as f:
            y = f.read()
    except OSError:
        raise CaseError('stress-ng wrote no metrics', tail(text))
    m = re.search(r'bogo-ops-per-second-real-time:\s*([0-9.e+]+)', y)
    ops = re.search(r'bogo-ops:\s*([0-9]+)', y)
    if not m or not ops or int(ops.group(1)) == 0:
        raise CaseError('stress-ng did no aio work', y[-1500:])
    return {'bogo_ops_per_sec': float(m.group(1)), 'bogo_ops': int(ops.group(1)),
            'cpu_sec': cpu}


SUBMIT_ROWS = [
    # row, label, mode, size of each read
    ('read-4k', 'aio_read 4 KiB', 'read', 4096),
    ('read-1m', 'aio_read 1 MiB', 'read', MiB),
    ('read-16m', 'aio_read 16 MiB', 'read', 16 * MiB),
    ('lio-10x16m', 'lio_listio(LIO_NOWAIT) 10 x 16 MiB', 'lio', 16 * MiB),
]


def submit_case(args, bindir, files, mode, size, env):
    cmd = [os.path.join(bindir, 'submit_time'), mode, files['pattern'], str(size),
           str(args.submit_reps)]
    out, err, _ = run(cmd, env=env, timeout=180)
    return json_line(out)


THREAD_COUNTS = (1, 2, 4)
THREAD_DEPTH = 16
THREAD_MODES = ('suspend', 'poll')


def fio_threads_case(args, files, n, env, ioengine):
    """fio --thread --numjobs=n: n threads in one process, 4 KiB cached random reads."""
    cmd = ['fio', f'--name=t{n}', '--filename=' + files['pattern'], f'--size={DATA_SIZE}',
           '--rw=randread', '--bs=4k', f'--iodepth={THREAD_DEPTH}', '--ioengine=' + ioengine,
           '--invalidate=0', '--norandommap', '--thread', f'--numjobs={n}', '--group_reporting',
           '--time_based', f'--runtime={args.runtime:g}', '--ramp_time=0',
           '--output-format=json']
    out, err, cpu = run(cmd, env=env, timeout=args.runtime + 30, cwd=args.dir)
    try:
        j = json.loads(out[out.index('{'):])['jobs'][0]
    except (ValueError, KeyError, IndexError):
        raise CaseError('fio printed no JSON result', tail(err + out))
    if j.get('error'):
        raise CaseError(f'fio job error {j["error"]} ({os.strerror(j["error"])})', tail(err))
    d = j['read']
    if not d.get('total_ios'):
        raise CaseError('fio did no I/O', tail(err))
    return {'iops': d['iops'], 'cpu_us_per_io': cpu * 1e6 / d['total_ios'],
            'total_ios': d['total_ios']}


def threads_case(args, bindir, files, n, mode, env):
    cmd = [os.path.join(bindir, 'threads'), files['pattern'], str(n), mode, str(THREAD_DEPTH),
           f'{args.threads_sec:g}']
    out, err, cpu = run(cmd, env=env, timeout=args.threads_sec + 60)
    r = json_line(out)
    r['cpu_us_per_io'] = cpu * 1e6 / max(r['completions'], 1)
    return r


def build_cases(args, files, bindir, lib_variants):
    """(section, row, label, [(variant, env-or-None, fn(env))]) in running order."""
    cases = []
    if 'fio' in args.sections:
        for job in FIO_JOBS:
            variants = [(GLIBC, 'posixaio')] + [(e, 'posixaio') for e in lib_variants] + \
                [(FIO_URING, 'io_uring'), (FIO_LIBAIO, 'libaio')]
            na = files['direct_na'] if job[5] else None
            cases.append(('fio', job[0], job[1], na, [
                (v, (lambda env, job=job, eng=eng: fio_case(args, files, job, env, eng)))
                for v, eng in variants]))
        cases.append(('fio', 'verify', 'fio --verify=crc32c', None, [
            (v, (lambda env: fio_verify_case(args, env))) for v in [GLIBC] + lib_variants]))
    if 'scale' in args.sections:
        for k in SCALE_KS:
            cases.append(('scale', f'k{k}', f'{k:,} outstanding', None, [
                (v, (lambda env, k=k: scale_case(args, bindir, files, k, env)))
                for v in [GLIBC] + lib_variants]))
    if 'streams' in args.sections:
        for kind, depth in STREAM_ROWS:
            row = [(THREADS, (lambda env, kind=kind: streams_case(args, bindir, kind, 1,
                                                                  'threads', env)))]
            row += [(v, (lambda env, kind=kind, depth=depth: streams_case(
                args, bindir, kind, depth, 'aio', env))) for v in [GLIBC] + lib_variants]
            cases.append(('streams', f'{kind}-d{depth}',
                          f'{kind}, 64 KiB, {depth} outstanding', None, row))
    if 'notify' in args.sections:
        for row, mode, depth in NOTIFY_ROWS:
            cases.append(('notify', row, f'SIGEV_{mode.upper()}, QD{depth}', None, [
                (v, (lambda env, mode=mode, depth=depth: notify_case(args, bindir, files, mode,
                                                                     depth, env)))
                for v in [GLIBC] + lib_variants]))
    if 'stress' in args.sections:
        cases.append(('stress', 'aio', 'stress-ng --aio 1 --aio-requests 16', None, [
            (v, (lambda env: stress_case(args, env))) for v in [GLIBC] + lib_variants]))
    if 'threads' in args.sections:
        for n in THREAD_COUNTS:
            variants = [(GLIBC, 'posixaio')] + [(e, 'posixaio') for e in lib_variants] + \
                [(FIO_URING, 'io_uring')]
            cases.append(('threads', f'fio-t{n}', f'fio --thread --numjobs={n}', None, [
                (v, (lambda env, n=n, eng=eng: fio_threads_case(args, files, n, env, eng)))
                for v, eng in variants]))
        for mode in THREAD_MODES:
            for n in THREAD_COUNTS:
                cases.append(('threads', f'{mode}-t{n}', f'{n} threads waiting by {mode}', None, [
                    (v, (lambda env, n=n, mode=mode: threads_case(args, bindir, files, n, mode,
                                                                  env)))
                    for v in [GLIBC] + lib_variants]))
    if 'submit' in args.sections:
        for row, label, mode, size in SUBMIT_ROWS:
            cases.append(('submit', row, label, None, [
                (v, (lambda env, mode=mode, size=size: submit_case(args, bindir, files, mode,
                                                                   size, env)))
                for v in [GLIBC] + lib_variants]))
    return cases



def quick_metric(section, r):
    if section == 'fio' and 'verified_blocks' in r:
        return f'{r["verified_blocks"]} blocks written and verified'
    if section == 'fio':
        return f'{r["iops"]:,.0f} IOPS, p99 {r["lat_p99_us"]:.1f} us, ' \
               f'{r["cpu_us_per_io"]:.2f} us CPU/IO'
    if section == 'scale':
        return f'{r["aio_ns_per_req"]:.0f} ns/req (pread {r["pread_ns_per_req"]:.0f}), ' \
               f'{r["rss_bytes_per_req"]:.0f} B/req'
    if section == 'streams':
        return f'{r["mb_per_s"]:.0f} MB/s'
    if section == 'notify':
        return f'{r["per_sec"]:,.0f}/s, {r["cpu_us_per_completion"]:.2f} us CPU each'
    if section == 'threads' and 'iops' in r:
        return f'{r["iops"]:,.0f} IOPS, {r["cpu_us_per_io"]:.2f} us CPU/IO'
    if section == 'threads':
        return f'{r["per_sec"]:,.0f}/s, least thread {r["least_thread_share"]:.2f} of a fair share'
    if section == 'submit':
        return f'{r["submit_us"]:.1f} us in the call, {r["done_us"]:.0f} us to completion'
    return f'{r["bogo_ops_per_sec"]:,.0f} bogo-ops/s'
