package main

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"

	"github.com/gompi/gompi/collectives"
	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/examples/internal/blocks"
	"github.com/gompi/gompi/examples/internal/timing"
)

// maxN bounds -n well below where N² overflows an int: an 8 TiB matrix.
const maxN = 1 << 20

// options are the program's flags.
type options struct {
	n       int    // size of A (N×N) and x
	seed    uint64 // seed of A and x
	threads int    // goroutines per rank; 0: GOMAXPROCS
	repeat  int    // products timed; the fastest counts
}

// check reports a flag value the program cannot use. Every rank calls it, so that every rank
// fails, instead of some waiting for ranks that left.
func (o options) check() error {
	switch {
	case o.n < 1:
		return fmt.Errorf("hybrid: -n %d: need a matrix of at least 1×1", o.n)
	case o.n > maxN:
		return fmt.Errorf("hybrid: -n %d: an N×N matrix of float64 takes 8·N² bytes, here %.3g TB", o.n, 8*float64(o.n)*float64(o.n)/1e12)
	case o.threads < 0:
		return fmt.Errorf("hybrid: -threads %d: want a number of goroutines per rank, or 0 for GOMAXPROCS", o.threads)
	case o.repeat < 1:
		return fmt.Errorf("hybrid: -repeat %d: need at least one product", o.repeat)
	}
	return nil
}

// input returns A (row-major) and x, uniform in [0, 1) from PCG(seed, 0), A first, as
// examples/matvec draws them.
func input(n int, seed uint64) (a, x []float64) {
	rng := rand.New(rand.NewPCG(seed, 0))
	a, x = make([]float64, n*n), make([]float64, n)
	for i := range a {
		a[i] = rng.Float64()
	}
	for i := range x {
		x[i] = rng.Float64()
	}
	return a, x
}

// rows computes y[i] = Σⱼ a[i·n+j]·x[j] for every row i of a (row-major, n columns): the loop
// every worker runs on its rows, and the serial product on all of them.
func rows(a []float64, n int, x, y []float64) {
	for i := range y {
		s := 0.0
		for j, v := range a[i*n : (i+1)*n] {
			s += v * x[j]
		}
		y[i] = s
	}
}

// threaded computes y = a x with the rows of a (row-major, n columns) shared by t goroutines in
// blocks, and returns when all are done: OpenMP's "parallel for" with a static schedule.
func threaded(a []float64, n int, x, y []float64, t int) {
	first, counts := blocks.Even(len(y), t)
	var wg sync.WaitGroup
	for g := range t {
		lo, hi := first[g], first[g]+counts[g]
		wg.Go(func() { rows(a[lo*n:hi*n], n, x, y[lo:hi]) })
	}
	wg.Wait()
}

// hybrid is the program: rank 0 makes A and x, broadcasts x and scatters A's rows in blocks;
// each rank multiplies its rows by x with -threads goroutines and Allgatherv assembles y, -repeat
// times; rank 0 compares y with its serial product and writes the result and times to out.
func hybrid(c *comm.Comm, o options, out io.Writer) error {
	if err := o.check(); err != nil {
		return err
	}
	n, p, me := o.n, c.Size(), c.Rank()
	var a, x []float64
	if me == 0 {
		a, x = input(n, o.seed)
	} else {
		x = make([]float64, n)
	}
	if err := collectives.Bcast(c, x, 0); err != nil {
		return err
	}
	first, counts := blocks.Even(n, p)
	elems, displs := make([]int, p), make([]int, p)
	for r := range p {
		elems[r], displs[r] = counts[r]*n, first[r]*n
	}
	local := make([]float64, elems[me])
	if err := collectives.Scatterv(c, collectives.Blocks[float64]{Buf: a, Counts: elems, Displs: displs}, local, 0); err != nil {
		return err
	}

	threads := o.threads
	if threads == 0 {
		threads = runtime.GOMAXPROCS(0) // read now: comm.Init set it to the rank's share of the host
	}
	yLocal, y := make([]float64, counts[me]), make([]float64, n)
	parallel, err := timing.Parallel(c, o.repeat, func() error {
		threaded(local, n, x, yLocal, threads)
		return collectives.Allgatherv(c, yLocal, collectives.Blocks[float64]{Buf: y, Counts: counts, Displs: first})
	})
	if err != nil || me != 0 {
		return err
	}
	serialY := make([]float64, n)
	serial := timing.Serial(o.repeat, func() { rows(a, n, x, serialY) })
	maxDiff, differ := 0.0, -1 // differ: the first y[i] that is not the serial one, bit for bit
	for i := range y {
		maxDiff = max(maxDiff, math.Abs(y[i]-serialY[i]))
		if differ < 0 && math.Float64bits(y[i]) != math.Float64bits(serialY[i]) {
			differ = i
		}
	}
	same := ""
	if differ < 0 {
		same = " (bit for bit)"
	}
	workers := fmt.Sprintf("%d rank%s × %d goroutine%s", p, plural(p), threads, plural(threads))
	fmt.Fprintf(out, "y = A x for N = %d on %s; max |y - serial y| = %g%s\n", n, workers, maxDiff, same)
	fmt.Fprintf(out, "time per product %.3g ms on %s, %.3g ms serial on rank 0: speed-up %.3g\n",
		parallel.Seconds()*1e3, workers, serial.Seconds()*1e3, serial.Seconds()/parallel.Seconds())
	if differ >= 0 {
		return fmt.Errorf("hybrid: y[%d] = %v, the serial product has %v", differ, y[differ], serialY[differ])
	}
	return nil
}

// plural is "s" unless n is 1.
func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
