package collectives

import (
	"os"
	"strconv"
	"strings"
	"sync"
)

// Segmented ring steps. A step of a ring reduction sends one block to the right neighbour while
// the block of the same index from the left neighbour arrives and is combined into the result.
// Whole blocks, at a 1 MiB Allreduce on 2 ranks, are 512 KiB each: the block sent, the block
// received and the result's block together overflow a core's 1 MiB L2 cache before the combine
// reads them again. Cut into segments, each segment is combined while it is still in cache.
// Measured with gompi-bench on the 2-core development machine, medians of 7 alternating runs
// (docs/collectives.md "Segments"): on shared memory, 128 KiB segments took a 1 MiB Allreduce
// on 2 ranks from 179 to 164 µs; over TCP they made it slower (1.08 ms whole, 1.59 ms with
// 256 KiB, 1.76 ms with 128 KiB: each segment pays the rendezvous round trip), so there only
// blocks beyond 512 KiB are cut (a tie at 4 MiB).
//
// Every rank cuts a step into the same number of segments, derived from the largest block and
// the transport (oneHost, which the transport reports alike on every rank) only, so that the k-th segment one rank sends is the k-th its
// neighbour receives even when blocks differ in length by an element.

// ringSegmentBytes is the largest segment of a ring step, by transport: on shared memory (every
// rank on one host) and elsewhere. GOMPI_COLL_SEGMENT (bytes, with an optional K or M suffix;
// "0" or "off" for whole blocks) overrides both, for measurements and teaching.
const (
	ringSegmentBytesShm = 128 << 10
	ringSegmentBytesNet = 512 << 10
)

// segmentSetting is GOMPI_COLL_SEGMENT, read once: -1 when unset, 0 for whole blocks, else the
// segment size in bytes. A value that does not parse counts as unset (and is reported by
// nothing: a tuning knob, not part of a program's meaning).
var segmentSetting = sync.OnceValue(func() int { return parseSegment(os.Getenv("GOMPI_COLL_SEGMENT")) })

// parseSegment reads a segment size: bytes, or with a K or M suffix (KiB, MiB); "0" and "off"
// mean whole blocks; empty or unreadable, -1.
func parseSegment(v string) int {
	v = strings.ToUpper(strings.TrimSpace(v))
	if v == "" {
		return -1
	}
	if v == "OFF" {
		return 0
	}
	mult := 1
	switch {
	case strings.HasSuffix(v, "K"):
		mult, v = 1<<10, strings.TrimSuffix(v, "K")
	case strings.HasSuffix(v, "M"):
		mult, v = 1<<20, strings.TrimSuffix(v, "M")
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return -1
	}
	return n * mult
}

// ringSegments returns how many segments each step of a ring over blocks of at most maxBlock
// elements of elem bytes is cut into, over shared memory when shm.
func ringSegments(maxBlock, elem int, shm bool) int {
	seg := segmentSetting()
	if seg < 0 {
		seg = ringSegmentBytesNet
		if shm {
			seg = ringSegmentBytesShm
		}
	}
	bytes := maxBlock * elem
	if seg == 0 || bytes <= seg {
		return 1
	}
	return (bytes + seg - 1) / seg
}

// reduceStep is one step of a ring reduction in segs segments: it sends sb to rank dest while
// it receives from rank src a block as long as dst, in segments of tmp, and leaves
// dst = from ⊕ received (dst may be from; the received block is on the right, which a
// commutative op does not mind). Segment k of a block is block(len, segs, k) of it, on both sides of every pair.
func reduceStep[T any](r *run, sb []T, dest int, dst, from, tmp []T, src, segs int, d Reduction[T]) {
	for k := range segs {
		slo, shi := block(len(sb), segs, k)
		lo, hi := block(len(dst), segs, k)
		t := tmp[lo:hi]
		r.sendrecv(asBytes(sb[slo:shi]), dest, asBytes(t), src)
		if r.err != nil {
			continue // keep to the schedule: sendrecv sends aborts and drops what comes
		}
		d.combineInto(dst[lo:hi], from[lo:hi], t)
	}
}
