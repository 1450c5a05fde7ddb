# SPDX-License-Identifier: LGPL-2.1-or-later
# What is measured: the machine's description, the library's release build and the benchmark
# programs.

import glob
import os
import re
import shlex
import subprocess
import sys

from .common import HERE, REPO, loud, tail

PROGRAMS = ('scale', 'streams', 'notify', 'submit_time', 'probe', 'threads')


def first_line(cmd):
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout
        return out.strip().splitlines()[0] if out.strip() else 'unknown'
    except (OSError, subprocess.SubprocessError):
        return 'unknown'


def machine_info():
    cpu = 'unknown'
    with open('/proc/cpuinfo') as f:
        for line in f:
            if line.startswith('model name'):
                cpu = line.split(':', 1)[1].strip()
                break
    with open('/proc/meminfo') as f:
        mem_kb = int(f.readline().split()[1])
    commit = first_line(['git', '-C', REPO, 'rev-parse', '--short', 'HEAD'])
    dirty = first_line(['git', '-C', REPO, 'status', '--porcelain', '--untracked-files=no'])
    if commit == 'unknown':
        commit = 'no commit yet'
    elif dirty != 'unknown':
        commit += ' (with uncommitted changes)'
    return {
        'nproc': str(os.cpu_count()),
        'cpu': cpu,
        'memory': f'{mem_kb / (1 << 20):.1f} GiB',
        'kernel': os.uname().release,
        'glibc': os.confstr('CS_GNU_LIBC_VERSION') or 'unknown',
        'liburing': first_line(['pkg-config', '--modversion', 'liburing']),
        'libaio': first_line(['dpkg-query', '-W', '-f', '${Version}\n', 'libaio1']),
        'fio': first_line(['fio', '--version']),
        'stress-ng': first_line(['stress-ng', '--version']),
        'compiler': first_line([os.environ.get('CC', 'cc'), '--version']),
        'libposixaio': commit,
    }


def meson_option_names():
    try:
        with open(os.path.join(REPO, 'meson_options.txt')) as f:
            return set(re.findall(r"option\(\s*'([^']+)'", f.read()))
    except OSError:
        return set()


def build_library(args, logpath):
    """Build with meson; return the library path, or None (with a loud message) if it fails."""
    names = meson_option_names()
    opts = ['-Dbuildtype=release']
    if 'tests' in names:
        opts.append('-Dtests=false')
    if 'opts' in names:
        opts.append('-Dopts=disabled')
    bd = args.builddir
    if os.path.exists(os.path.join(bd, 'build.ninja')):
        steps = [['meson', 'configure', bd] + opts]
    else:
        wipe = ['--wipe'] if os.path.isdir(os.path.join(bd, 'meson-private')) else []
        steps = [['meson', 'setup'] + wipe + opts + [bd, REPO]]
    steps.append(['ninja', '-C', bd])
    lib = os.path.join(bd, 'src', 'libposixaio.so')
    with open(logpath, 'w') as logf:
        for cmd in steps:
            logf.write('$ ' + shlex.join(cmd) + '\n')
            logf.flush()
            try:
                r = subprocess.run(cmd, stdout=logf, stderr=subprocess.STDOUT, timeout=900,
                                   cwd=REPO)
            except subprocess.TimeoutExpired:
                r = None
            if r is not None and r.returncode == 0:
                continue
            if cmd[0] == 'ninja':
                # Something else in the tree may be broken; the library alone is enough.
                logf.write('$ ninja -C ' + bd + ' src/libposixaio.so\n')
                logf.flush()
                r = subprocess.run(['ninja', '-C', bd, 'src/libposixaio.so'], stdout=logf,
                                   stderr=subprocess.STDOUT, timeout=900, cwd=REPO)
                if r.returncode == 0 and os.path.exists(lib):
                    loud('The full build failed but src/libposixaio.so built: going on with it.\n'
                         f'Build log: {logpath}')
                    return lib
            with open(logpath) as f:
                log_tail = tail(f.read(), 25)
            loud('THE LIBRARY DID NOT BUILD: every libposixaio column is skipped.\n'
                 f'Step: {shlex.join(cmd)}\nBuild log: {logpath}\n\n{log_tail}')
            return None
    if not os.path.exists(lib):
        found = glob.glob(os.path.join(bd, '**', 'libposixaio.so'), recursive=True)
        if not found:
            loud(f'The build succeeded but made no {lib}: every libposixaio column is skipped.')
            return None
        lib = found[0]
        loud(f'libposixaio.so is not in <builddir>/src; using {lib}')
    return lib


def build_programs(bindir):
    os.makedirs(bindir, exist_ok=True)
    cc = os.environ.get('CC', 'cc')
    for prog in PROGRAMS:
        cmd = [cc, '-std=gnu11', '-O2', '-g', '-fPIE', '-pie', '-D_GNU_SOURCE', '-Wall', '-Wextra',
               '-Werror', '-o', os.path.join(bindir, prog), os.path.join(HERE, prog + '.c'),
               '-lrt', '-lpthread', '-ldl']
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        if r.returncode != 0:
            sys.exit(f'bench/run: cannot build {prog}.c:\n{r.stdout}{r.stderr}')
