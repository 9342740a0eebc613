# Builds shared across machines: [build] ccache_remote with Debian's
# redis-server on loopback, a port of its own.  Machine A (a cache of its
# own that already compiled this kernel: root's ccache) builds the base
# into a fresh build directory and fills the remote store with what it
# has; machine B (an empty cache directory, an empty shared store) then
# builds the same kernel mostly from remote hits, as ccache's statistics
# say.  Real kernel builds (x86_64), sandboxed as usual.
T=ccache-remote
. "$(dirname "$0")/lib.bash"
C=/var/cache/kpipe

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no --dir "$WORK" \
	--logfile "$WORK/redis.log" --daemonize no &
redis=$!
trap 'kill "$redis" 2>/dev/null; wait "$redis" 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 1 50); do
	[ "$(redis-cli -p "$port" ping 2>/dev/null)" = PONG ] && break
	sleep 0.1
done
[ "$(redis-cli -p "$port" ping 2>/dev/null)" = PONG ] && pass "redis-server answers on 127.0.0.1:$port" ||
	failed "redis-server did not start: $(tail -3 "$WORK/redis.log")"

machine() { # NAME: a cache directory of its own, on root's tree, sharing the remote store
	mkdir -p "$WORK/$1" "$WORK/$1-shared"
	printf '[paths]\ncache = %s\nresults = %s/results\n[tree]\npath = %s/linux\nbase = refs/kpipe/base\n[build]\narches = x86_64\nccache_shared = %s\nccache_remote = redis://127.0.0.1:%s\n' \
		"$WORK/$1" "$WORK" "$C" "$WORK/$1-shared" "$port" > "$WORK/$1.ini"
}
machine a
# A compiled this kernel before: its local store has every object, and it has its guest image
ln -s "$C/ccache" "$WORK/a/ccache"
ln -s "$C/images" "$WORK/a/images"
machine b

expect_exit 2 "a ccache_remote that is no URL ccache speaks is bad input" -- \
	sh -c "printf '[build]\nccache_remote = ftp://x\n' > $WORK/bad.ini && $KPIPE -c $WORK/bad.ini build"
expect_match "bad.ini: \[build\] ccache_remote: 'ftp://x' is no ccache remote storage URL" "the error names the file and the key"

t0=$SECONDS
expect_exit 0 "machine A builds the base (its own objects, a fresh build directory)" -- $KPIPE -c "$WORK/a.ini" build
keys=$(redis-cli -p "$port" dbsize 2>/dev/null)
[ "${keys:-0}" -gt 100 ] && pass "A's build filled the remote store ($keys keys, $((SECONDS - t0)) s)" ||
	failed "the remote store has ${keys:-no} keys after A's build"
t0=$SECONDS
expect_exit 0 "machine B builds the same kernel from an empty cache" -- $KPIPE -c "$WORK/b.ini" build
secs=$((SECONDS - t0))
stats=$(CCACHE_DIR="$WORK/b/ccache" ccache -s 2>&1)
# per compile: a hit or a miss overall; per remote storage tried, a hit or a miss
# (B's empty shared store misses each time before the remote store hits)
hits=$(printf '%s\n' "$stats" | sed -n 's/^  Hits: *\([0-9]*\) .*/\1/p' | head -1)
misses=$(printf '%s\n' "$stats" | sed -n 's/^  Misses: *\([0-9]*\) .*/\1/p' | head -1)
remote=$(printf '%s\n' "$stats" | sed -n '/Remote storage/,$s/^ *Hits: *\([0-9]*\) .*/\1/p' | head -1)
if [ "${remote:-0}" -gt 100 ] && [ "${hits:-0}" -gt "$((${misses:-0} * 4))" ]; then
	pass "B's kernel came from the remote store: $hits of $((hits + ${misses:-0})) compiles were hits ($remote from redis), in $secs s (a cold build: ~600 s)"
else
	failed "B: hits ${hits:-none} (remote ${remote:-none}), misses ${misses:-none}"
	printf '%s\n' "$stats" | sed 's/^/#   /'
fi
[ -s "$WORK/b/build/x86_64/arch/x86/boot/bzImage" ] && pass "B has its kernel" || failed "B has no bzImage"
