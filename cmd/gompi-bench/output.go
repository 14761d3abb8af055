package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/gompi/gompi/collectives"
	"github.com/gompi/gompi/comm"
)

// The output is OSU's (osu-micro-benchmarks 7, c/util/osu_util.c): sizes left-aligned in 10
// characters, values right-aligned in 20 with two decimals; barrier has no size column and its
// value is right-aligned in 17. Only the title differs, so that nobody mistakes gompi's lines
// for OSU's, and the collectives add a "# Algorithm:" line naming gompi's algorithm per size.

// titlePrefix starts every title line where OSU writes "# OSU MPI".
const titlePrefix = "# gompi-bench"

// printHeader prints the title and column header; alg is the algorithm line of a collective.
func printHeader(w io.Writer, cfg config, alg string) {
	b := cfg.bench
	if b.kind != pointToPoint {
		fmt.Fprintln(w) // OSU's collective tests start with a blank line
	}
	fmt.Fprintf(w, "%s %s\n", titlePrefix, b.title)
	if b.elemSize == 4 {
		fmt.Fprintln(w, "# Datatype: float32 (MPI_FLOAT), Sum")
	}
	if alg != "" {
		fmt.Fprintf(w, "# Algorithm: %s\n", alg)
	}
	switch b.kind {
	case pointToPoint:
		fmt.Fprintf(w, "%-*s%*s\n", 10, "# Size", 20, b.column)
	case collective:
		fmt.Fprintf(w, "%-*s%*s", 10, "# Size", 20, "Avg Latency(us)")
		printFullHeader(w, cfg.full)
	case barrierKind:
		fmt.Fprint(w, "# Avg Latency(us)")
		printFullHeader(w, cfg.full)
	}
}

func printFullHeader(w io.Writer, full bool) {
	if full {
		fmt.Fprintf(w, "%*s%*s%*s", 20, "Min Latency(us)", 20, "Max Latency(us)", 12, "Iterations")
	}
	fmt.Fprintln(w)
}

// printRow prints a point-to-point line.
func printRow(w io.Writer, size int, v float64) {
	fmt.Fprintf(w, "%-*d%*.*f\n", 10, size, 20, 2, v)
}

// printCollectiveRow prints a collective's line: the mean over ranks of each rank's mean, and
// with --full the minimum and maximum over ranks and the number of timed iterations.
func printCollectiveRow(w io.Writer, cfg config, size int, avg, lo, hi float64, iterations int) {
	if cfg.bench.kind == barrierKind {
		fmt.Fprintf(w, "%*.*f", 17, 2, avg)
	} else {
		fmt.Fprintf(w, "%-*d%*.*f", 10, size, 20, 2, avg)
	}
	if cfg.full {
		fmt.Fprintf(w, "%*.*f%*.*f%*d", 20, 2, lo, 20, 2, hi, 12, iterations)
	}
	fmt.Fprintln(w)
}

// algorithmLine names the algorithm gompi runs at each size of a collective, grouping runs of
// sizes with the same algorithm: "recursive-doubling 4-8192, ring 16384-4194304".
func algorithmLine(c *comm.Comm, cfg config) (string, error) {
	b := cfg.bench
	if b.kind == pointToPoint {
		return "", nil
	}
	sizes := cfg.sizes
	if b.kind == barrierKind {
		sizes = []int{0}
	}
	var parts []string
	var cur string
	var first, last int
	flush := func() {
		switch {
		case cur == "":
		case b.kind == barrierKind:
			parts = append(parts, cur)
		case first == last:
			parts = append(parts, fmt.Sprintf("%s %d", cur, first))
		default:
			parts = append(parts, fmt.Sprintf("%s %d-%d", cur, first, last))
		}
	}
	for _, size := range sizes {
		name, err := algorithmAt(c, b, size)
		if err != nil {
			return "", err
		}
		if name != cur {
			flush()
			cur, first = name, size
		}
		last = size
	}
	flush()
	return strings.Join(parts, ", "), nil
}

// algorithmAt names the algorithm b's collective runs on c at size bytes: float32 elements for
// the reductions, bytes for the others.
func algorithmAt(c *comm.Comm, b *benchmark, size int) (string, error) {
	if b.elemSize == 4 {
		return collectives.Algorithm[float32](c, b.collective, size/4)
	}
	return collectives.Algorithm[byte](c, b.collective, size)
}
