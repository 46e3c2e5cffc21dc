#!/bin/sh
# area-shell.sh AREA DIR -c RECIPE - the shell of each area's recipes (builds included) in
# `make test` (Makefile): runs the recipe with /bin/sh as make would, noting in DIR when the
# area's first recipe started (AREA.start), when its latest ended, with the load average then
# (AREA.end), and the CPU seconds its recipes used (AREA.cpu, one line per recipe), so that
# `make test` can report each area's wall and CPU time while the areas run side by side. The
# CPU time is what an area costs the machine: the wall times overlap.
area=$1
dir=$2
shift 2
[ -e "$dir/$area.start" ] || date +%s > "$dir/$area.start"
/bin/sh "$@"
rc=$?
echo "$(date +%s) $(cut -d' ' -f1-3 /proc/loadavg)" > "$dir/$area.end"
# the second line of `times`: user and system time of the waited-for children, "1m2.5s 0m3.1s"
# (`times` runs in this shell, not in a pipeline's subshell, which would have no children)
times > "$dir/$area.times.$$"
sed -n 2p "$dir/$area.times.$$" | awk '{ split($1, u, /[ms]/); split($2, s, /[ms]/);
    printf "%.1f\n", u[1] * 60 + u[2] + s[1] * 60 + s[2] }' >> "$dir/$area.cpu"
rm -f "$dir/$area.times.$$"
exit $rc
