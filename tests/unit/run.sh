#!/bin/sh
# Runs the cmocka test programs given as arguments, one after the other,
# shows their output, then prints "unit: N passed, N failed" summed over
# all of them (from cmocka's "[  PASSED  ] N test(s)." and
# "[  FAILED  ] N test(s)" lines). A program that exits non-zero without
# reporting a failed test (sanitizer abort, crash, leak) counts as one
# failed test. Exits 1 if anything failed.

: "${UBSAN_OPTIONS:=print_stacktrace=1}"
export UBSAN_OPTIONS

passed=0
failed=0
for t in "$@"; do
	log="$t.log"
	"$t" >"$log" 2>&1
	rc=$?
	cat "$log"
	p=$(sed -n 's/^\[  PASSED  \] \([0-9][0-9]*\) test(s)\..*/\1/p' "$log" | tail -n 1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9][0-9]*\) test(s).*/\1/p' "$log" | tail -n 1)
	p=${p:-0}
	f=${f:-0}
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "unit: $t exited with status $rc without a cmocka failure report"
		f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
done
echo "unit: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
