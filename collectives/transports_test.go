package collectives

import (
	"fmt"
	"testing"

	"github.com/gompi/gompi/comm"
)

// TestEveryAlgorithmOverTransports forces every algorithm of every collective that has a choice,
// and runs the collectives that have one, on p = 1..9 ranks over shared memory and over TCP
// loopback (the in-process transport has its own sweeps per collective), and checks each result
// against a serial reference: sizes 0, 1, 7 and 1000 elements on every p, and 100003 (odd, past
// the rendezvous and fragment sizes) on 3 and 8 ranks. One world per transport and p keeps the
// start-up cost down; a failure names the collective, the algorithm, p, n and the root.
func TestEveryAlgorithmOverTransports(t *testing.T) {
	if testing.Short() {
		t.Skip("shared memory and TCP skipped in -short mode")
	}
	for _, tr := range ctxTransports[1:] {
		for p := 1; p <= 9; p++ {
			ns := []int{0, 1, 7, 1000}
			if p == 3 || p == 8 {
				ns = append(ns, 100003)
			}
			t.Run(fmt.Sprintf("%s/p=%d", tr.name, p), func(t *testing.T) {
				if err := runWithin(tr, p, func(c *comm.Comm) error { return everyAlgorithm(c, ns) }); err != nil {
					t.Error(err)
				}
			})
		}
	}
}

// everyAlgorithm runs the sweep of TestEveryAlgorithmOverTransports on one rank of c.
func everyAlgorithm(c *comm.Comm, ns []int) error {
	p, me := c.Size(), c.Rank()
	for _, n := range ns {
		for _, alg := range []algorithm{algRecursiveDoubling, algRing, algRabenseifner} {
			recv := make([]float64, n)
			if err := allreduce(bg, c, "Allreduce", fvec(me, n), recv, Sum, alg); err != nil {
				return fmt.Errorf("Allreduce %v n=%d: %w", alg, n, err)
			}
			if err := compare("", 0, recv, n, func(i int) float64 { return fsum(0, p, i) }, feq); err != nil {
				return fmt.Errorf("Allreduce %v n=%d: %w", alg, n, err)
			}
		}
		prod := make([]uint64, n)
		if err := allreduce(bg, c, "Allreduce", mvec(me, n), prod, matOp, algRecursiveDoubling); err != nil {
			return fmt.Errorf("Allreduce matrix product n=%d: %w", n, err)
		}
		if err := compare("", 0, prod, n, func(i int) uint64 { return mprod(0, p, i) }, eqExact); err != nil {
			return fmt.Errorf("Allreduce matrix product n=%d: %w", n, err)
		}
		for _, root := range roots(p) {
			for _, alg := range []algorithm{algBinomial, algRabenseifner} {
				var recv []float64
				if me == root {
					recv = make([]float64, n)
				}
				if err := reduce(bg, c, "Reduce", fvec(me, n), recv, Sum, root, alg); err != nil {
					return fmt.Errorf("Reduce %v n=%d root=%d: %w", alg, n, root, err)
				}
				if me == root {
					if err := compare("", 0, recv, n, func(i int) float64 { return fsum(0, p, i) }, feq); err != nil {
						return fmt.Errorf("Reduce %v n=%d root=%d: %w", alg, n, root, err)
					}
				}
			}
			for _, alg := range []algorithm{algBinomial, algScatterAllgather, algLinear} {
				buf := make([]float64, n)
				if me == root {
					buf = bvec(root, n)
				}
				if err := bcast(bg, c, "Bcast", asBytes(buf), root, alg); err != nil {
					return fmt.Errorf("Bcast %v n=%d root=%d: %w", alg, n, root, err)
				}
				if err := compare("", 0, buf, n, func(i int) float64 { return bval(root, i) }, eqExact); err != nil {
					return fmt.Errorf("Bcast %v n=%d root=%d: %w", alg, n, root, err)
				}
			}
			var all []float64
			if me == root {
				all = make([]float64, p*n)
			}
			if err := Gather(c, bvec(me, n), all, root); err != nil {
				return fmt.Errorf("Gather n=%d root=%d: %w", n, root, err)
			}
			if me == root {
				if err := compare("", 0, all, p*n, func(i int) float64 { return bval(i/max(n, 1), i%max(n, 1)) }, eqExact); err != nil {
					return fmt.Errorf("Gather n=%d root=%d: %w", n, root, err)
				}
			}
			part := make([]float64, n)
			if err := Scatter(c, all, part, root); err != nil {
				return fmt.Errorf("Scatter n=%d root=%d: %w", n, root, err)
			}
			if err := compare("", 0, part, n, func(i int) float64 { return bval(me, i) }, eqExact); err != nil {
				return fmt.Errorf("Scatter n=%d root=%d: %w", n, root, err)
			}
		}
		for _, alg := range []algorithm{algBruck, algRing} {
			recv := make([]float64, p*n)
			if err := allgather(bg, c, "Allgather", asBytes(bvec(me, n)), asBytes(recv), 8, alg); err != nil {
				return fmt.Errorf("Allgather %v n=%d: %w", alg, n, err)
			}
			if err := compare("", 0, recv, p*n, func(i int) float64 { return bval(i/max(n, 1), i%max(n, 1)) }, eqExact); err != nil {
				return fmt.Errorf("Allgather %v n=%d: %w", alg, n, err)
			}
		}
		// ReduceScatter: rank j gets the sum of block j, block j being (j+n)%3 + n/p elements.
		cnts := make([]int, p)
		total := 0
		for j := range cnts {
			cnts[j] = (j+n)%3 + n/p
			total += cnts[j]
		}
		for _, alg := range []algorithm{algRing, algReduceScatterv} {
			recv := make([]float64, cnts[me])
			if err := reduceScatter(bg, c, "ReduceScatter", Packed(fvec(me, total), cnts), recv, Sum, alg); err != nil {
				return fmt.Errorf("ReduceScatter %v n=%d: %w", alg, n, err)
			}
			off := 0
			for j := range me {
				off += cnts[j]
			}
			if err := compare("", 0, recv, cnts[me], func(i int) float64 { return fsum(0, p, off+i) }, feq); err != nil {
				return fmt.Errorf("ReduceScatter %v n=%d: %w", alg, n, err)
			}
		}
		b := n / p
		for _, alg := range []algorithm{algPairwise, algBruck} {
			a2a := make([]float64, p*b)
			if err := alltoall(bg, c, "Alltoall", asBytes(bvec(me, p*b)), asBytes(a2a), 8, alg); err != nil {
				return fmt.Errorf("Alltoall %v n=%d: %w", alg, n, err)
			}
			if err := compare("", 0, a2a, p*b, func(k int) float64 { return bval(k/b, me*b+k%b) }, eqExact); err != nil {
				return fmt.Errorf("Alltoall %v n=%d: %w", alg, n, err)
			}
		}
		scan := make([]uint64, n)
		if err := Scan(c, mvec(me, n), scan, matOp); err != nil {
			return fmt.Errorf("Scan n=%d: %w", n, err)
		}
		if err := compare("", 0, scan, n, func(i int) uint64 { return mprod(0, me+1, i) }, eqExact); err != nil {
			return fmt.Errorf("Scan matrix product n=%d: %w", n, err)
		}
		if err := Barrier(c); err != nil {
			return fmt.Errorf("Barrier after n=%d: %w", n, err)
		}
	}
	return nil
}
