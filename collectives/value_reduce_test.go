package collectives

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gompi/gompi/comm"
)

// imat is a 2×2 integer matrix: its product is associative and not commutative, so a
// reduction that reorders or rebrackets wrongly gives a different answer.
type imat struct{ A, B, C, D int64 }

func (x imat) mul(y imat) imat {
	return imat{x.A*y.A + x.B*y.C, x.A*y.B + x.B*y.D, x.C*y.A + x.D*y.C, x.C*y.B + x.D*y.D}
}

// imatOf is rank r's matrix: unimodular ([[1, r+1], [0, 1]] or its transpose, alternating), so
// that products of up to nine stay small and no two orders agree.
func imatOf(r int) imat {
	if r%2 == 0 {
		return imat{1, int64(r + 1), 0, 1}
	}
	return imat{1, 0, int64(r + 1), 1}
}

// serialProduct is m₀·m₁·…·mₖ₋₁ computed one after the other.
func serialProduct(k int) imat {
	acc := imat{1, 0, 0, 1}
	for r := range k {
		acc = acc.mul(imatOf(r))
	}
	return acc
}

func imatProduct(a, b imat) imat { return a.mul(b) }

// TestValueReductionsOrder checks AllreduceValue, ReduceValue (every root) and ScanValue
// against a serial fold for p = 1..9, with two non-commutative operations: a matrix product
// and string concatenation (whose result shows any misordering at a glance).
func TestValueReductionsOrder(t *testing.T) {
	for p := 1; p <= 9; p++ {
		runRanks(t, fmt.Sprintf("value reductions p=%d", p), p, func(c *comm.Comm) error {
			me := c.Rank()
			got, err := AllreduceValue(c, imatOf(me), imatProduct)
			if err != nil {
				return err
			}
			if want := serialProduct(p); got != want {
				return fmt.Errorf("AllreduceValue = %+v, want %+v", got, want)
			}
			s, err := AllreduceValue(c, fmt.Sprint(me, ";"), func(a, b string) string { return a + b })
			if err != nil {
				return err
			}
			if want := concatRanks(0, p); s != want {
				return fmt.Errorf("AllreduceValue of strings = %q, want %q", s, want)
			}
			for root := range p {
				got, err := ReduceValue(c, imatOf(me), imatProduct, root)
				if err != nil {
					return err
				}
				want := imat{}
				if me == root {
					want = serialProduct(p)
				}
				if got != want {
					return fmt.Errorf("ReduceValue root %d = %+v, want %+v", root, got, want)
				}
			}
			pre, err := ScanValue(c, imatOf(me), imatProduct)
			if err != nil {
				return err
			}
			if want := serialProduct(me + 1); pre != want {
				return fmt.Errorf("ScanValue = %+v, want %+v", pre, want)
			}
			ps, err := ScanValue(c, fmt.Sprint(me, ";"), func(a, b string) string { return a + b })
			if err != nil {
				return err
			}
			if want := concatRanks(0, me+1); ps != want {
				return fmt.Errorf("ScanValue of strings = %q, want %q", ps, want)
			}
			return nil
		})
	}
}

// concatRanks is "lo;lo+1;...;hi-1;".
func concatRanks(lo, hi int) string {
	var b strings.Builder
	for r := lo; r < hi; r++ {
		fmt.Fprint(&b, r, ";")
	}
	return b.String()
}

// TestValueReductionsLarge reduces values of several MiB (slices of floats, element-wise sum),
// so that the messages go by rendezvous on every transport.
func TestValueReductionsLarge(t *testing.T) {
	const n = 1 << 19 // 4 MiB of float64
	for _, tr := range ctxTransports {
		for _, p := range []int{2, 3, 5} {
			err := runWithin(tr, p, func(c *comm.Comm) error {
				add := func(a, b []float64) []float64 {
					out := make([]float64, len(a))
					for i := range a {
						out[i] = a[i] + b[i]
					}
					return out
				}
				got, err := AllreduceValue(c, fvec(c.Rank(), n), add)
				if err != nil {
					return err
				}
				for i := range n {
					want := 0.0
					for r := range p {
						want += fval(r, i)
					}
					if got[i] != want {
						return fmt.Errorf("AllreduceValue[%d] = %v, want %v", i, got[i], want)
					}
				}
				return nil
			})
			if err != nil {
				t.Errorf("%s p=%d: %v", tr.name, p, err)
			}
		}
	}
}

