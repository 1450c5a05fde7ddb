# SPDX-License-Identifier: LGPL-2.1-or-later
# The plot (bench.png): five panels of median ratios with min-max whiskers and the targets,
# drawn by gnuplot from the ratios Report.plot holds.

import os
import shutil
import subprocess

from .common import FIO_LIBAIO, GLIBC

COLOURS = {GLIBC: '#9b59b6', 'uring': '#16a085', 'kaio': '#2980b9', FIO_LIBAIO: '#e6a00f'}


def plot(args, rep, png):
    """Five panels of median ratios with min-max whiskers and targets; error text or None."""
    panels = [
        ('fio', 'fio: IOPS / fio io_uring (same run)', [GLIBC] + rep.engines + [FIO_LIBAIO],
         False),
        ('scale', 'scale: pread time / aio time per request (log)', [GLIBC] + rep.engines, True),
        ('streams', 'streams: MB/s / two blocking threads', [GLIBC] + rep.engines, False),
        ('notify', 'notification: rate / glibc (log)', [GLIBC] + rep.engines, True),
        ('threads', 'threads: fio --thread IOPS / fio io_uring (same threads)',
         [GLIBC] + rep.engines, False),
    ]
    panels = [p for p in panels if rep.plot.get(p[0])]
    if not panels:
        return 'nothing to plot'
    datdir = os.path.dirname(png)
    if not shutil.which('gnuplot'):
        return 'gnuplot is not installed (apt-get install gnuplot-nox)'
    term = None
    for t in ('pngcairo size 2100,1000 font "sans,10"', 'png size 2100,1000'):
        r = subprocess.run(['gnuplot', '-e', f'set terminal {t}; set output "/dev/null"; plot x'],
                           capture_output=True, text=True, timeout=60)
        if r.returncode == 0 and not r.stderr.strip():
            term = t
            break
    if term is None:
        return 'gnuplot has neither the pngcairo nor the png terminal'
    na = [e for e in rep.engines if rep.state.get(e, 'ok') != 'ok']
    na_note = '; ' + ', '.join(f'{e}: {rep.state[e]}' for e in na) if na else ''
    script = [f'set terminal {term}', f'set output "{png}"', 'set termoption noenhanced',
              'set style fill solid 0.85 border -1', 'set key top left opaque',
              'set grid ytics', 'set xtics nomirror', 'set multiplot layout 2,3 title '
              f'"libposixaio benchmark, {args.reps} repetition{"s" if args.reps > 1 else ""}: '
              f'bars median ratio, whiskers min-max, black dashes targets{na_note}"']
    for name, title, variants, logy in panels:
        rows = rep.plot[name]
        variants = [v for v in variants if any(row.get(v) for _, row in rows)]
        width = 0.8 / max(len(variants), 1)
        dat = os.path.join(datdir, f'plot-{name}.dat')
        seen = []
        with open(dat, 'w') as f:
            # One block per variant: x, median, min, max, box width.
            for j, v in enumerate(variants):
                f.write(f'# {v}\n')
                for i, (_, row) in enumerate(rows):
                    st = row.get(v)
                    if st:
                        x = i + (j - (len(variants) - 1) / 2) * width
                        f.write(f'{x:.4f} {st[0]:.5g} {st[1]:.5g} {st[2]:.5g} {width:.4f}\n')
                        seen += list(st)
                f.write('\n\n')
            f.write('# targets\n')
            for i, (_, row) in enumerate(rows):
                if row.get('target') is not None:
                    f.write(f'{i} {row["target"]:g} 0.45\n')
                    seen.append(row['target'])
        xt = ', '.join(f'"{label}" {i}' for i, (label, _) in enumerate(rows))
        script += [f'set title "{title}"', 'set ylabel "ratio (higher is better)"',
                   f'set xtics ({xt})', f'set xrange [-0.6:{len(rows) - 0.4}]']
        if logy and seen and min(seen) > 0:
            lo, hi = min(min(seen), 1) / 1.5, max(max(seen), 1) * 1.5
            script += ['set logscale y', f'set yrange [{lo:.4g}:{hi:.4g}]',
                       'set ytics (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, '
                       '200, 500, 1000)']
        else:
            hi = max(seen + [1]) * 1.15
            script += ['unset logscale y', f'set yrange [0:{hi:.4g}]', 'set ytics autofreq']
        plots = [f'"{dat}" index {j} using 1:2:3:4:5 with boxerrorbars '
                 f'lc rgb "{COLOURS.get(v, "gray")}" title "{v}"' for j, v in enumerate(variants)]
        plots.append(f'"{dat}" index {len(variants)} using 1:2:3 with xerrorbars pt -1 lw 3 '
                     'lc rgb "black" title "target"')
        plots.append('1 with lines dt 2 lc rgb "gray40" notitle')
        script.append('plot ' + ', '.join(plots))
    script.append('unset multiplot')
    gp = os.path.join(datdir, 'plot.gp')
    with open(gp, 'w') as f:
        f.write('\n'.join(script) + '\n')
    r = subprocess.run(['gnuplot', gp], capture_output=True, text=True, timeout=120)
    if r.returncode != 0 or r.stderr.strip():
        return f'gnuplot failed: {r.stderr.strip()}'
    return None
