package main

import (
	"fmt"
	"strconv"
	"strings"
)

// kind groups the benchmarks by how they are measured and printed.
type kind int

const (
	pointToPoint kind = iota // ranks 0 and 1, one value column
	collective               // every rank, Avg Latency(us) and optional Min, Max, Iterations
	barrierKind              // like collective, without a size column
)

// benchmark describes one benchmark: its command name, its OSU title without the "OSU MPI"
// prefix, how it is measured and the defaults it takes from OSU.
type benchmark struct {
	name     string // command name: "latency"
	title    string // "Latency Test"
	usage    string // one line for the help
	kind     kind
	column   string // value column of a point-to-point test: "Latency (us)"
	elemSize int    // bytes per element: 4 (float32) for the reductions, else 1
	// collective is the name collectives.Algorithm knows the collective by: "Allreduce".
	collective string
	// small and large are OSU's counts up to and above largeMessageSize.
	small, large counts
	// run measures one size: rank 0's value for a point-to-point test, each rank's mean time
	// per call in µs for a collective.
	run func(r *runner, size int, n counts) (float64, error)
}

// counts is a number of timed iterations and of untimed warm-up iterations before them.
type counts struct{ timed, warmup int }

// largeMessageSize is OSU's LARGE_MESSAGE_SIZE: above it the tests use their large counts. The
// reductions compare their element count with it (8192 float32 = 32 KiB), as OSU's allreduce
// did when it summed floats.
const largeMessageSize = 8192

// defaultMax is the largest default size, 4 MiB (OSU's point-to-point maximum).
const defaultMax = 4 << 20

// defaultWindow is OSU's window of back-to-back messages in the bandwidth tests.
const defaultWindow = 64

// The OSU iteration counts (osu-micro-benchmarks 7, c/util/osu_util.h), small then large.
var (
	latencyCounts    = [2]counts{{10000, 100}, {1000, 10}}
	bandwidthCounts  = [2]counts{{100, 10}, {20, 2}}
	collectiveCounts = [2]counts{{1000, 100}, {100, 10}}
)

// benchmarks lists every benchmark, in the order of the help.
var benchmarks = []*benchmark{
	{name: "latency", title: "Latency Test", kind: pointToPoint, column: "Latency (us)",
		usage:    "one-way latency between ranks 0 and 1 (half the round trip), µs",
		elemSize: 1, small: latencyCounts[0], large: latencyCounts[1], run: (*runner).latency},
	{name: "bw", title: "Bandwidth Test", kind: pointToPoint, column: "Bandwidth (MB/s)",
		usage:    "bandwidth from rank 0 to rank 1 in windows of nonblocking sends, MB/s",
		elemSize: 1, small: bandwidthCounts[0], large: bandwidthCounts[1], run: (*runner).bw},
	{name: "bibw", title: "Bi-Directional Bandwidth Test", kind: pointToPoint, column: "Bandwidth (MB/s)",
		usage:    "bandwidth between ranks 0 and 1 in both directions at once, MB/s",
		elemSize: 1, small: bandwidthCounts[0], large: bandwidthCounts[1], run: (*runner).bibw},
	{name: "allreduce", title: "Allreduce Latency Test", kind: collective, collective: "Allreduce",
		usage:    "time of one Allreduce (Sum of float32), µs",
		elemSize: 4, small: collectiveCounts[0], large: collectiveCounts[1], run: (*runner).allreduce},
	{name: "bcast", title: "Broadcast Latency Test", kind: collective, collective: "Bcast",
		usage:    "time of one Bcast from rank 0, µs",
		elemSize: 1, small: collectiveCounts[0], large: collectiveCounts[1], run: (*runner).bcast},
	{name: "reduce", title: "Reduce Latency Test", kind: collective, collective: "Reduce",
		usage:    "time of one Reduce (Sum of float32) to rank 0, µs",
		elemSize: 4, small: collectiveCounts[0], large: collectiveCounts[1], run: (*runner).reduce},
	{name: "allgather", title: "Allgather Latency Test", kind: collective, collective: "Allgather",
		usage:    "time of one Allgather of a block per rank, µs",
		elemSize: 1, small: collectiveCounts[0], large: collectiveCounts[1], run: (*runner).allgather},
	{name: "alltoall", title: "All-to-All Personalized Exchange Latency Test", kind: collective, collective: "Alltoall",
		usage:    "time of one Alltoall of a block per pair of ranks, µs",
		elemSize: 1, small: collectiveCounts[0], large: collectiveCounts[1], run: (*runner).alltoall},
	{name: "barrier", title: "Barrier Latency Test", kind: barrierKind, collective: "Barrier",
		usage:    "time of one Barrier, µs",
		elemSize: 1, small: collectiveCounts[0], large: collectiveCounts[0], run: (*runner).barrier},
}

