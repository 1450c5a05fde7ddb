# SPDX-License-Identifier: LGPL-2.1-or-later
# What every part of the benchmark shares: where things are, the names of the variants, the
# exit statuses, messages, and running one command with its CPU time counted.

import json
import os
import resource
import signal
import subprocess
import sys

HERE = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
REPO = os.path.dirname(HERE)
DOCS = os.path.join(REPO, 'docs')
MiB = 1 << 20

DATA_SIZE = 256 * MiB           # each of the three data files
SECTIONS = ('fio', 'threads', 'scale', 'streams', 'notify', 'stress', 'submit')

# Variants.  "glibc" runs the program as it is; the engine variants preload the library.
GLIBC = 'glibc'
FIO_URING = 'fio io_uring'
FIO_LIBAIO = 'fio libaio'
THREADS = 'threads'

MAX_HANGS = 2                   # then an engine's remaining cases are skipped
EXIT_FAILED = 1
EXIT_NO_LIBRARY = 2


class CaseError(Exception):
    """A run failed: bad exit, hang, error in its output or failed data verification."""

    def __init__(self, msg, detail='', hang=False):
        super().__init__(msg)
        self.detail = detail
        self.hang = hang


def log(msg=''):
    print(msg, flush=True)


def loud(msg):
    bar = '!' * 78
    print(f'\n{bar}\n!!! ' + msg.replace('\n', '\n!!! ') + f'\n{bar}\n', file=sys.stderr,
          flush=True)


def tail(text, lines=15):
    return '\n'.join(text.strip().splitlines()[-lines:])


def children_cpu():
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def run(cmd, env=None, timeout=120, cwd=None):
    """Run cmd; return (stdout, stderr, cpu seconds of it and all its descendants).

    The CPU time is the growth of RUSAGE_CHILDREN across the run: every thread of every
    process the command started, io_uring and AIO helper threads included, once they have
    been waited for.  Only one command runs at a time, so nothing else is counted.
    """
    cpu0 = children_cpu()
    p = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, errors='replace', start_new_session=True)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, err = p.communicate()
        raise CaseError(f'no result in {timeout} s: killed (hang?)', tail(err), hang=True)
    cpu = children_cpu() - cpu0
    if p.returncode < 0:
        raise CaseError(f'killed by signal {-p.returncode} ({signal.Signals(-p.returncode).name})',
                        tail(err))
    if p.returncode != 0:
        raise CaseError(f'exit status {p.returncode}', tail(err + '\n' + out))
    return out, err, cpu


def json_line(out):
    for line in reversed(out.splitlines()):
        if line.startswith('{'):
            return json.loads(line)
    raise CaseError('no JSON result line in the output', tail(out))
