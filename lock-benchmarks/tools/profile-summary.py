# Summarises an async-profiler CPU profile of the benchmark (collapsed stacks taken with the `threads` option, as
# lock-benchmarks/tools/async-profile.sh takes them): the share of the process's CPU samples per thread group, and
# per group its hottest frames by self time, native frames (system calls) included. With the row's client CPU per
# acquisition (the harness prints it) the shares become µs per cycle.
# Usage: python3 lock-benchmarks/tools/profile-summary.py <collapsed.txt> [client CPU µs per cycle] [top]
import collections, re, sys

GROUPS = [
    ('callers (harness threads bench-*)', re.compile(r'^bench-')),
    ('Netty I/O (Lettuce, Redisson event loops)', re.compile(r'EventLoop|redisson-netty')),
    ('JIT compiler', re.compile(r'Compiler')),
    ('GC and VM', re.compile(r'^(GC |G1 |VM |Gang|Concurrent|Service)')),
]
OTHER = 'other JVM threads (executors, timers, harness main)'


def group(thread):
    name = re.sub(r'\s+tid=\d+$', '', thread.strip('[]'))
    for label, pattern in GROUPS:
        if pattern.search(name):
            return label
    return OTHER


def main():
    path = sys.argv[1]
    per_cycle = float(sys.argv[2]) if len(sys.argv) > 2 else None
    top = int(sys.argv[3]) if len(sys.argv) > 3 else 12
    totals = collections.Counter()
    frames = collections.defaultdict(collections.Counter)
    threads = collections.defaultdict(set)
    for line in open(path):
        line = line.rstrip('\n')
        if not line:
            continue
        stack, count = line.rsplit(' ', 1)
        parts = stack.split(';')
        label = group(parts[0])
        totals[label] += int(count)
        frames[label][parts[-1]] += int(count)
        threads[label].add(parts[0])
    everything = sum(totals.values())
    if everything == 0:
        sys.exit('no samples in ' + path)
    print('%d samples' % everything + ('' if per_cycle is None else ', %.1f µs of client CPU per cycle' % per_cycle))
    for label, count in totals.most_common():
        share = count / everything
        cost = '' if per_cycle is None else '  %5.1f µs/cycle' % (share * per_cycle)
        print('%5.1f%%%s  %s (%d threads)' % (100 * share, cost, label, len(threads[label])))
    for label, count in totals.most_common():
        if label.startswith('JIT') or label.startswith('GC'):
            continue
        print('\nhottest frames, self time, %s (share of the group)' % label)
        for frame, n in frames[label].most_common(top):
            print('  %5.1f%%  %s' % (100 * n / count, frame))


if __name__ == '__main__':
    main()
