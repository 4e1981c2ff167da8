#!/usr/bin/env bash
# netns.sh up PREFIX | up-nat PREFIX | down PREFIX
#   Namespaces PREFIX-a (sender, mma 198.18.1.2/24), PREFIX-b (receiver, mmb 198.18.2.2/24) and
#   PREFIX-r (router: ra 198.18.1.1/24, rb 198.18.2.1/24, TUN mmlink). Packets arriving on ra/rb are
#   policy-routed into mmlink (tables 100/101); linkem.py reads them, emulates the link, and writes
#   them back into mmlink, from where R's main table forwards them.
#   up-nat: the same link, but each host behind a masquerading router (PREFIX-na, PREFIX-nb; public
#   sides 198.19.1.2 and 198.19.2.2) and a TURN relay host PREFIX-t (mmt 198.19.3.2) beside the
#   router. The router drops UDP between the two public sides, so the peers' media meets only
#   through the relay; the sender's signalling port (TCP 8080) is forwarded by its NAT.
#   PREFIX: 1-12 chars [a-z0-9], starting with a letter.
set -u

die() { echo "netns.sh: $*" >&2; exit 1; }

usage() { echo "usage: netns.sh up|up-nat|down PREFIX" >&2; exit 2; }

[ $# -eq 2 ] || usage
CMD=$1
P=$2
[[ "$P" =~ ^[a-z][a-z0-9]{0,11}$ ]] || die "bad PREFIX '$P' (1-12 chars [a-z0-9], starting with a letter)"
A="$P-a"; B="$P-b"; R="$P-r"; NA="$P-na"; NB="$P-nb"; T="$P-t"

ns_exists() { ip netns list 2>/dev/null | awk '{print $1}' | grep -qx "$1"; }

down() {
  local ns pids
  for ns in "$A" "$B" "$R" "$NA" "$NB" "$T"; do
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

# The router forwards what the TUN loop writes back: no reverse-path filter, local sources accepted,
# no redirects. Arguments: its interfaces.
router_sysctls() {
  local k i
  for k in net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
           net.ipv4.conf.all.accept_local=1 net.ipv4.conf.all.send_redirects=0 \
           net.ipv4.conf.default.send_redirects=0; do
    run ip netns exec "$R" sysctl -qw "$k"
  done
  for i in "$@"; do
    run ip netns exec "$R" sysctl -qw "net.ipv4.conf.$i.rp_filter=0"
    run ip netns exec "$R" sysctl -qw "net.ipv4.conf.$i.accept_local=1"
    run ip netns exec "$R" sysctl -qw "net.ipv4.conf.$i.send_redirects=0"
  done
}

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
  router_sysctls ra rb mmlink lo
  run ip -n "$R" route add default dev mmlink table 100
  run ip -n "$R" route add default dev mmlink table 101
  run ip -n "$R" rule add iif ra lookup 100
  run ip -n "$R" rule add iif rb lookup 101
  return 0
}

up_nat() {
  [ "$(id -u)" -eq 0 ] || die "must run as root"
  command -v ip >/dev/null 2>&1 || die "iproute2 'ip' not found"
  command -v iptables >/dev/null 2>&1 || die "iptables not found (apt-get install -y iptables)"
  [ -c /dev/net/tun ] || die "no /dev/net/tun (TUN not available)"
  for ns in "$A" "$B" "$R" "$NA" "$NB" "$T"; do
    ns_exists "$ns" && die "namespace $ns already exists (run: netns.sh down $P)"
  done
  local err
  if ! err=$(ip netns add "$A" 2>&1); then fail_up "cannot create network namespace $A: ${err//$'\n'/ }"; fi
  run() { local out; if ! out=$("$@" 2>&1); then fail_up "failed: $* : ${out//$'\n'/ }"; fi; }
  for ns in "$B" "$R" "$NA" "$NB" "$T"; do run ip netns add "$ns"; done
  run ip link add mma netns "$A" type veth peer name nai netns "$NA"
  run ip link add nao netns "$NA" type veth peer name ra netns "$R"
  run ip link add mmb netns "$B" type veth peer name nbi netns "$NB"
  run ip link add nbo netns "$NB" type veth peer name rb netns "$R"
  run ip link add mmt netns "$T" type veth peer name rt netns "$R"
  for ns in "$A" "$B" "$R" "$NA" "$NB" "$T"; do
    run ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
    run ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
    run ip -n "$ns" link set lo up
  done
  addr() { run ip -n "$1" addr add "$3" dev "$2"; run ip -n "$1" link set "$2" up; }
  addr "$A" mma 198.18.1.2/24; run ip -n "$A" route add default via 198.18.1.1
  addr "$B" mmb 198.18.2.2/24; run ip -n "$B" route add default via 198.18.2.1
  addr "$T" mmt 198.19.3.2/24; run ip -n "$T" route add default via 198.19.3.1
  addr "$NA" nai 198.18.1.1/24; addr "$NA" nao 198.19.1.2/24; run ip -n "$NA" route add default via 198.19.1.1
  addr "$NB" nbi 198.18.2.1/24; addr "$NB" nbo 198.19.2.2/24; run ip -n "$NB" route add default via 198.19.2.1
  for n in "$NA" "$NB"; do run ip netns exec "$n" sysctl -qw net.ipv4.ip_forward=1; done
  run ip netns exec "$NA" iptables -t nat -A POSTROUTING -o nao -j MASQUERADE
  run ip netns exec "$NA" iptables -t nat -A PREROUTING -i nao -p tcp --dport 8080 -j DNAT --to-destination 198.18.1.2:8080
  run ip netns exec "$NB" iptables -t nat -A POSTROUTING -o nbo -j MASQUERADE
  addr "$R" ra 198.19.1.1/24; addr "$R" rb 198.19.2.1/24; addr "$R" rt 198.19.3.1/24
  if ! out=$(ip netns exec "$R" ip tuntap add dev mmlink mode tun 2>&1); then
    fail_up "cannot create TUN device in $R: ${out//$'\n'/ }"
  fi
  run ip -n "$R" link set mmlink txqueuelen 10000
  run ip -n "$R" link set mmlink up
  router_sysctls ra rb rt mmlink lo
  local t=100
  for i in ra rb rt; do
    run ip -n "$R" route add default dev mmlink table $t
    run ip -n "$R" rule add iif $i lookup $t
    t=$((t + 1))
  done
  # No direct media between the two sides: only the relay joins them (signalling over TCP stays).
  run ip netns exec "$R" iptables -A FORWARD -p udp -s 198.19.1.0/24 -d 198.19.2.0/24 -j DROP
  run ip netns exec "$R" iptables -A FORWARD -p udp -s 198.19.2.0/24 -d 198.19.1.0/24 -j DROP
  return 0
}

case "$CMD" in
  up) up ;;
  up-nat) up_nat ;;
  down) down ;;
  *) usage ;;
esac
