#!/bin/sh
# netns.sh up NS1 NS2 | down NS1 NS2
#
# Makes (or removes) two network namespaces joined by a veth pair, as two test "hosts" for
# gompirun's multi-host tests: NS1 has 10.77.0.1/24 on gompi0, NS2 has 10.77.0.2/24 on gompi1.
# Traffic stays between these two namespaces. Needs root (CAP_SYS_ADMIN, CAP_NET_ADMIN) and
# iproute2.
set -e
cmd=$1 ns1=$2 ns2=$3
if [ -z "$ns1" ] || [ -z "$ns2" ]; then
	echo "usage: netns.sh up|down NS1 NS2" >&2
	exit 2
fi
case $cmd in
up)
	ip netns add "$ns1"
	ip netns add "$ns2"
	ip -n "$ns1" link add gompi0 type veth peer name gompi1 netns "$ns2"
	ip -n "$ns1" addr add 10.77.0.1/24 dev gompi0
	ip -n "$ns2" addr add 10.77.0.2/24 dev gompi1
	ip -n "$ns1" link set lo up
	ip -n "$ns2" link set lo up
	ip -n "$ns1" link set gompi0 up
	ip -n "$ns2" link set gompi1 up
	;;
down)
	# Deleting a namespace deletes the veth end inside it, and with it the pair.
	ip netns del "$ns1" 2>/dev/null || true
	ip netns del "$ns2" 2>/dev/null || true
	;;
*)
	echo "usage: netns.sh up|down NS1 NS2" >&2
	exit 2
	;;
esac
