package collectives

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/gompi/gompi/comm"
)

// bval is the byte value of element i of rank r's data in the data-movement tests.
func bval(r, i int) float64 { return float64(r*100000 + i) }

func bvec(r, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = bval(r, i)
	}
	return v
}

func TestBcast(t *testing.T) {
	for _, alg := range []algorithm{algBinomial, algScatterAllgather, algLinear} {
		for p := 1; p <= 9; p++ {
			ns := counts
			if p == 6 {
				ns = append(append([]int{}, counts...), bigCounts()...)
			}
			for _, n := range ns {
				for _, root := range roots(p) {
					label := fmt.Sprintf("Bcast %v p=%d n=%d root=%d", alg, p, n, root)
					runRanks(t, label, p, func(c *comm.Comm) error {
						buf := make([]float64, n)
						if c.Rank() == root {
							buf = bvec(root, n)
						}
						if err := bcast(bg, c, "Bcast", asBytes(buf), root, alg); err != nil {
							return err
						}
						return compare(label, c.Rank(), buf, n, func(i int) float64 { return bval(root, i) }, eqExact)
					})
				}
			}
		}
	}
}

func TestGatherScatter(t *testing.T) {
	for p := 1; p <= 9; p++ {
		for _, n := range countsAt(p, 5) {
			rs := roots(p)
			if n > 1000 {
				rs = rs[1:2] // a root in the middle, so the tree is not rooted at 0
			}
			for _, root := range rs {
				label := fmt.Sprintf("Gather binomial p=%d n=%d root=%d", p, n, root)
				runRanks(t, label, p, func(c *comm.Comm) error {
					var recv []float64
					if c.Rank() == root {
						recv = make([]float64, p*n)
					}
					if err := Gather(c, bvec(c.Rank(), n), recv, root); err != nil {
						return err
					}
					if c.Rank() != root {
						return nil
					}
					return compare(label, c.Rank(), recv, p*n, func(i int) float64 { return bval(i/max(n, 1), i%max(n, 1)) }, eqExact)
				})
				label = fmt.Sprintf("Scatter binomial p=%d n=%d root=%d", p, n, root)
				runRanks(t, label, p, func(c *comm.Comm) error {
					var send []float64
					if c.Rank() == root {
						send = bvec(7, p*n)
					}
					recv := make([]float64, n)
					if err := Scatter(c, send, recv, root); err != nil {
						return err
					}
					return compare(label, c.Rank(), recv, n, func(i int) float64 { return bval(7, c.Rank()*n+i) }, eqExact)
				})
				// Rank i contributes i*n/3 + (i%2) elements, stored in reverse rank order.
				cnt := func(i int) int { return i*n/3 + i%2 }
				cnts, displs := make([]int, p), make([]int, p)
				total := 0
				for i := p - 1; i >= 0; i-- {
					cnts[i], displs[i] = cnt(i), total
					total += cnt(i)
				}
				label = fmt.Sprintf("Gatherv linear p=%d n=%d root=%d", p, n, root)
				runRanks(t, label, p, func(c *comm.Comm) error {
					var recv []float64
					if c.Rank() == root {
						recv = make([]float64, total)
					}
					if err := Gatherv(c, bvec(c.Rank(), cnt(c.Rank())), Blocks[float64]{Buf: recv, Counts: cnts, Displs: displs}, root); err != nil {
						return err
					}
					if c.Rank() != root {
						return nil
					}
					for i := 0; i < p; i++ {
						if err := compare(label, root, recv[displs[i]:displs[i]+cnts[i]], cnts[i], func(j int) float64 { return bval(i, j) }, eqExact); err != nil {
							return fmt.Errorf("block of rank %d: %w", i, err)
						}
					}
					return nil
				})
				label = fmt.Sprintf("Scatterv linear p=%d n=%d root=%d", p, n, root)
				runRanks(t, label, p, func(c *comm.Comm) error {
					var send []float64
					if c.Rank() == root {
						send = bvec(9, total)
					}
					recv := make([]float64, cnt(c.Rank()))
					if err := Scatterv(c, Blocks[float64]{Buf: send, Counts: cnts, Displs: displs}, recv, root); err != nil {
						return err
					}
					return compare(label, c.Rank(), recv, cnts[c.Rank()], func(j int) float64 { return bval(9, displs[c.Rank()]+j) }, eqExact)
				})
			}
		}
	}
}

