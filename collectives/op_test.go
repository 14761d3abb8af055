package collectives

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gompi/gompi/comm"
)

// Mat2 is a 2×2 matrix stored row by row: the element of the tests that reduce blocks of k
// numbers as one element, here with the matrix product, which is not commutative.
type Mat2 = [4]float64

func mat2Mul(a, b Mat2) Mat2 {
	return Mat2{
		a[0]*b[0] + a[1]*b[2], a[0]*b[1] + a[1]*b[3],
		a[2]*b[0] + a[3]*b[2], a[2]*b[1] + a[3]*b[3],
	}
}

var mat2Product = NewOp(func(inout, in []Mat2) {
	for i := range inout {
		inout[i] = mat2Mul(inout[i], in[i])
	}
}, false)

// mat2Val is rank's element i: small integers, so that products over 9 ranks stay exact.
func mat2Val(rank, i int) Mat2 {
	return Mat2{float64((rank + i) % 3), float64(rank*i%2 + 1), float64(i % 2), float64((rank+2*i)%3 - 1)}
}

func mat2Vec(rank, n int) []Mat2 {
	v := make([]Mat2, n)
	for i := range v {
		v[i] = mat2Val(rank, i)
	}
	return v
}

// mat2Prod is the serial reference: mat2Val(lo, i) ⋯ mat2Val(hi-1, i), in rank order.
func mat2Prod(lo, hi, i int) Mat2 {
	acc := mat2Val(lo, i)
	for r := lo + 1; r < hi; r++ {
		acc = mat2Mul(acc, mat2Val(r, i))
	}
	return acc
}

// TestMat2Product reduces vectors of 2×2 matrices with the (non-commutative) matrix product,
// every element one [4]float64, through every reduction, against the serial product in rank
// order.
func TestMat2Product(t *testing.T) {
	for p := 1; p <= 9; p++ {
		for _, n := range []int{0, 1, 7, 1000} {
			label := fmt.Sprintf("Allreduce p=%d n=%d Mat2 product", p, n)
			runRanks(t, label, p, func(c *comm.Comm) error {
				recv := make([]Mat2, n)
				if err := Allreduce(c, mat2Vec(c.Rank(), n), recv, mat2Product); err != nil {
					return err
				}
				return compare(label, c.Rank(), recv, n, func(i int) Mat2 { return mat2Prod(0, p, i) }, eqExact)
			})
			for _, root := range roots(p) {
				label = fmt.Sprintf("Reduce p=%d n=%d root=%d Mat2 product", p, n, root)
				runRanks(t, label, p, func(c *comm.Comm) error {
					var recv []Mat2
					if c.Rank() == root {
						recv = make([]Mat2, n)
					}
					if err := Reduce(c, mat2Vec(c.Rank(), n), recv, mat2Product, root); err != nil || c.Rank() != root {
						return err
					}
					return compare(label, c.Rank(), recv, n, func(i int) Mat2 { return mat2Prod(0, p, i) }, eqExact)
				})
			}
			label = fmt.Sprintf("Scan and Exscan p=%d n=%d Mat2 product", p, n)
			runRanks(t, label, p, func(c *comm.Comm) error {
				me := c.Rank()
				recv := make([]Mat2, n)
				if err := Scan(c, mat2Vec(me, n), recv, mat2Product); err != nil {
					return err
				}
				if err := compare(label, me, recv, n, func(i int) Mat2 { return mat2Prod(0, me+1, i) }, eqExact); err != nil {
					return fmt.Errorf("Scan: %w", err)
				}
				if err := Exscan(c, mat2Vec(me, n), recv, mat2Product); err != nil {
					return err
				}
				if me == 0 {
					return nil // left as it was
				}
				if err := compare(label, me, recv, n, func(i int) Mat2 { return mat2Prod(0, me, i) }, eqExact); err != nil {
					return fmt.Errorf("Exscan: %w", err)
				}
				return nil
			})
			label = fmt.Sprintf("ReduceScatter p=%d n=%d Mat2 product", p, n)
			runRanks(t, label, p, func(c *comm.Comm) error {
				cnt := make([]int, p)
				for i := range cnt {
					lo, hi := block(n, p, i)
					cnt[i] = hi - lo
				}
				me := c.Rank()
				lo, _ := block(n, p, me)
				recv := make([]Mat2, cnt[me])
				if err := ReduceScatter(c, Packed(mat2Vec(me, n), cnt), recv, mat2Product); err != nil {
					return err
				}
				return compare(label, me, recv, cnt[me], func(i int) Mat2 { return mat2Prod(0, p, lo+i) }, eqExact)
			})
		}
	}
}

