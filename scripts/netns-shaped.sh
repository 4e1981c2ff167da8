#!/usr/bin/env bash
# Emulation check: sender and headless receiver inside a private network namespace whose loopback
# is shaped to RATE (default 2mbit) with tc tbf. Passes when goodput ≥ 80 % of the rate, no frame
# exceeds its budget, and p95 frame latency ≤ 400 ms. Needs root (network namespaces); where they
# are not allowed it says so and exits 0 with SKIP — never silently.
# Usage: bash scripts/netns-shaped.sh [rate=2mbit] [seconds=20]
set -uo pipefail
cd "$(dirname "$0")/.."
RATE=${1:-2mbit}
SECONDS_RUN=${2:-20}
NS=mmsc-shaped-$$
PORT=8190
num=${RATE%%[a-z]*}
case "${RATE#"$num"}" in
  mbit) bits=$((num * 1000000)) ;;
  kbit) bits=$((num * 1000)) ;;
  *) echo "rate must look like 2mbit or 500kbit" >&2; exit 2 ;;
esac

if ! ip netns add "$NS" 2>/tmp/netns-err.$$; then
  echo "SKIP netns-shaped: cannot create a network namespace here ($(cat /tmp/netns-err.$$)); run as root with CAP_SYS_ADMIN"
  rm -f /tmp/netns-err.$$
  exit 0
fi
cleanup() {
  ip netns pids "$NS" 2>/dev/null | xargs -r kill 2>/dev/null
  sleep 0.5
  ip netns del "$NS" 2>/dev/null
  rm -f /tmp/netns-err.$$
}
trap cleanup EXIT
ip netns exec "$NS" ip link set lo up
# burst: one MTU-sized token bucket; latency bounds the queue tbf keeps (drops beyond it).
ip netns exec "$NS" tc qdisc add dev lo root tbf rate "$RATE" burst 32kbit latency 300ms
echo "namespace $NS: lo shaped to $RATE ($(ip netns exec "$NS" tc qdisc show dev lo))"

# serve and probe share one operator token (authentication stays on, as users run it).
export MMSC_TOKEN="netns-$$-$RANDOM$RANDOM"
ip netns exec "$NS" env MMSC_DEBUG_RATE="${MMSC_DEBUG_RATE:-0}" node packages/cli/bin/mmsc.js serve --port $PORT --host 127.0.0.1 --source pan:assets/images/dog.jpg --query "dog and bicycle" ${MMSC_SERVE_ARGS:-} >"${SERVE_LOG:-/dev/null}" 2>&1 &
for _ in $(seq 1 60); do
  ip netns exec "$NS" node -e "fetch('http://127.0.0.1:$PORT/health').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))" && break
  sleep 0.5
done
result=$(ip netns exec "$NS" node packages/cli/bin/mmsc.js probe --url "http://127.0.0.1:$PORT" --query "dog" --seconds "$SECONDS_RUN" --json)
echo "$result"
node -e '
  const r = JSON.parse(process.argv[1]);
  const rate = Number(process.argv[2]);
  const checks = [
    ["goodput >= 80% of link", r.goodputBps >= 0.8 * rate, `${(r.goodputBps / 1e6).toFixed(3)} of ${(rate / 1e6).toFixed(3)} Mbit/s`],
    ["no budget violations", r.budgetViolations === 0, `${r.budgetViolations}`],
    ["p95 frame latency <= 400 ms", r.latencyMsP95 <= 400, `${r.latencyMsP95} ms (p50 ${r.latencyMsP50} ms)`],
  ];
  let failed = 0;
  for (const [name, ok, detail] of checks) { console.log(`${ok ? "PASS" : "FAIL"} ${name}: ${detail}`); if (!ok) failed++; }
  console.log(`${checks.length - failed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
' "$result" "$bits"
