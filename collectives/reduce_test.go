package collectives

import (
	"fmt"
	"testing"

	"github.com/gompi/gompi/comm"
)

func TestAllreduce(t *testing.T) {
	for _, alg := range []algorithm{algRecursiveDoubling, algRing, algRabenseifner} {
		for p := 1; p <= 9; p++ {
			ns := counts
			if p == 3 || p == 8 {
				ns = append(append([]int{}, counts...), bigCounts()...)
			}
			for _, n := range ns {
				label := fmt.Sprintf("Allreduce %v p=%d n=%d Sum", alg, p, n)
				runRanks(t, label, p, func(c *comm.Comm) error {
					recv := make([]float64, n)
					if err := allreduce(bg, c, "Allreduce", fvec(c.Rank(), n), recv, Sum, alg); err != nil {
						return err
					}
					return compare(label, c.Rank(), recv, n, func(i int) float64 { return fsum(0, p, i) }, feq)
				})
				if n > 1000 {
					continue
				}
				label = fmt.Sprintf("Allreduce %v p=%d n=%d Max int32", alg, p, n)
				runRanks(t, label, p, func(c *comm.Comm) error {
					send := make([]int32, n)
					for i := range send {
						send[i] = int32((c.Rank()*7 + i) % 10)
					}
					recv := make([]int32, n)
					if err := allreduce(bg, c, "Allreduce", send, recv, Max, alg); err != nil {
						return err
					}
					return compare(label, c.Rank(), recv, n, func(i int) int32 {
						m := int32(0)
						for r := 0; r < p; r++ {
							m = max(m, int32((r*7+i)%10))
						}
						return m
					}, eqExact)
				})
				if alg != algRecursiveDoubling {
					continue
				}
				label = fmt.Sprintf("Allreduce %v p=%d n=%d matrix product", alg, p, n)
				runRanks(t, label, p, func(c *comm.Comm) error {
					recv := make([]uint64, n)
					if err := allreduce(bg, c, "Allreduce", mvec(c.Rank(), n), recv, matOp, alg); err != nil {
						return err
					}
					return compare(label, c.Rank(), recv, n, func(i int) uint64 { return mprod(0, p, i) }, eqExact)
				})
			}
		}
	}
}

func TestAllreduceInPlaceAndAuto(t *testing.T) {
	for _, p := range []int{1, 3, 6} {
		for _, n := range []int{0, 5, 3000, 70000} {
			label := fmt.Sprintf("Allreduce auto in place p=%d n=%d Sum", p, n)
			runRanks(t, label, p, func(c *comm.Comm) error {
				buf := fvec(c.Rank(), n)
				if err := Allreduce(c, buf, buf, Sum); err != nil {
					return err
				}
				return compare(label, c.Rank(), buf, n, func(i int) float64 { return fsum(0, p, i) }, feq)
			})
		}
	}
}

func TestAllreduceNonCommutativeRejectsSplittingAlgorithms(t *testing.T) {
	err := runRanksErr(3, func(c *comm.Comm) error {
		return allreduce(bg, c, "Allreduce", make([]uint64, 4), make([]uint64, 4), matOp, algRing)
	})
	if err == nil {
		t.Fatal("Allreduce ring with a non-commutative op: no error")
	}
}

func TestReduce(t *testing.T) {
	for _, alg := range []algorithm{algBinomial, algRabenseifner} {
		for p := 1; p <= 9; p++ {
			ns := counts
			if p == 5 {
				ns = append(append([]int{}, counts...), bigCounts()...)
			}
			for _, n := range ns {
				for _, root := range roots(p) {
					label := fmt.Sprintf("Reduce %v p=%d n=%d root=%d Sum", alg, p, n, root)
					runRanks(t, label, p, func(c *comm.Comm) error {
						var recv []float64
						if c.Rank() == root {
							recv = make([]float64, n)
						}
						if err := reduce(bg, c, "Reduce", fvec(c.Rank(), n), recv, Sum, root, alg); err != nil {
							return err
						}
						if c.Rank() != root {
							return nil
						}
						return compare(label, c.Rank(), recv, n, func(i int) float64 { return fsum(0, p, i) }, feq)
					})
					if alg != algBinomial || n > 1000 {
						continue
					}
					label = fmt.Sprintf("Reduce %v p=%d n=%d root=%d matrix product", alg, p, n, root)
					runRanks(t, label, p, func(c *comm.Comm) error {
						var recv []uint64 // nil except at the root, rank 0 included
						if c.Rank() == root {
							recv = make([]uint64, n)
						}
						if err := reduce(bg, c, "Reduce", mvec(c.Rank(), n), recv, matOp, root, alg); err != nil {
							return err
						}
						if c.Rank() != root {
							return nil
						}
						return compare(label, c.Rank(), recv, n, func(i int) uint64 { return mprod(0, p, i) }, eqExact)
					})
				}
			}
		}
	}
}

