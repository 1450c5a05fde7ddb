# SPDX-License-Identifier: LGPL-2.1-or-later
# The environment each variant runs in, and the probe that checks the preloaded library really
# serves the engine asked for.

import os

from .common import FIO_LIBAIO, FIO_URING, GLIBC, THREADS, CaseError, json_line, loud, run, tail


def base_env():
    env = dict(os.environ)
    for k in list(env):
        if k == 'LD_PRELOAD' or k.startswith('POSIXAIO_'):
            del env[k]
    return env


def lib_env(lib, engine):
    env = base_env()
    env['LD_PRELOAD'] = lib
    env['POSIXAIO_ENGINE'] = engine
    return env


def engine_alias(name):
    n = (name or '').lower()
    if 'uring' in n:
        return 'uring'
    if 'kaio' in n or 'aio' in n or 'native' in n:
        return 'kaio'
    return n


def probe_engine(bindir, lib, engine, data):
    """'ok', or ('n/a', why) when the library cannot run that engine; raises if broken."""
    cmd = [os.path.join(bindir, 'probe'), data]
    out, err, _ = run(cmd, env=lib_env(lib, engine), timeout=60)
    res = json_line(out)
    where = res.get('aio_read_from') or ''
    if 'libposixaio' not in where:
        raise CaseError(f'the preloaded library does not serve aio_read (it binds to {where})',
                        err)
    foreign = res.get('not_from_same_object', [])
    if foreign:
        loud(f'Under LD_PRELOAD these entry points do not resolve to the library: '
             f'{", ".join(foreign)}')
        vital = [n for n in foreign if not n.startswith(('lio_listio', 'aio_init'))]
        if vital:
            raise CaseError('the library does not interpose ' + ', '.join(vital) +
                            ' (fio and stress-ng call the *64 names)', err)
    if res.get('error'):
        return 'n/a', f'{res["error"]}' + (f'; stderr: {tail(err, 3)}' if err.strip() else '')
    got = res.get('engine')
    if got is None:
        return 'ok', 'posixaio_engine() not exported: engine not verified'
    if engine_alias(got) != engine:
        return 'n/a', f'POSIXAIO_ENGINE={engine} but the library runs "{got}"' + \
            (f'; stderr: {tail(err, 3)}' if err.strip() else '')
    return 'ok', f'posixaio_engine() = "{got}"'



def env_for(variant, lib):
    if variant in (GLIBC, FIO_URING, FIO_LIBAIO, THREADS):
        return base_env()
    return lib_env(lib, variant)
