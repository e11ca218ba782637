#!/usr/bin/env bash
# CPU profile of one benchmark row over its timed part, with async-profiler (CPU-time timer, so the time threads spend
# in system calls such as a futex wait or a writev counts too), summarised by tools/profile-summary.py.
# Usage, from the repository root after `./mvnw -pl lock-benchmarks -am package -DskipTests`:
#   bash lock-benchmarks/tools/async-profile.sh [scenario] [library] [seconds]     (default: 2 ours 10)
# The row runs once (--no-write, one iteration of seconds + 10 s); the profiler is attached 3 s into the iteration and
# stopped after the given seconds. async-profiler 4.2 (linux-x64) is downloaded from Maven Central into
# lock-benchmarks/target/async-profiler the first time. Output: the row as the harness prints it, then the summary;
# the collapsed stacks stay in lock-benchmarks/target/async-profiler/<scenario>-<library>.collapsed.
set -euo pipefail
scenario=${1:-2}
library=${2:-ours}
seconds=${3:-10}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
jar=$root/lock-benchmarks/target/lock-benchmarks.jar
dir=$root/lock-benchmarks/target/async-profiler
lib=$dir/linux-x64/libasyncProfiler.so
[ -f "$jar" ] || { echo "no $jar: build it with ./mvnw -pl lock-benchmarks -am package -DskipTests" >&2; exit 2; }
if [ ! -f "$lib" ]; then
	mkdir -p "$dir"
	curl -sfL -o "$dir/async-profiler.jar" \
		https://repo1.maven.org/maven2/tools/profiler/async-profiler/4.2/async-profiler-4.2-linux-x64.jar
	(cd "$dir" && unzip -o -q async-profiler.jar 'linux-x64/*')
fi
out=$dir/$scenario-$library.collapsed
log=$dir/$scenario-$library.log
rm -f "$out"
cd "$root"
java -jar "$jar" --no-write "--scenarios=$scenario" "--libs=$library" --warmup=5s --iterations=1 \
	"--duration=$((seconds + 10))s" > "$log" 2>&1 &
bench=$!
# the harness names the row when its warm-up of 5 s starts
for _ in $(seq 1 300); do
	grep -q " / $library \.\.\." "$log" 2>/dev/null && break
	kill -0 "$bench" 2>/dev/null || { cat "$log" >&2; exit 1; }
	sleep 1
done
grep -q " / $library \.\.\." "$log" || { echo "the row did not start within 300 s: see $log" >&2; kill "$bench"; exit 1; }
sleep 8
# jcmd parses name=value pairs itself: the profiler's options go in quotes
jcmd "$bench" JVMTI.agent_load "$lib" "\"start,event=ctimer,interval=500us,threads\"" > /dev/null
sleep "$seconds"
jcmd "$bench" JVMTI.agent_load "$lib" "\"stop,file=$out,collapsed\"" > /dev/null
wait "$bench"
row=$(grep -E "^$scenario[a-z]* [a-z0-9-]+ +\| $library " "$log" | tail -1 || true)
echo "$row"
client=$(echo "$row" | awk -F'|' '{print $10}' | grep -oE '[0-9]+(\.[0-9]+)?' | head -1 || true)
# without the row's client CPU (not printed) the summary gives shares only
python3 "$here/profile-summary.py" "$out" ${client:+"$client"}