// unencodable has no exported fields: gob refuses it.
type unencodable struct{ x int }

// TestValueReductionErrors: a nil function fails at once on every rank; a value gob cannot
// encode fails every rank with ErrInvalidArgument (not only the one that has it), and the
// communicator's collectives are broken afterwards, as after any failed collective.
func TestValueReductionErrors(t *testing.T) {
	runRanks(t, "nil f", 3, func(c *comm.Comm) error {
		if _, err := AllreduceValue[int](c, 1, nil); !errors.Is(err, comm.ErrInvalidArgument) {
			return fmt.Errorf("AllreduceValue with nil f: %v", err)
		}
		if _, err := ReduceValue[int](c, 1, nil, 0); !errors.Is(err, comm.ErrInvalidArgument) {
			return fmt.Errorf("ReduceValue with nil f: %v", err)
		}
		if _, err := ScanValue[int](c, 1, nil); !errors.Is(err, comm.ErrInvalidArgument) {
			return fmt.Errorf("ScanValue with nil f: %v", err)
		}
		if _, err := ReduceValue(c, 1, func(a, b int) int { return a + b }, 3); !errors.Is(err, comm.ErrInvalidRoot) {
			return fmt.Errorf("ReduceValue with root 3 of 3: %v", err)
		}
		return nil
	})
	for p := 2; p <= 5; p++ {
		for _, call := range []string{"AllreduceValue", "ReduceValue", "ScanValue"} {
			runRanks(t, fmt.Sprintf("%s unencodable p=%d", call, p), p, func(c *comm.Comm) error {
				f := func(a, b unencodable) unencodable { return unencodable{a.x + b.x} }
				var err error
				switch call {
				case "AllreduceValue":
					_, err = AllreduceValue(c, unencodable{1}, f)
				case "ReduceValue":
					_, err = ReduceValue(c, unencodable{1}, f, p-1)
				case "ScanValue":
					_, err = ScanValue(c, unencodable{1}, f)
				}
				// ScanValue's last rank of an odd count sends nothing in some steps, but each
				// rank sends at least once, so every rank fails to encode or hears of it.
				if !errors.Is(err, comm.ErrInvalidArgument) && !errors.Is(err, errAborted) {
					return fmt.Errorf("%s of an unencodable value: %v", call, err)
				}
				if err := Barrier(c); !errors.Is(err, ErrCollectiveAborted) {
					return fmt.Errorf("Barrier after the failed %s: %v, want ErrCollectiveAborted", call, err)
				}
				return nil
			})
		}
	}
}

// TestAllreduceValueContextAbsentRank: with one rank away, the others' AllreduceValueContext
// returns context.DeadlineExceeded, on every transport; the late rank's call returns.
func TestAllreduceValueContextAbsentRank(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for a deadline")
	}
	for _, tr := range ctxTransports {
		for _, p := range []int{2, 3, 5} {
			absent := p - 1
			var left sync.WaitGroup
			left.Add(p - 1)
			othersReturned := make(chan struct{})
			go func() { left.Wait(); close(othersReturned) }()
			errs := make([]error, p)
			deadline := time.Now().Add(300 * time.Millisecond)
			err := runWithin(tr, p, func(c *comm.Comm) error {
				if c.Rank() == absent {
					<-othersReturned
					_, _ = AllreduceValue(c, imatOf(absent), imatProduct)
					return nil
				}
				ctx, cancel := context.WithDeadline(context.Background(), deadline)
				defer cancel()
				_, errs[c.Rank()] = AllreduceValueContext(ctx, c, imatOf(c.Rank()), imatProduct)
				left.Done()
				return nil
			})
			if err != nil {
				t.Fatalf("%s p=%d: %v", tr.name, p, err)
			}
			for r := range p {
				if r != absent && !errors.Is(errs[r], context.DeadlineExceeded) {
					t.Errorf("%s p=%d: rank %d: AllreduceValueContext returned %v, want context.DeadlineExceeded", tr.name, p, r, errs[r])
				}
			}
		}
	}
}
