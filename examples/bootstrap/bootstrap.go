package main

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/gompi/gompi/collectives"
	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/examples/internal/blocks"
	"github.com/gompi/gompi/examples/internal/pyfmt"
)

// dataStream is the second PCG seed of the data's generator; resample b uses b, and b < B is
// far below it, so no resample shares the data's stream.
const dataStream = math.MaxUint64

// options are the program's flags.
type options struct {
	pairs     int     // n, the number of (x, y) pairs
	rho       float64 // correlation the pairs are drawn with
	resamples int     // B
	seed      uint64  // seed of the data and the resamples
	level     float64 // confidence level of the interval
}

// check reports a flag value the program cannot use. Every rank calls it, so that every rank
// fails, instead of some waiting for ranks that left.
func (o options) check() error {
	switch {
	case o.pairs < 3:
		return fmt.Errorf("bootstrap: -pairs %d: a correlation needs at least 3 pairs", o.pairs)
	case !(math.Abs(o.rho) <= 1):
		return fmt.Errorf("bootstrap: -rho %g: a correlation lies in [-1, 1]", o.rho)
	case o.resamples < 1:
		return fmt.Errorf("bootstrap: -B %d: need at least one resample", o.resamples)
	case !(o.level > 0 && o.level < 1):
		return fmt.Errorf("bootstrap: -level %g: want a confidence level between 0 and 1, such as 0.95", o.level)
	}
	return nil
}

// data returns n pairs from a bivariate normal with correlation rho: x = z₁,
// y = rho·z₁ + √(1-rho²)·z₂ for independent standard normals z₁, z₂.
func data(n int, rho float64, seed uint64) (x, y []float64) {
	rng := rand.New(rand.NewPCG(seed, dataStream))
	x, y = make([]float64, n), make([]float64, n)
	for i := range n {
		z1, z2 := rng.NormFloat64(), rng.NormFloat64()
		x[i], y[i] = z1, rho*z1+math.Sqrt(1-rho*rho)*z2
	}
	return x, y
}

// pearson returns the correlation coefficient of the pairs (x[i], y[i]) for i in idx (indices
// may repeat), computed in two passes (means, then centred sums) so that data far from 0 lose
// no digits, and clipped to [-1, 1] as numpy.corrcoef clips it (rounding can overshoot 1 by an
// ulp when the pairs lie on a line); NaN if the x or the y of those pairs are all equal.
func pearson(x, y []float64, idx []int) float64 {
	var mx, my float64
	for _, i := range idx {
		mx += x[i]
		my += y[i]
	}
	mx /= float64(len(idx))
	my /= float64(len(idx))
	var sxx, syy, sxy float64
	for _, i := range idx {
		dx, dy := x[i]-mx, y[i]-my
		sxx += dx * dx
		syy += dy * dy
		sxy += dx * dy
	}
	if sxx == 0 || syy == 0 {
		return math.NaN()
	}
	return max(-1, min(1, sxy/math.Sqrt(sxx*syy)))
}

// resample returns the r of resample b: len(x) pairs drawn with replacement by PCG(seed, b).
// idx is scratch space of len(x).
func resample(x, y []float64, seed uint64, b int, idx []int) float64 {
	rng := rand.New(rand.NewPCG(seed, uint64(b)))
	for i := range idx {
		idx[i] = rng.IntN(len(x))
	}
	return pearson(x, y, idx)
}

// percentile returns the q-quantile (0 <= q <= 1) of sorted, interpolating linearly between
// the order statistics around position q·(len-1), NumPy's default method ("linear").
func percentile(sorted []float64, q float64) float64 {
	pos := q * float64(len(sorted)-1)
	lo := int(pos)
	if lo >= len(sorted)-1 {
		return sorted[len(sorted)-1]
	}
	t := pos - float64(lo)
	return sorted[lo] + t*(sorted[lo+1]-sorted[lo])
}

// bootstrap is the program: rank 0 makes the data and broadcasts it, every rank computes the r
// of its block of resamples, Gatherv collects them on rank 0 in resample order, and rank 0
// checks them and writes the statistics to out.
func bootstrap(c *comm.Comm, o options, out io.Writer) error {
	if err := o.check(); err != nil {
		return err
	}
	n, p, me := o.pairs, c.Size(), c.Rank()
	xy := make([]float64, 2*n) // x, then y: one broadcast
	if me == 0 {
		x, y := data(n, o.rho, o.seed)
		copy(xy, x)
		copy(xy[n:], y)
	}
	if err := collectives.Bcast(c, xy, 0); err != nil {
		return err
	}
	x, y := xy[:n], xy[n:]

	first, counts := blocks.Even(o.resamples, p)
	mine := make([]float64, counts[me])
	idx := make([]int, n)
	for k := range mine {
		mine[k] = resample(x, y, o.seed, first[me]+k, idx)
	}
	var all []float64
	if me == 0 {
		all = make([]float64, o.resamples)
	}
	if err := collectives.Gatherv(c, mine, collectives.Blocks[float64]{Buf: all, Counts: counts, Displs: first}, 0); err != nil {
		return err
	}
	if me != 0 {
		return nil
	}

	// The decomposition's check: each block's ends, recomputed here, bit for bit.
	for r := range p {
		if counts[r] == 0 {
			continue
		}
		for _, b := range []int{first[r], first[r] + counts[r] - 1} {
			if want := resample(x, y, o.seed, b, idx); math.Float64bits(all[b]) != math.Float64bits(want) {
				return fmt.Errorf("bootstrap: resample %d (rank %d's block) gathered as %v, recomputed as %v", b, r, all[b], want)
			}
		}
	}
	rs := make([]float64, 0, len(all))
	for _, r := range all {
		if !math.IsNaN(r) {
			rs = append(rs, r)
		}
	}
	if len(rs) == 0 {
		return fmt.Errorf("bootstrap: all %d resamples have a constant x or y: use more -pairs", len(all))
	}
	var mean float64
	for _, r := range rs {
		mean += r
	}
	mean /= float64(len(rs))
	var ss float64
	for _, r := range rs {
		ss += (r - mean) * (r - mean)
	}
	stdErr := math.Sqrt(ss / float64(max(len(rs)-1, 1)))
	slices.Sort(rs)
	lo, hi := percentile(rs, (1-o.level)/2), percentile(rs, (1+o.level)/2)

	for i := range idx {
		idx[i] = i
	}
	ranks := fmt.Sprintf("%d ranks", p)
	if p == 1 {
		ranks = "1 rank"
	}
	fmt.Fprintf(out, "%d pairs with correlation %s by construction: sample r = %s\n", n, pyfmt.Float(o.rho), pyfmt.Float(pearson(x, y, idx)))
	fmt.Fprintf(out, "%d resamples on %s; resample b draws its pairs with PCG(%d, b)\n", o.resamples, ranks, o.seed)
	if dropped := len(all) - len(rs); dropped > 0 {
		fmt.Fprintf(out, "%d resamples left out: their x or y is constant, so they have no r\n", dropped)
	}
	fmt.Fprintf(out, "bootstrap mean r = %s, standard error %s\n", pyfmt.Float(mean), pyfmt.Float(stdErr))
	fmt.Fprintf(out, "%g%% percentile interval: [%s, %s]\n", 100*o.level, pyfmt.Float(lo), pyfmt.Float(hi))
	return nil
}