func TestAllgather(t *testing.T) {
	for _, alg := range []algorithm{algBruck, algRing} {
		for p := 1; p <= 9; p++ {
			for _, n := range countsAt(p, 7) {
				label := fmt.Sprintf("Allgather %v p=%d n=%d", alg, p, n)
				runRanks(t, label, p, func(c *comm.Comm) error {
					recv := make([]float64, p*n)
					if err := allgather(bg, c, "Allgather", asBytes(bvec(c.Rank(), n)), asBytes(recv), 8, alg); err != nil {
						return err
					}
					return compare(label, c.Rank(), recv, p*n, func(i int) float64 { return bval(i/max(n, 1), i%max(n, 1)) }, eqExact)
				})
			}
		}
	}
	for p := 1; p <= 9; p++ {
		for _, n := range countsAt(p, 7) {
			cnts := make([]int, p)
			total := 0
			for i := range cnts {
				cnts[i] = (i*n + 3) % (n + 2)
				total += cnts[i]
			}
			label := fmt.Sprintf("Allgatherv ring p=%d n=%d", p, n)
			runRanks(t, label, p, func(c *comm.Comm) error {
				recv := make([]float64, total)
				if err := Allgatherv(c, bvec(c.Rank(), cnts[c.Rank()]), Packed(recv, cnts)); err != nil {
					return err
				}
				off := 0
				for i := 0; i < p; i++ {
					if err := compare(label, c.Rank(), recv[off:off+cnts[i]], cnts[i], func(j int) float64 { return bval(i, j) }, eqExact); err != nil {
						return fmt.Errorf("block of rank %d: %w", i, err)
					}
					off += cnts[i]
				}
				return nil
			})
		}
	}
}

func TestAlltoall(t *testing.T) {
	for p := 1; p <= 9; p++ {
		ns := counts
		if p == 4 {
			ns = append(append([]int{}, counts...), bigCounts()...)
		}
		for _, n := range ns {
			b := n / p // block length; n elements rounded down to a multiple of p
			for _, alg := range []algorithm{algPairwise, algBruck} {
				label := fmt.Sprintf("Alltoall %v p=%d n=%d", alg, p, n)
				runRanks(t, label, p, func(c *comm.Comm) error {
					recv := make([]float64, p*b)
					if err := alltoall(bg, c, "Alltoall", asBytes(bvec(c.Rank(), p*b)), asBytes(recv), 8, alg); err != nil {
						return err
					}
					// Block i of recv is rank i's block c.Rank().
					return compare(label, c.Rank(), recv, p*b, func(k int) float64 { return bval(k/b, c.Rank()*b+k%b) }, eqExact)
				})
			}
			// Rank i sends (i+j)%3 * n/5 elements to rank j.
			cnt := func(i, j int) int { return (i + j) % 3 * (n / 5) }
			label := fmt.Sprintf("Alltoallv pairwise p=%d n=%d", p, n)
			runRanks(t, label, p, func(c *comm.Comm) error {
				me := c.Rank()
				sc, rc := make([]int, p), make([]int, p)
				sTotal, rTotal := 0, 0
				for j := 0; j < p; j++ {
					sc[j], rc[j] = cnt(me, j), cnt(j, me)
					sTotal += sc[j]
					rTotal += rc[j]
				}
				send := make([]float64, sTotal)
				off := 0
				for j := 0; j < p; j++ {
					for k := 0; k < sc[j]; k++ {
						send[off+k] = bval(me, j*1000+k)
					}
					off += sc[j]
				}
				recv := make([]float64, rTotal)
				if err := Alltoallv(c, Packed(send, sc), Packed(recv, rc)); err != nil {
					return err
				}
				off = 0
				for i := 0; i < p; i++ {
					if err := compare(label, me, recv[off:off+rc[i]], rc[i], func(k int) float64 { return bval(i, me*1000+k) }, eqExact); err != nil {
						return fmt.Errorf("block from rank %d: %w", i, err)
					}
					off += rc[i]
				}
				return nil
			})
		}
	}
}

func TestBarrier(t *testing.T) {
	for p := 1; p <= 9; p++ {
		// Each rank counts arrivals before the barrier; after it, every rank must see all p.
		arrived := make(chan struct{}, p)
		runRanks(t, fmt.Sprintf("Barrier dissemination p=%d", p), p, func(c *comm.Comm) error {
			arrived <- struct{}{}
			if err := Barrier(c); err != nil {
				return err
			}
			if got := len(arrived); got != p {
				return fmt.Errorf("left the barrier when %d of %d ranks had arrived", got, p)
			}
			return nil
		})
	}
}

func TestRotateRight(t *testing.T) {
	const m = rotateScratch
	for _, n := range []int{0, 1, 7, m, m + 3, 2*m + 1, 5*m + 7, 13 * m} {
		for _, shift := range []int{0, 1, m, m + 1, n / 3, n / 2, 2 * n / 3, n - m - 1, n - m, n - 1, n} {
			if shift < 0 || shift > n {
				continue
			}
			buf, want := make([]byte, n), make([]byte, n)
			for i := range buf {
				buf[i] = byte(i*7 + i/251)
			}
			for i := range buf {
				want[(i+shift)%n] = buf[i]
			}
			rotateRight(buf, shift)
			if !bytes.Equal(buf, want) {
				t.Errorf("rotateRight(%d bytes, %d): wrong result", n, shift)
			}
		}
	}
}
