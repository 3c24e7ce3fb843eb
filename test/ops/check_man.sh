#!/bin/sh
# Every man page renders with man -l without a warning (groff -ww through
# man-db), and says something.
set -u
status=0
for page in "$@"; do
    out=$(MANPAGER=cat MANWIDTH=80 LC_ALL=C.UTF-8 man --warnings -E UTF-8 -l "$page" 2>&1 >/dev/null)
    rc=$?
    lines=$(MANPAGER=cat MANWIDTH=80 LC_ALL=C.UTF-8 man -E UTF-8 -l "$page" 2>/dev/null | wc -l)
    if [ $rc -ne 0 ] || [ -n "$out" ] || [ "$lines" -lt 10 ]; then
        echo "FAIL: $page: exit $rc, $lines lines"
        printf '%s\n' "$out"
        status=1
    else
        echo "ok: $page ($lines lines)"
    fi
done
exit $status
