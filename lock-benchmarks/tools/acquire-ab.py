# A/B of two versions of the acquire script inside Redis, paired round by round (INFO commandstats).
# Per round and version: FLUSHALL, <n> acquires of fresh keys pipelined 16 at a time, then EVALSHA usec / calls;
# the two versions alternate which goes first. Runs FLUSHALL: use a Redis of its own, pinned away from this
# process (e.g. `taskset -c 1 redis-server --port <port> --save ""`, then `taskset -c 0 python3 ...`).
# Usage: python3 lock-benchmarks/tools/acquire-ab.py <port> <a.lua> <a's ARGV[3]> <b.lua> <b's ARGV[3]> [n] [rounds]
# Example, the working tree's script (ARGV[3] = 16 tokens reserved) against 40fbb91's (ARGV[3] = 17 tokens taken):
#   git show 40fbb91:lock-spring-boot-autoconfigure/src/main/resources/io/github/userlock/redis/acquire.lua > /tmp/b.lua
#   python3 lock-benchmarks/tools/acquire-ab.py <port> \
#     lock-spring-boot-autoconfigure/src/main/resources/io/github/userlock/redis/acquire.lua 16 /tmp/b.lua 17 20000 40
# A script alone, on fresh keys: a difference of a few tenths of a µs here need not show in the benchmark's rows
# (docs/BENCHMARKS.md, "Tried on 2026-12-07 and not kept").
import statistics, sys

from resp import Redis, enc

redis = Redis(int(sys.argv[1]))

versions = [('a', sys.argv[2], sys.argv[3]), ('b', sys.argv[4], sys.argv[5])]
sha = {name: redis.cmd('SCRIPT', 'LOAD', open(path).read()).decode() for name, path, _ in versions}
n = int(sys.argv[6]) if len(sys.argv) > 6 else 20000
rounds = int(sys.argv[7]) if len(sys.argv) > 7 else 40
owner = 'a' * 32
usec = {name: [] for name, _, _ in versions}
for r in range(rounds):
    for name, _, argv3 in (versions if r % 2 == 0 else versions[::-1]):
        redis.cmd('FLUSHALL')
        redis.cmd('CONFIG', 'RESETSTAT')
        for start in range(0, n, 16):
            batch = [enc('EVALSHA', sha[name], 2, 'lock:{%d}:user-%d' % (i % 1024, i), 'lock:{%d}' % (i % 1024),
                         owner, '30000', argv3) for i in range(start, start + 16)]
            for reply in redis.pipe(batch):
                if not reply.lstrip(b'-').isdigit():
                    sys.exit('unexpected answer from %s: %r' % (name, reply))
        calls, total = redis.evalsha_stats()
        usec[name].append(total / calls)
for name, path, _ in versions:
    print('%s %-40s median %.3f µs per call, min %.3f' % (name, path[-40:], statistics.median(usec[name]), min(usec[name])))
d = [x - y for x, y in zip(usec['a'], usec['b'])]
print('a - b, paired by round: median %.3f µs, a slower in %d of %d rounds' % (statistics.median(d), sum(x > 0 for x in d), len(d)))
