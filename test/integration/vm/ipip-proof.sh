#!/bin/sh
# Runs INSIDE the VM (scripts/vm-run -- sh test/integration/vm/ipip-proof.sh): the raw kernel doing what the
# lab's ipip stack needs, no lab code. Two hosts (namespaces) on one underlay veth pair, each with tunl0
# (the kernel's fallback IPIP device) holding a /32 at MTU 1440 and an onlink route to the other host's
# pod block via tunl0; a capture on the underlay shows IP protocol 4 carrying the pods' ICMP.
set -eu
modprobe ipip
a=vmproof-a
b=vmproof-b
cleanup() {
  ip netns del "$a" 2>/dev/null || true
  ip netns del "$b" 2>/dev/null || true
}
trap cleanup EXIT
ip netns add "$a"
ip netns add "$b"
ip link add eth0 netns "$a" type veth peer name eth0 netns "$b"
ip -n "$a" addr add 192.168.19.165/24 dev eth0
ip -n "$b" addr add 192.168.19.166/24 dev eth0
for ns in "$a" "$b"; do
  ip -n "$ns" link set lo up
  ip -n "$ns" link set eth0 up
  ip -n "$ns" link set tunl0 mtu 1440 up
done
ip -n "$a" addr add 10.244.1.1/32 dev tunl0
ip -n "$b" addr add 10.244.2.1/32 dev tunl0
ip -n "$a" route add 10.244.2.0/26 via 192.168.19.166 dev tunl0 onlink
ip -n "$b" route add 10.244.1.0/26 via 192.168.19.165 dev tunl0 onlink
echo "== tunl0"
ip -n "$a" -d addr show dev tunl0
echo "== routes"
ip -n "$a" route show dev tunl0
cap=$(mktemp)
ip netns exec "$b" tcpdump -nn -v -l -i eth0 -c 2 'ip proto 4' >"$cap" 2>"$cap.err" &
capture=$!
i=0
until grep -q "listening on" "$cap.err" 2>/dev/null; do
  i=$((i + 1))
  [ "$i" -lt 100 ] || { echo "tcpdump did not start"; cat "$cap.err"; exit 1; }
  sleep 0.1
done
echo "== ping"
ip netns exec "$a" ping -c 1 -W 5 10.244.2.1
wait "$capture"
echo "== capture on the underlay (ip proto 4)"
cat "$cap"
rm -f "$cap" "$cap.err"
