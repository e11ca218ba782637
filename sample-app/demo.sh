#!/usr/bin/env bash
# The seed's double-spend, shown and fixed across two instances.
#
# Starts two instances of the sample (ports 8081 and 8082; the first starts an embedded redis-server on
# port 6390, the second shares it), fires a burst of concurrent redeems for a few users, half at each
# instance, and prints per user how many redeems were accepted, the balance that should be left and the
# balance that is left. First with --lock.enabled=false (updates are lost: points spent twice), then with
# the lock (none lost; the redeems that waited longer than lock.wait-time are refused with 409), showing
# what /actuator/locks and the lock_* lines of /actuator/prometheus say during and after that burst.
# Every process it starts is stopped when it exits.
#
# Usage: sample-app/demo.sh        (needs Java 17+, python3; builds the jar with ./mvnw if missing)
# Environment: PORT_A, PORT_B, REDIS_PORT, USERS ("alice bob carol"), REDEEMS (per user, 20),
#              START_BALANCE (1000), AMOUNT (10), JAVA (java)
set -euo pipefail

cd "$(dirname "$0")"
SAMPLE_DIR=$(pwd)
JAR="$SAMPLE_DIR/target/sample-app-0.1.0-SNAPSHOT.jar"
PORT_A=${PORT_A:-8081}
PORT_B=${PORT_B:-8082}
REDIS_PORT=${REDIS_PORT:-6390}
USERS=${USERS:-"alice bob carol"}
REDEEMS=${REDEEMS:-20}
START_BALANCE=${START_BALANCE:-1000}
AMOUNT=${AMOUNT:-10}
JAVA=${JAVA:-java}
LOG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/points-demo.XXXXXX")

PIDS=()

stop_all() {
	local pid children=()
	for pid in "${PIDS[@]}"; do
		# the embedded redis-server is a child of the first instance; remember it in case the JVM must be killed
		children+=($(pgrep -P "$pid" 2>/dev/null || true))
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${PIDS[@]}"; do
		for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$pid" 2>/dev/null || true
	done
	for pid in "${children[@]}"; do kill "$pid" 2>/dev/null || true; done
	PIDS=()
}

cleanup() {
	stop_all
	rm -rf "$LOG_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_in_use() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

start_instance() { # name port extra-args...
	local name=$1 port=$2
	shift 2
	"$JAVA" -XX:TieredStopAtLevel=1 -jar "$JAR" --server.port="$port" --spring.data.redis.host=127.0.0.1 \
		--spring.data.redis.port="$REDIS_PORT" --logging.level.root=WARN "$@" >"$LOG_DIR/$name.log" 2>&1 &
	local pid=$!
	PIDS+=("$pid")
	for _ in $(seq 1 600); do
		if curl -s -o /dev/null -m 1 "http://127.0.0.1:$port/users/ping/points"; then
			return 0
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "instance $name (port $port) exited; its log:" >&2
			tail -40 "$LOG_DIR/$name.log" >&2
			exit 1
		fi
		sleep 0.1
	done
	echo "instance $name (port $port) did not answer within 60 s; its log:" >&2
	tail -40 "$LOG_DIR/$name.log" >&2
	exit 1
}

burst() { # prints one line per user
	python3 - "$PORT_A" "$PORT_B" "$REDEEMS" "$START_BALANCE" "$AMOUNT" $USERS <<'EOF'
import json, sys, threading, urllib.request, urllib.error

port_a, port_b, redeems, start, amount = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
users = sys.argv[6:]

def call(method, port, path):
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, None

for user in users:
    status, _ = call("POST", port_a, f"/users/{user}/points/grant?amount={start}")
    assert status == 200, f"grant for {user}: {status}"

statuses = {user: [] for user in users}
barrier = threading.Barrier(len(users) * redeems)
def redeem(user, port):
    barrier.wait()  # every request leaves at the same moment
    status, _ = call("POST", port, f"/users/{user}/points/redeem?amount={amount}")
    statuses[user].append(status)

threads = [threading.Thread(target=redeem, args=(user, port_a if i % 2 == 0 else port_b))
           for user in users for i in range(redeems)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()

print(f"  {'user':<7} {'redeems':>7} {'200 OK':>7} {'409':>5} {'other':>6} {'expected':>9} {'actual':>7} {'lost updates':>13}")
for user in users:
    accepted = statuses[user].count(200)
    conflicts = statuses[user].count(409)
    other = len(statuses[user]) - accepted - conflicts
    expected = start - accepted * amount
    _, body = call("GET", port_b, f"/users/{user}/points")
    actual = body["balance"]
    lost = (actual - expected) // amount
    print(f"  {user:<7} {len(statuses[user]):>7} {accepted:>7} {conflicts:>5} {other:>6} {expected:>9} {actual:>7} {lost:>13}")
EOF
}

# What an operator sees while the burst runs and after it: the locks instance a holds at one moment of
# the burst (GET /actuator/locks), Redis's view of a user's lock asked on instance b, and the lock_* lines
# of instance a's Prometheus scrape once the burst is over.
observe_burst() { # burst-pid
	local burst_pid=$1 first_user=${USERS%% *} locks=""
	for _ in $(seq 1 500); do
		locks=$(curl -s -m 2 "http://127.0.0.1:$PORT_A/actuator/locks" || true)
		case "$locks" in *'"key"'*) break ;; esac
		kill -0 "$burst_pid" 2>/dev/null || break
		sleep 0.01
	done
	echo "  GET :$PORT_A/actuator/locks during the burst:"
	echo "$locks" | python3 -m json.tool | sed 's/^/    /'
	# Redis's view of one user's lock, asked on the other instance: the first that some instance holds
	local user answer="" seen=""
	for _ in $(seq 1 100); do
		for user in $USERS; do
			answer=$(curl -s -m 2 "http://127.0.0.1:$PORT_B/actuator/locks/default/$user" || true)
			seen=$user
			case "$answer" in *'"held":true'*) break 2 ;; esac
		done
		kill -0 "$burst_pid" 2>/dev/null || break
	done
	echo "  GET :$PORT_B/actuator/locks/default/$seen during the burst:"
	echo "$answer" | python3 -m json.tool | sed 's/^/    /'
}

