# Sourced by tests/test_guest and tests/test_fixtures (bash): the kernel's
# own mlock selftests, built by tests/selftests/build.sh, for the guest.
# selftest_files OUTDIR: 0 with their --file arguments added to the array
# files; else 1, having written why to OUTDIR/selftests.skip (build.sh exit
# 3: the source cannot be had here) or OUTDIR/selftests.build-failed.
selftest_files() {
	local out=$1 rc sdir
	tests/selftests/build.sh >"$out/selftests.out" 2>"$out/selftests.err"
	rc=$?
	sdir=$(tail -n1 "$out/selftests.out")
	if [ "$rc" = 0 ] && [ -x "$sdir/mlock2-tests" ] && [ -x "$sdir/mlock-random-test" ]; then
		files+=(--file "$sdir/mlock2-tests" --file "$sdir/mlock-random-test")
		return 0
	fi
	if [ "$rc" = 3 ]; then
		echo "cannot build the kernel's mlock selftests here: $(tail -n1 "$out/selftests.err")" \
			> "$out/selftests.skip"
	else
		echo "tests/selftests/build.sh exit $rc: $(tail -n1 "$out/selftests.err")" \
			> "$out/selftests.build-failed"
	fi
	return 1
}