// benchmarkNamed returns the benchmark called name, or nil.
func benchmarkNamed(name string) *benchmark {
	for _, b := range benchmarks {
		if b.name == name {
			return b
		}
	}
	return nil
}

// config is one run of gompi-bench: which benchmark, at which sizes, with how many iterations.
type config struct {
	bench      *benchmark
	sizes      []int
	iterations int  // timed iterations at every size; 0: OSU's count for the size
	warmup     int  // warm-up iterations at every size; -1: OSU's count for the size
	window     int  // messages in flight per iteration of bw and bibw
	full       bool // collectives: also print Min, Max and Iterations, like OSU's -f
	// hook, when set (tests only), is called on each rank with the received bytes just before
	// they are checked, after the last iteration of each size.
	hook func(rank, size int, recv []byte)
}

// countsFor returns the timed and warm-up iterations at size bytes.
func (cfg config) countsFor(size int) counts {
	b := cfg.bench
	n := b.small
	if size/b.elemSize > largeMessageSize {
		n = b.large
	}
	if cfg.iterations > 0 {
		n.timed = cfg.iterations
	}
	if cfg.warmup >= 0 {
		n.warmup = cfg.warmup
	}
	return n
}

// powersOfTwo returns min, 2·min, 4·min, ... up to max, as OSU steps its sizes (0 is followed by 1).
func powersOfTwo(min, max int) []int {
	var sizes []int
	for s := min; s <= max; {
		sizes = append(sizes, s)
		if s == 0 {
			s = 1
		} else {
			s *= 2
		}
	}
	return sizes
}

// parseSize reads a size in bytes: a plain number, or one with a K or M suffix (KiB, MiB).
func parseSize(s string) (int, error) {
	s = strings.TrimSpace(s)
	mult := 1
	switch {
	case strings.HasSuffix(s, "K") || strings.HasSuffix(s, "k"):
		mult, s = 1<<10, s[:len(s)-1]
	case strings.HasSuffix(s, "M") || strings.HasSuffix(s, "m"):
		mult, s = 1<<20, s[:len(s)-1]
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > (1<<30)/mult {
		return 0, fmt.Errorf("size %q: want a number of bytes from 0 to 1G, optionally with a K or M suffix", s)
	}
	return n * mult, nil
}

// parseSizes reads a comma-separated list of sizes.
func parseSizes(list string) ([]int, error) {
	var sizes []int
	for _, f := range strings.Split(list, ",") {
		n, err := parseSize(f)
		if err != nil {
			return nil, err
		}
		sizes = append(sizes, n)
	}
	return sizes, nil
}

// checkSizes rejects sizes a benchmark cannot run: 0 for the collectives, and sizes that are not
// a positive multiple of the element for the reductions.
func (b *benchmark) checkSizes(sizes []int) error {
	if len(sizes) == 0 {
		return fmt.Errorf("%s: no sizes to run", b.name)
	}
	for _, s := range sizes {
		switch {
		case b.kind == collective && s == 0:
			return fmt.Errorf("%s: size 0: collectives start at 1 byte", b.name)
		case s%b.elemSize != 0:
			return fmt.Errorf("%s sums float32 elements: size %d is not a multiple of %d bytes", b.name, s, b.elemSize)
		}
	}
	return nil
}
