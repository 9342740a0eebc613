# The guest tests as programs, without a guest: they build for both
# arches without a warning, against the toolchain's uAPI headers and
# against a uAPI that has the userfaultfd RWP mode (tests/fixtures/
# uapi-rwp), and a test whose feature is missing skips saying why.
source tests/integration/lib.bash
T=guest-tests

for arch in x86_64 arm64; do
	expect_exit 0 "$arch: every guest test builds with -Werror" -- \
		make -s -C guest-tests ARCH="$arch" OUT="$WORK/$arch" CFLAGS_EXTRA=-Werror
	expect_exit 0 "$arch: uffd_rwp builds against a uAPI with RWP" -- \
		make -s -C guest-tests ARCH="$arch" OUT="$WORK/rwp-$arch" KHDR="$PWD/tests/fixtures/uapi-rwp" \
		CFLAGS_EXTRA=-Werror "$WORK/rwp-$arch/uffd_rwp"
	# the RWP build holds the RWP cases; the other is only the skip
	if grep -q "vmsplice of a protected page faults" "$WORK/rwp-$arch/uffd_rwp" &&
		! grep -q "vmsplice of a protected page faults" "$WORK/$arch/uffd_rwp"; then
		pass "$arch: the RWP cases are built only when the uAPI has RWP"
	else
		failed "$arch: the RWP cases do not follow the uAPI headers"
	fi
done

host=x86_64
[ "$(uname -m)" = aarch64 ] && host=arm64
expect_exit 4 "uffd_rwp without RWP in its headers skips" -- "$WORK/$host/uffd_rwp"
expect_match '^ok 1 uffd_rwp.c # SKIP .*no UFFD_FEATURE_RWP' "it says the headers have no RWP"
if [ "$(id -u)" -eq 0 ]; then
	expect_exit 4 "uffd_rwp with RWP headers on a kernel without RWP skips" -- "$WORK/rwp-$host/uffd_rwp"
	expect_match '# SKIP (the kernel does not offer UFFD_FEATURE_RWP|userfaultfd unavailable)' \
		"it says the kernel does not offer RWP"
else
	echo "SKIP: $T: running uffd_rwp on the host needs root"
fi
