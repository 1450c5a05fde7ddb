# SPDX-License-Identifier: LGPL-2.1-or-later
# The benchmark driver's parts; bench/run is the command that uses them.  See bench/README.md.