round() { # title observe extra-args...
	local title=$1 observe=$2
	shift 2
	echo "== $title"
	start_instance a "$PORT_A" "$@"
	start_instance b "$PORT_B" "$@"
	echo "  instances on :$PORT_A and :$PORT_B, Redis on :$REDIS_PORT; each user starts with $START_BALANCE points;"
	echo "  $REDEEMS concurrent redeems of $AMOUNT per user, alternating between the two instances"
	if [ "$observe" = observe ]; then
		burst >"$LOG_DIR/burst.txt" &
		local burst_pid=$!
		observe_burst "$burst_pid" >"$LOG_DIR/observed.txt"
		wait "$burst_pid"
		cat "$LOG_DIR/burst.txt" "$LOG_DIR/observed.txt"
		echo "  lock_* lines of GET :$PORT_A/actuator/prometheus after the burst:"
		curl -s -m 5 "http://127.0.0.1:$PORT_A/actuator/prometheus" | grep '^lock_' >"$LOG_DIR/prometheus.txt" || true
		grep -v '_bucket{' "$LOG_DIR/prometheus.txt" | sed 's/^/    /'
		echo "    (and $(grep -c '_bucket{' "$LOG_DIR/prometheus.txt" || true) lock_acquire_seconds_bucket lines: its histogram)"
	else
		burst
	fi
	stop_all
	echo
}

if [ ! -f "$JAR" ]; then
	echo "Building $JAR ..."
	(cd .. && ./mvnw -B -q -pl sample-app -am package -DskipTests)
fi
for port in "$PORT_A" "$PORT_B" "$REDIS_PORT"; do
	if port_in_use "$port"; then
		echo "Port $port is in use; free it or set PORT_A, PORT_B, REDIS_PORT." >&2
		exit 1
	fi
done

round "Without the lock (--lock.enabled=false)" plain --lock.enabled=false
round "With @UserLock(key = \"#uid\") (lock.wait-time=500ms, each redeem takes ~100ms)" observe
echo "expected = $START_BALANCE - $AMOUNT x accepted redeems; a lost update is a redeem that was accepted"
echo "(points handed out) but whose deduction another request overwrote."