// tally is a struct element with padding (4 bytes after Weight): it moves as raw memory, padding
// included, and a commutative user op sums it field by field.
type tally struct {
	Weight float32
	Count  int64
}

var tallySum = NewOp(func(inout, in []tally) {
	for i := range inout {
		inout[i].Weight += in[i].Weight
		inout[i].Count += in[i].Count
	}
}, true)

func tallyVal(rank, i int) tally {
	return tally{Weight: float32(rank + i%5), Count: int64(rank*1000 + i)}
}

// TestStructElementsSplitWhole runs the algorithms that cut vectors into blocks (ring,
// Rabenseifner) on 16-byte struct elements and odd lengths: blocks are cut between elements,
// never inside one, so every field comes out summed.
func TestStructElementsSplitWhole(t *testing.T) {
	for _, alg := range []algorithm{algRecursiveDoubling, algRing, algRabenseifner} {
		for p := 1; p <= 9; p++ {
			for _, n := range []int{0, 1, 7, 1000, 20001} {
				label := fmt.Sprintf("Allreduce %v p=%d n=%d tally sum", alg, p, n)
				runRanks(t, label, p, func(c *comm.Comm) error {
					send := make([]tally, n)
					for i := range send {
						send[i] = tallyVal(c.Rank(), i)
					}
					recv := make([]tally, n)
					if err := allreduce(bg, c, "Allreduce", send, recv, tallySum, alg); err != nil {
						return err
					}
					return compare(label, c.Rank(), recv, n, func(i int) tally {
						var w tally
						for r := 0; r < p; r++ {
							v := tallyVal(r, i)
							w.Weight += v.Weight
							w.Count += v.Count
						}
						return w
					}, eqExact)
				})
			}
		}
	}
}

// TestPointerElementsRefused: element types holding pointers cannot move as raw memory; every
// rank gets an error naming the type, before any message moves.
func TestPointerElementsRefused(t *testing.T) {
	concat := NewOp(func(inout, in []string) {
		for i := range inout {
			inout[i] += in[i]
		}
	}, false)
	type withSlice struct {
		X []int
	}
	keep := NewOp(func(inout, in []withSlice) {}, true)
	for _, tc := range []struct {
		name, typ string
		call      func(c *comm.Comm) error
	}{
		{"Allreduce []string", "string", func(c *comm.Comm) error {
			return Allreduce(c, []string{"a"}, make([]string, 1), concat)
		}},
		{"Reduce struct with a slice", "withSlice", func(c *comm.Comm) error {
			return Reduce(c, make([]withSlice, 2), make([]withSlice, 2), keep, 0)
		}},
		{"Scan []string", "string", func(c *comm.Comm) error {
			return Scan(c, []string{"a"}, make([]string, 1), concat)
		}},
	} {
		expectAll(t, tc.name, 3, comm.ErrInvalidArgument, func(c *comm.Comm) error {
			err := tc.call(c)
			if err != nil && !strings.Contains(err.Error(), tc.typ) {
				return fmt.Errorf("error %q does not name the type %s", err, tc.typ) // fails errors.Is
			}
			return err
		})
	}
}
