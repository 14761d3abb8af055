package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"

	"github.com/gompi/gompi/collectives"
	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/examples/internal/blocks"
	"github.com/gompi/gompi/examples/internal/pyfmt"
	"github.com/gompi/gompi/examples/internal/timing"
)

// chunk is the number of points drawn from one generator. Chunk k is drawn from PCG(seed, k)
// whichever rank draws it, so the hit count does not depend on the number of ranks.
const chunk = 1 << 16

// options are the program's flags.
type options struct {
	n    int64   // number of points (with tol > 0, the most)
	seed uint64  // seed of the generators
	tol  float64 // 0: draw n points, Reduce; > 0: rounds and Allreduce until the standard error <= tol
	// round is the number of chunks in a round with tol > 0. The default, 64 (about 4 million
	// points), makes a round's Allreduce cost little beside drawing the points.
	round int
	// repeat is the number of times the work is done, on p ranks and then on rank 0 alone; the
	// fastest of each is reported.
	repeat int
}

// check reports a flag value the program cannot use. Every rank calls it, so that every rank
// fails, instead of some waiting for ranks that left.
func (o options) check() error {
	if o.n < 1 {
		return fmt.Errorf("montecarlo: -n %d: need at least one point", o.n)
	}
	if !(o.tol >= 0) || math.IsInf(o.tol, 1) {
		return fmt.Errorf("montecarlo: -tol %g: want 0 (off) or a positive standard error", o.tol)
	}
	if o.repeat < 1 {
		return fmt.Errorf("montecarlo: -repeat %d: need at least one run", o.repeat)
	}
	if o.round < 1 {
		return fmt.Errorf("montecarlo: -round %d: need at least one chunk per round", o.round)
	}
	return nil
}

// points returns how many of a job's n points chunks [0, k) hold (the last chunk may be short).
func points(k int, n int64) int64 { return min(int64(k)*chunk, n) }

// hits counts the points inside the quarter circle among chunks [first, first+count) of a job
// of n points drawn with seed.
func hits(first, count int, n int64, seed uint64) int64 {
	var in int64
	for k := first; k < first+count; k++ {
		src := rand.NewPCG(seed, uint64(k))
		for range points(k+1, n) - points(k, n) {
			// Uniform in [0, 1) from the top 53 bits, as rand.Float64 does from the low ones;
			// calling the PCG directly spares an interface call per number.
			x := float64(src.Uint64()>>11) * 0x1p-53
			y := float64(src.Uint64()>>11) * 0x1p-53
			if x*x+y*y < 1 {
				in++
			}
		}
	}
	return in
}

// stdErr is the standard error of the estimate 4·in/n of π, estimated from the data.
func stdErr(in, n int64) float64 {
	f := float64(in) / float64(n)
	return 4 * math.Sqrt(f*(1-f)/float64(n))
}

// montecarlo is the program; rank 0 writes the result to out.
func montecarlo(c *comm.Comm, o options, out io.Writer) error {
	if err := o.check(); err != nil {
		return err
	}
	var r result
	parallel, err := timing.Parallel(c, o.repeat, func() (err error) {
		r, err = draw(c, o)
		return err
	})
	if err != nil || c.Rank() != 0 {
		return err
	}
	var alone int64
	serial := timing.Serial(o.repeat, func() { alone = hits(0, r.chunks, o.n, o.seed) })

	n := points(r.chunks, o.n)
	estimate := 4 * float64(r.inside) / float64(n)
	inRounds, ranks, how := "", plural(c.Size(), "rank"), "Reduce of the hit counts"
	if o.tol > 0 {
		inRounds = " in " + plural(r.rounds, "round")
		how = fmt.Sprintf("Allreduce of the hit counts after each round, until the standard error ≤ %g", o.tol)
	}
	fmt.Fprintf(out, "pi ≈ %s from %d points%s on %s (%s)\n", pyfmt.Float(estimate), n, inRounds, ranks, how)
	fmt.Fprintf(out, "error = %.3g, standard error %.3g\n", estimate-math.Pi, stdErr(r.inside, n))
	if o.tol > 0 && stdErr(r.inside, n) > o.tol {
		fmt.Fprintf(out, "the standard error is still above -tol after all -n %d points: raise -n to reach it\n", o.n)
	}
	fmt.Fprintf(out, "time on %s %.3g s; rank 0 alone, the same points: %.3g s; speed-up %.3g\n",
		ranks, parallel.Seconds(), serial.Seconds(), serial.Seconds()/parallel.Seconds())
	if alone != r.inside {
		return fmt.Errorf("montecarlo: the ranks counted %d hits, rank 0 alone %d in the same points", r.inside, alone)
	}
	q := math.Pi / 4
	if sigma := 4 * math.Sqrt(q*(1-q)/float64(n)); math.Abs(estimate-math.Pi) > 5*sigma {
		return errors.New("montecarlo: the estimate is more than 5 standard errors from π")
	}
	return nil
}

// result is what the ranks found together.
type result struct {
	inside int64 // the total hit count (on rank 0; with tol > 0, on every rank)
	chunks int   // chunks [0, chunks) were drawn
	rounds int   // in this many rounds
}

// draw is the parallel part: every rank counts the hits in its block of chunks, and Reduce adds
// the counts on rank 0; or, with tol > 0, the same round after round, each round's counts added
// by Allreduce on every rank, until the standard error is at most tol.
func draw(c *comm.Comm, o options) (result, error) {
	p, me := c.Size(), c.Rank()
	allChunks := int((o.n + chunk - 1) / chunk)
	if o.tol == 0 {
		first, counts := blocks.Even(allChunks, p)
		mine := []int64{hits(first[me], counts[me], o.n, o.seed)}
		total := []int64{0}
		err := collectives.Reduce(c, mine, total, collectives.Sum, 0)
		return result{inside: total[0], chunks: allChunks, rounds: 1}, err
	}
	var r result
	for r.chunks < allChunks {
		k := min(o.round, allChunks-r.chunks)
		first, counts := blocks.Even(k, p)
		mine := []int64{hits(r.chunks+first[me], counts[me], o.n, o.seed)}
		total := []int64{0}
		if err := collectives.Allreduce(c, mine, total, collectives.Sum); err != nil {
			return r, err
		}
		r.inside, r.chunks, r.rounds = r.inside+total[0], r.chunks+k, r.rounds+1
		if stdErr(r.inside, points(r.chunks, o.n)) <= o.tol {
			break
		}
	}
	return r, nil
}

// plural writes a count and a noun: "1 rank", "4 ranks".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