func TestReduceScatter(t *testing.T) {
	for _, alg := range []algorithm{algRing, algReduceScatterv} {
		for p := 1; p <= 9; p++ {
			for _, n := range countsAt(p, 6) {
				// Uneven counts: rank i gets about n/p elements, the last ones fewer.
				cnt := make([]int, p)
				for i := range cnt {
					lo, hi := block(n, p, i)
					cnt[i] = hi - lo
				}
				off := func(rank int) int { lo, _ := block(n, p, rank); return lo }
				label := fmt.Sprintf("ReduceScatter %v p=%d n=%d Sum", alg, p, n)
				runRanks(t, label, p, func(c *comm.Comm) error {
					recv := make([]float64, cnt[c.Rank()])
					if err := reduceScatter(bg, c, "ReduceScatter", Packed(fvec(c.Rank(), n), cnt), recv, Sum, alg); err != nil {
						return err
					}
					return compare(label, c.Rank(), recv, cnt[c.Rank()], func(i int) float64 { return fsum(0, p, off(c.Rank())+i) }, feq)
				})
				// The same blocks placed in reverse rank order with a one-element gap after each.
				label = fmt.Sprintf("ReduceScatter %v p=%d n=%d Sum, displaced blocks", alg, p, n)
				runRanks(t, label, p, func(c *comm.Comm) error {
					packed := fvec(c.Rank(), n)
					send := Blocks[float64]{Buf: make([]float64, n+p), Counts: cnt, Displs: make([]int, p)}
					at := 0
					for i := p - 1; i >= 0; i-- {
						send.Displs[i] = at
						copy(send.Buf[at:], packed[off(i):off(i)+cnt[i]])
						at += cnt[i] + 1
					}
					recv := make([]float64, cnt[c.Rank()])
					if err := reduceScatter(bg, c, "ReduceScatter", send, recv, Sum, alg); err != nil {
						return err
					}
					return compare(label, c.Rank(), recv, cnt[c.Rank()], func(i int) float64 { return fsum(0, p, off(c.Rank())+i) }, feq)
				})
				if alg != algReduceScatterv || n > 1000 {
					continue
				}
				label = fmt.Sprintf("ReduceScatter %v p=%d n=%d matrix product", alg, p, n)
				runRanks(t, label, p, func(c *comm.Comm) error {
					recv := make([]uint64, cnt[c.Rank()])
					if err := reduceScatter(bg, c, "ReduceScatter", Packed(mvec(c.Rank(), n), cnt), recv, matOp, alg); err != nil {
						return err
					}
					return compare(label, c.Rank(), recv, cnt[c.Rank()], func(i int) uint64 { return mprod(0, p, off(c.Rank())+i) }, eqExact)
				})
			}
		}
	}
	if big := bigCounts(); big != nil {
		n, p := big[0], 4
		label := fmt.Sprintf("ReduceScatter auto p=%d n=%d Sum", p, n)
		runRanks(t, label, p, func(c *comm.Comm) error {
			cnt := []int{n / 4, n / 4, n / 4, n / 4}
			recv := make([]float64, n/4)
			if err := ReduceScatter(c, Packed(fvec(c.Rank(), n), cnt), recv, Sum); err != nil {
				return err
			}
			return compare(label, c.Rank(), recv, n/4, func(i int) float64 { return fsum(0, p, c.Rank()*n/4+i) }, feq)
		})
	}
}

func TestScanExscan(t *testing.T) {
	for p := 1; p <= 9; p++ {
		for _, n := range countsAt(p, 5) {
			label := fmt.Sprintf("Scan p=%d n=%d Sum", p, n)
			runRanks(t, label, p, func(c *comm.Comm) error {
				recv := make([]float64, n)
				if err := Scan(c, fvec(c.Rank(), n), recv, Sum); err != nil {
					return err
				}
				return compare(label, c.Rank(), recv, n, func(i int) float64 { return fsum(0, c.Rank()+1, i) }, feq)
			})
			label = fmt.Sprintf("Scan p=%d n=%d matrix product", p, n)
			runRanks(t, label, p, func(c *comm.Comm) error {
				recv := make([]uint64, n)
				if err := Scan(c, mvec(c.Rank(), n), recv, matOp); err != nil {
					return err
				}
				return compare(label, c.Rank(), recv, n, func(i int) uint64 { return mprod(0, c.Rank()+1, i) }, eqExact)
			})
			label = fmt.Sprintf("Exscan p=%d n=%d matrix product", p, n)
			runRanks(t, label, p, func(c *comm.Comm) error {
				recv := make([]uint64, n)
				for i := range recv {
					recv[i] = 42 // rank 0 keeps this
				}
				if err := Exscan(c, mvec(c.Rank(), n), recv, matOp); err != nil {
					return err
				}
				if c.Rank() == 0 {
					return compare(label, 0, recv, n, func(int) uint64 { return 42 }, eqExact)
				}
				return compare(label, c.Rank(), recv, n, func(i int) uint64 { return mprod(0, c.Rank(), i) }, eqExact)
			})
			label = fmt.Sprintf("Exscan p=%d n=%d Sum in place", p, n)
			runRanks(t, label, p, func(c *comm.Comm) error {
				buf := fvec(c.Rank(), n)
				if err := Exscan(c, buf, buf, Sum); err != nil {
					return err
				}
				if c.Rank() == 0 {
					return compare(label, 0, buf, n, func(i int) float64 { return fval(0, i) }, feq)
				}
				return compare(label, c.Rank(), buf, n, func(i int) float64 { return fsum(0, c.Rank(), i) }, feq)
			})
		}
	}
}
