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
import socket, statistics, sys

def enc(*a):
    out = b'*%d\r\n' % len(a)
    for x in a:
        x = x if isinstance(x, bytes) else str(x).encode()
        out += b'$%d\r\n%s\r\n' % (len(x), x)
    return out

s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
f = s.makefile('rb')

def read():
    line = f.readline()
    t = line[:1]
    if t in (b'+', b'-', b':'):
        return line[1:-2]
    if t == b'$':
        n = int(line[1:-2])
        return None if n < 0 else f.read(n + 2)[:-2]
    if t == b'*':
        return [read() for _ in range(int(line[1:-2]))]

def cmd(*a):
    s.sendall(enc(*a))
    return read()

versions = [('a', sys.argv[2], sys.argv[3]), ('b', sys.argv[4], sys.argv[5])]
sha = {name: cmd('SCRIPT', 'LOAD', open(path).read()).decode() for name, path, _ in versions}
n = int(sys.argv[6]) if len(sys.argv) > 6 else 20000
rounds = int(sys.argv[7]) if len(sys.argv) > 7 else 40
owner = 'a' * 32
usec = {name: [] for name, _, _ in versions}
for r in range(rounds):
    for name, _, argv3 in (versions if r % 2 == 0 else versions[::-1]):
        cmd('FLUSHALL')
        cmd('CONFIG', 'RESETSTAT')
        for start in range(0, n, 16):
            batch = [enc('EVALSHA', sha[name], 2, 'lock:{%d}:user-%d' % (i % 1024, i), 'lock:{%d}' % (i % 1024),
                         owner, '30000', argv3) for i in range(start, start + 16)]
            s.sendall(b''.join(batch))
            for _ in batch:
                reply = read()
                if not reply.lstrip(b'-').isdigit():
                    sys.exit('unexpected answer from %s: %r' % (name, reply))
        for line in cmd('INFO', 'commandstats').decode().split('\r\n'):
            if line.startswith('cmdstat_evalsha:'):
                d = dict(x.split('=') for x in line.split(':', 1)[1].split(','))
                usec[name].append(int(d['usec']) / int(d['calls']))
for name, path, _ in versions:
    print('%s %-40s median %.3f µs per call, min %.3f' % (name, path[-40:], statistics.median(usec[name]), min(usec[name])))
d = [x - y for x, y in zip(usec['a'], usec['b'])]
print('a - b, paired by round: median %.3f µs, a slower in %d of %d rounds' % (statistics.median(d), sum(x > 0 for x in d), len(d)))
