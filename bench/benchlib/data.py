# SPDX-License-Identifier: LGPL-2.1-or-later
# The data files the cases read and write: made once, checked on every run, kept between runs.

import mmap
import os
import shutil
import sys

from .common import DATA_SIZE, MiB, log, loud


def write_pattern_file(path, size):
    """Each 8-byte word at offset o holds o: any aligned read is checked by its first word."""
    from array import array
    tmp = path + '.tmp'
    with open(tmp, 'wb') as f:
        for base in range(0, size, MiB):
            array('Q', range(base, base + MiB, 8)).tofile(f)
    os.replace(tmp, path)


def pattern_file_ok(path, size):
    import struct
    try:
        if os.path.getsize(path) != size:
            return False
        with open(path, 'rb') as f:
            for off in (0, size // 2 + 4096, size - 8):
                f.seek(off)
                if struct.unpack('<Q', f.read(8))[0] != off:
                    return False
        return True
    except OSError:
        return False


def direct_io_works(path):
    """O_DIRECT needs the filesystem's support: try one aligned 4 KiB read."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECT)
    except OSError as e:
        return f'open with O_DIRECT: {e.strerror}'
    try:
        buf = mmap.mmap(-1, 4096)
        n = os.preadv(fd, [buf], 4096)
        return None if n == 4096 else f'O_DIRECT read returned {n}'
    except OSError as e:
        return f'O_DIRECT read: {e.strerror}'
    finally:
        os.close(fd)


def prepare_data(args):
    os.makedirs(args.dir, exist_ok=True)
    files = {name: os.path.join(args.dir, name + '.dat') for name in ('pattern', 'direct', 'write')}
    missing = sum(DATA_SIZE for name, p in files.items()
                  if not (os.path.exists(p) and os.path.getsize(p) == DATA_SIZE))
    free = shutil.disk_usage(args.dir).free
    if missing and free < missing + 256 * MiB:
        sys.exit(f'bench/run: {args.dir} has {free // MiB} MiB free, needs {missing // MiB} MiB')
    for name, path in files.items():
        if name == 'write' and os.path.exists(path) and os.path.getsize(path) == DATA_SIZE:
            continue
        if not pattern_file_ok(path, DATA_SIZE):
            log(f'making {path} ({DATA_SIZE // MiB} MiB)')
            write_pattern_file(path, DATA_SIZE)
    files['direct_na'] = direct_io_works(files['direct'])
    if files['direct_na']:
        loud(f'O_DIRECT does not work in {args.dir}: {files["direct_na"]}; '
             'the O_DIRECT rows are n/a (pick another --dir to measure them)')
    return files


def warm_page_cache(path):
    with open(path, 'rb', buffering=0) as f:
        while f.read(8 * MiB):
            pass
