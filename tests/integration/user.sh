# kpipe as an ordinary user: only 'make deps' needs root.  The example's
# v1 runs as a user of its own (x86_64 only): cache in ~/.cache/kpipe,
# guests on qemu:///session, builds sandboxed with the user's own uid.  It
# stands on root's imported tree ([tree] path) and reads root's shared
# ccache ([build] ccache_shared, read-only to it), so its first kernel is a
# build of ccache hits, not a cold one; root's cache is left as it was.
T=user
. "$(dirname "$0")/lib.bash"
U=kpipe-user
C=/var/cache/kpipe

id "$U" >/dev/null 2>&1 || useradd -m -s /bin/sh "$U"
home=$(getent passwd "$U" | cut -d: -f6)
# kpipe and its data where the user can read them (the checkout may be in /root)
dir=$(mktemp -d /tmp/kpipe-user-XXXXXX)
make_data_dir "$dir"
cp kpipe "$dir/"
cp -r examples "$dir/"
printf '[paths]\nresults = %s/results\n[tree]\npath = %s/linux\nbase = refs/kpipe/base\n[build]\narches = x86_64\nccache_shared = %s/ccache-shared\n[test]\ntests = uffd_wp_zap_shmem\nselftests = none\n' \
	"$dir" "$C" "$C" > "$dir/cfg.ini"
chown -R "$U:" "$dir"
rm -rf "$home/.cache/kpipe"
shared_before=$(find "$C/ccache-shared" -type f | wc -l)
as_user() { runuser -u "$U" -- env -i HOME="$home" PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 "$@"; }
as_user git config --global --unset-all safe.directory 2>/dev/null

# root's tree belongs to root: git's rule (safe.directory) applies, and kpipe says so
expect_exit 2 "root's tree before the user trusts it" -- \
	as_user "$dir/kpipe" -c "$dir/cfg.ini" run --dry-run "$dir/examples/uffd-wp-range/v1.mbox"
expect_match "\[tree\] path '$C/linux' belongs to another user: trust it as git does, with 'git config --global --add safe.directory $C/linux'" \
	"the error says how to trust it"
as_user git config --global --add safe.directory "$C/linux"
expect_exit 1 "kpipe run v1 as $U (v1 fails, as it does for root)" -- \
	as_user "$dir/kpipe" -c "$dir/cfg.ini" run "$dir/examples/uffd-wp-range/v1.mbox"
printf '%s\n' "$OUT" | sed -n '/^plan:/p;/base\/x86_64/,$p' | sed 's/^/#   /'
expect_match "^uffd_wp_zap_shmem +pass +FAIL" "the base passes, v1 fails uffd_wp_zap_shmem"
expect_match "^\[base x86_64\] boot: ssh on 127.0.0.1:[0-9]+" "its guests boot on the user's own libvirt"
[ -d "$home/.cache/kpipe/build/x86_64" ] && [ "$(stat -c %U "$home/.cache/kpipe")" = "$U" ] &&
	pass "its cache is ~/.cache/kpipe, the user's own" || failed "no cache of the user's in $home/.cache/kpipe"
stats=$(as_user env CCACHE_DIR="$home/.cache/kpipe/ccache" ccache -s 2>&1)
hits=$(printf '%s\n' "$stats" | sed -n '/Remote storage/,/Misses/s/^ *Hits: *\([0-9]*\) .*/\1/p' | head -1)
misses=$(printf '%s\n' "$stats" | sed -n '/Remote storage/,$s/^ *Misses: *\([0-9]*\) .*/\1/p' | head -1)
if [ "${hits:-0}" -gt 0 ] && [ "${hits:-0}" -gt "${misses:-0}" ]; then
	pass "its base kernel came mostly from root's shared ccache ($hits remote hits, ${misses:-0} misses)"
else
	failed "remote ccache hits ${hits:-none}, misses ${misses:-none}"
	printf '%s\n' "$stats" | sed 's/^/#   /'
fi
[ "$(find "$C/ccache-shared" -type f | wc -l)" -eq "$shared_before" ] &&
	[ -z "$(find "$C" -user "$U" -print -quit)" ] &&
	pass "root's cache and shared ccache are untouched" || failed "the user's run wrote into $C"
left=$(as_user virsh -c qemu:///session list --name 2>/dev/null | grep -c '^kpipe-')
[ "$left" -eq 0 ] && pass "no guest of the user's left running" || failed "$left guests of the user's still run"
rm -rf "$dir"
