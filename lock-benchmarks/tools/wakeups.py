# Who wakes whom, and from where, in a benchmark run: reads the output of `perf script` for a recording of
# sched:sched_wakeup with call graphs and counts wake-ups by waker, wakee and how they were done.
# A wake-up queued by the other vCPU and done on the wakee's own when an inter-processor interrupt arrives
# there is "remote (IPI)" ("from halt": that vCPU was halted, in a VM an exit to the hypervisor); the others
# were done by the waker itself, and "via" names the system call that did it (futex: a Java unpark,
# ksys_write: a socket or the eventfd of a Netty selector).
# Record, during the timed part of a run (the harness prints when it starts it):
#   perf record -e sched:sched_wakeup -g -a -o /tmp/wake.data -- sleep 1
#   perf script -i /tmp/wake.data | python3 lock-benchmarks/tools/wakeups.py [calls-per-second]
# With calls-per-second (Redis calls of the row, e.g. 2 x its cycles/s) it also prints wake-ups per call.
import collections
import re
import sys

HEADER = re.compile(r'^(\S.*?)\s+(\d+)\s+\[(\d+)\].*sched_wakeup: comm=(\S+) pid=\d+ prio=\d+ target_cpu=(\d+)')


def how(frames):
    if any('sysvec_call_function_single' in frame for frame in frames):
        return 'remote (IPI, from halt)' if any('safe_halt' in frame for frame in frames) else 'remote (IPI)'
    for i, frame in enumerate(frames):
        if 'do_syscall_64' in frame and i > 0:
            return frames[i - 1]
    return 'interrupt or timer'


def read(lines):
    counts = collections.Counter()
    current, frames = None, []
    for line in lines:
        header = HEADER.match(line)
        if header:
            if current:
                counts[current + (how(frames),)] += 1
            current = (header.group(1).strip(), header.group(4))
            frames = []
        elif line.strip():
            parts = line.split()
            if len(parts) >= 2:
                frames.append(re.sub(r'\+0x.*', '', parts[1]))
    if current:
        counts[current + (how(frames),)] += 1
    return counts


def main():
    calls = float(sys.argv[1]) if len(sys.argv) > 1 else None
    counts = read(sys.stdin)
    per_wakee = collections.defaultdict(lambda: [0, 0])
    print('%8s  %-18s -> %-18s %s' % ('count', 'waker', 'wakee', 'via'))
    for (waker, wakee, via), n in counts.most_common(20):
        print('%8d  %-18s -> %-18s %s' % (n, waker, wakee, via))
    for (waker, wakee, via), n in counts.items():
        per_wakee[wakee][0] += n
        if via.startswith('remote'):
            per_wakee[wakee][1] += n
    print()
    print('%-18s %8s %8s' % ('wakee', 'all', 'remote') + ('  per call (all / remote)' if calls else ''))
    for wakee, (total, remote) in sorted(per_wakee.items(), key=lambda item: -item[1][0])[:8]:
        line = '%-18s %8d %8d' % (wakee, total, remote)
        if calls:
            line += '  %.2f / %.2f' % (total / calls, remote / calls)
        print(line)


if __name__ == '__main__':
    main()
