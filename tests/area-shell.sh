#!/bin/sh
# area-shell.sh AREA DIR -c RECIPE - the shell of each area's recipes (builds included) in
# `make test` (Makefile): runs the recipe with /bin/sh as make would, noting in DIR when the
# area's first recipe started (AREA.start) and when its latest ended, with the load average
# then (AREA.end), so that `make test` can report each area's wall time while the areas run
# side by side.
area=$1
dir=$2
shift 2
[ -e "$dir/$area.start" ] || date +%s > "$dir/$area.start"
/bin/sh "$@"
rc=$?
echo "$(date +%s) $(cut -d' ' -f1-3 /proc/loadavg)" > "$dir/$area.end"
exit $rc
