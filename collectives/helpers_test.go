package collectives

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/transport/inproc"
)

// Inputs are computed from (rank, index) so that every expected result has a closed form. The
// float inputs are small integers, so sums and products are exact; floats are still compared
// with a relative tolerance of 1e-12 so that a reordered sum would pass too.
const floatTol = 1e-12

// counts used by every sweep; 1<<20 is added for a few sizes unless -short.
var counts = []int{0, 1, 7, 1000}

func bigCounts() []int {
	if testing.Short() {
		return nil
	}
	return []int{1 << 20}
}

// countsAt returns the counts for a sweep at communicator size p: counts, plus bigCounts when p
// is one of the sizes chosen for the large buffer (one non-power of two at least, to keep the
// -race run short).
func countsAt(p int, big ...int) []int {
	for _, b := range big {
		if p == b {
			return append(append([]int{}, counts...), bigCounts()...)
		}
	}
	return counts
}

// hangLimit bounds every multi-rank run: a collective that waits longer is reported as hung.
const hangLimit = 60 * time.Second

// runRanks runs f on p in-process ranks and reports the joined errors under label.
func runRanks(t *testing.T, label string, p int, f func(c *comm.Comm) error) {
	t.Helper()
	if err := runRanksErr(p, f); err != nil {
		t.Errorf("%s: %v", label, err)
	}
}

// runRanksErr runs f on p in-process ranks and returns the joined errors, failing with a
// "hung" error if they take longer than hangLimit.
func runRanksErr(p int, f func(c *comm.Comm) error) error {
	done := make(chan error, 1)
	go func() { done <- inproc.Run(p, f) }()
	select {
	case err := <-done:
		return err
	case <-time.After(hangLimit):
		return fmt.Errorf("did not finish within %v (hung?)", hangLimit)
	}
}

func fval(rank, i int) float64 { return float64((rank+1)*1000 + i%1000) }

func fvec(rank, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = fval(rank, i)
	}
	return v
}

func feq(a, b float64) bool {
	return a == b || math.Abs(a-b) <= floatTol*math.Max(math.Abs(a), math.Abs(b))
}

// compare returns an error naming the first element of got that differs from want(i); runRanks
// prefixes it with the case's label and inproc.Run with the rank.
func compare[T any](_ string, _ int, got []T, n int, want func(i int) T, eq func(a, b T) bool) error {
	if len(got) != n {
		return fmt.Errorf("len = %d, want %d", len(got), n)
	}
	for i := range got {
		if w := want(i); !eq(got[i], w) {
			return fmt.Errorf("[%d] = %v, want %v", i, got[i], w)
		}
	}
	return nil
}

func eqExact[T comparable](a, b T) bool { return a == b }

// The non-commutative test operation: 2x2 matrix product with 16-bit entries mod 2^16, one
// matrix packed in each uint64 (a b; c d from the high bits down). Associative, not commutative.
func matMul(x, y uint64) uint64 {
	a, b, c, d := x>>48, x>>32&0xffff, x>>16&0xffff, x&0xffff
	e, f, g, h := y>>48, y>>32&0xffff, y>>16&0xffff, y&0xffff
	m := func(v uint64) uint64 { return v & 0xffff }
	return m(a*e+b*g)<<48 | m(a*f+b*h)<<32 | m(c*e+d*g)<<16 | m(c*f+d*h)
}

var matOp = NewOp(func(inout, in []uint64) {
	for i := range inout {
		inout[i] = matMul(inout[i], in[i])
	}
}, false)

func mval(rank, i int) uint64 {
	r, j := uint64(rank), uint64(i)
	return (r+1)<<48 | (j%5+1)<<32 | (3*r+j%7)<<16 | (r*j%11 + 1)
}

func mvec(rank, n int) []uint64 {
	v := make([]uint64, n)
	for i := range v {
		v[i] = mval(rank, i)
	}
	return v
}

// mprod is the serial reference: the product of mval(lo, i) … mval(hi-1, i) in rank order.
func mprod(lo, hi, i int) uint64 {
	acc := mval(lo, i)
	for r := lo + 1; r < hi; r++ {
		acc = matMul(acc, mval(r, i))
	}
	return acc
}

func fsum(lo, hi, i int) float64 {
	s := 0.0
	for r := lo; r < hi; r++ {
		s += fval(r, i)
	}
	return s
}

func roots(p int) []int {
	if p == 1 {
		return []int{0}
	}
	if p == 2 {
		return []int{0, 1}
	}
	return []int{0, p / 2, p - 1}
}

// bg is the context of test calls to the unexported collectives.
var bg = context.Background()
