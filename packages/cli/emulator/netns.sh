#!/usr/bin/env bash
# netns.sh up PREFIX | down PREFIX
#   Namespaces PREFIX-a (sender, mma 198.18.1.2/24), PREFIX-b (receiver, mmb 198.18.2.2/24) and
#   PREFIX-r (router: ra 198.18.1.1/24, rb 198.18.2.1/24, TUN mmlink). Packets arriving on ra/rb are
#   policy-routed into mmlink (tables 100/101); linkem.py reads them, emulates the link, and writes
#   them back into mmlink, from where R's main table forwards them.
#   PREFIX: 1-12 chars [a-z0-9], starting with a letter.
set -u

die() { echo "netns.sh: $*" >&2; exit 1; }

usage() { echo "usage: netns.sh up|down PREFIX" >&2; exit 2; }

[ $# -eq 2 ] || usage
CMD=$1
P=$2
[[ "$P" =~ ^[a-z][a-z0-9]{0,11}$ ]] || die "bad PREFIX '$P' (1-12 chars [a-z0-9], starting with a letter)"
A="$P-a"; B="$P-b"; R="$P-r"

ns_exists() { ip netns list 2>/dev/null | awk '{print $1}' | grep -qx "$1"; }

down() {
  local ns pids
  for ns in "$A" "$B" "$R"; do
    if ns_exists "$ns"; then
      pids=$(ip netns pids "$ns" 2>/dev/null || true)
      if [ -n "$pids" ]; then
        kill -TERM $pids 2>/dev/null || true
        for _ in 1 2 3 4 5 6 7 8 9 10; do
          pids=$(ip netns pids "$ns" 2>/dev/null || true)
          [ -z "$pids" ] && break
          sleep 0.1
        done
        [ -n "$pids" ] && kill -KILL $pids 2>/dev/null || true
      fi
      ip netns del "$ns" 2>/dev/null || true
    fi
  done
  return 0
}

fail_up() { local msg=$1; down; die "$msg"; }

up() {
  [ "$(id -u)" -eq 0 ] || die "must run as root"
  command -v ip >/dev/null 2>&1 || die "iproute2 'ip' not found"
  [ -c /dev/net/tun ] || die "no /dev/net/tun (TUN not available)"
  for ns in "$A" "$B" "$R"; do
    ns_exists "$ns" && die "namespace $ns already exists (run: netns.sh down $P)"
  done
  local err
  if ! err=$(ip netns add "$A" 2>&1); then fail_up "cannot create network namespace $A: ${err//$'\n'/ }"; fi
  run() { local out; if ! out=$("$@" 2>&1); then fail_up "failed: $* : ${out//$'\n'/ }"; fi; }
  run ip netns add "$B"
  run ip netns add "$R"
  run ip link add mma netns "$A" type veth peer name ra netns "$R"
  run ip link add mmb netns "$B" type veth peer name rb netns "$R"
  for ns in "$A" "$B" "$R"; do
    run ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
    run ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
    run ip -n "$ns" link set lo up
  done
  run ip -n "$A" addr add 198.18.1.2/24 dev mma
  run ip -n "$A" link set mma up
  run ip -n "$A" route add default via 198.18.1.1
  run ip -n "$B" addr add 198.18.2.2/24 dev mmb
  run ip -n "$B" link set mmb up
  run ip -n "$B" route add default via 198.18.2.1
  run ip -n "$R" addr add 198.18.1.1/24 dev ra
  run ip -n "$R" addr add 198.18.2.1/24 dev rb
  run ip -n "$R" link set ra up
  run ip -n "$R" link set rb up
  if ! out=$(ip netns exec "$R" ip tuntap add dev mmlink mode tun 2>&1); then
    fail_up "cannot create TUN device in $R: ${out//$'\n'/ }"
  fi
  run ip -n "$R" link set mmlink txqueuelen 10000
  run ip -n "$R" link set mmlink up
  for k in net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
           net.ipv4.conf.all.accept_local=1 net.ipv4.conf.all.send_redirects=0 \
           net.ipv4.conf.default.send_redirects=0; do
    run ip netns exec "$R" sysctl -qw "$k"
  done
  for i in ra rb mmlink lo; do
    run ip netns exec "$R" sysctl -qw "net.ipv4.conf.$i.rp_filter=0"
    run ip netns exec "$R" sysctl -qw "net.ipv4.conf.$i.accept_local=1"
    run ip netns exec "$R" sysctl -qw "net.ipv4.conf.$i.send_redirects=0"
  done
  run ip -n "$R" route add default dev mmlink table 100
  run ip -n "$R" route add default dev mmlink table 101
  run ip -n "$R" rule add iif ra lookup 100
  run ip -n "$R" rule add iif rb lookup 101
  return 0
}

case "$CMD" in
  up) up ;;
  down) down ;;
  *) usage ;;
esac
