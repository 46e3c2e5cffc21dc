#!/bin/sh
# area-shell.sh AREA DIR -c RECIPE - the shell of each area's recipes (builds included) in
# `make test` (Makefile): notes when the area's first recipe starts, in DIR/AREA, so that
# `make test` can report each area's wall time when the areas run side by side; then runs
# the recipe with /bin/sh as make would.
area=$1
dir=$2
shift 2
[ -e "$dir/$area" ] || date +%s > "$dir/$area"
exec /bin/sh "$@"
