#!/bin/sh
# netns-agent.sh HOST WORD...: a gompirun launch agent for the namespace test. Like ssh, it
# runs the words as a shell command "on" HOST: here, inside the network namespace that stands
# for the host (10.77.0.1 -> $GOMPI_TEST_NS1, 10.77.0.2 -> $GOMPI_TEST_NS2; see netns.sh), also
# when named hosta and hostb (names no resolver knows, so gompirun cannot tell the ranks an address).
host=$1
shift
case $host in
10.77.0.1 | hosta) ns=$GOMPI_TEST_NS1 ;;
10.77.0.2 | hostb) ns=$GOMPI_TEST_NS2 ;;
*)
	echo "netns-agent: unknown host $host" >&2
	exit 255
	;;
esac
exec ip netns exec "$ns" /bin/sh -c "$*"
