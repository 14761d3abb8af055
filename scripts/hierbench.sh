#!/bin/bash
# Node-aware collectives against the flat ones across two network namespaces (3 + 2 ranks),
# gompi-bench with GOMPI_COLL_HIER=on and off, alternating, 5 rounds; print medians by hand
# (docs/BENCHMARKS.md "Node-aware collectives"). Needs root and iproute2, like the namespace test.
set -e
cd "$(dirname "$0")/.."
D=$(mktemp -d)
go build -o $D/gompirun ./cmd/gompirun
go build -o $D/gompi-bench ./cmd/gompi-bench
S=$PWD/cmd/gompirun/testdata
export GOMPI_TEST_NS1=gompi-hb-a GOMPI_TEST_NS2=gompi-hb-b
sh $S/netns.sh down $GOMPI_TEST_NS1 $GOMPI_TEST_NS2 || true
sh $S/netns.sh up $GOMPI_TEST_NS1 $GOMPI_TEST_NS2
trap 'sh $S/netns.sh down $GOMPI_TEST_NS1 $GOMPI_TEST_NS2' EXIT
for r in 1 2 3 4 5; do
  for hier in on off; do
    for b in allreduce bcast allgather barrier; do
      sizes="--sizes 8,1024,65536,1048576"
      [ $b = barrier ] && sizes=""
      echo "### round $r hier=$hier $b"
      GOMPI_COLL_HIER=$hier ip netns exec $GOMPI_TEST_NS1 $D/gompirun --host 10.77.0.1:3,10.77.0.2:2 \
        --launch-agent "/bin/sh $S/netns-agent.sh" -x GOMPI_COLL_HIER=$hier $D/gompi-bench $b $sizes | grep -v '^#'
    done
  done
done
