package collectives

import (
	"fmt"
	"testing"

	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/transport/tcp/tcptest"
)

// runTCP runs f on n ranks connected by the TCP transport over loopback, in this process.
func runTCP(n int, f func(c *comm.Comm) error) error { return tcptest.Run(n, f) }

// TestCollectivesTCP runs a few collectives and algorithms over real sockets, where large
// messages take the rendezvous path and arrive in pieces.
func TestCollectivesTCP(t *testing.T) {
	if testing.Short() {
		t.Skip("TCP collectives skipped in -short mode")
	}
	for _, p := range []int{3, 4} {
		err := runTCP(p, func(c *comm.Comm) error {
			for _, n := range []int{0, 7, 100000} {
				for _, alg := range []algorithm{algRecursiveDoubling, algRing, algRabenseifner} {
					recv := make([]float64, n)
					if err := allreduce(bg, c, "Allreduce", fvec(c.Rank(), n), recv, Sum, alg); err != nil {
						return err
					}
					if err := compare("", 0, recv, n, func(i int) float64 { return fsum(0, p, i) }, feq); err != nil {
						return fmt.Errorf("Allreduce %v n=%d: %w", alg, n, err)
					}
				}
				for _, alg := range []algorithm{algBinomial, algScatterAllgather, algLinear} {
					buf := make([]float64, n)
					if c.Rank() == 1 {
						buf = bvec(1, n)
					}
					if err := bcast(bg, c, "Bcast", asBytes(buf), 1, alg); err != nil {
						return err
					}
					if err := compare("", 0, buf, n, func(i int) float64 { return bval(1, i) }, eqExact); err != nil {
						return fmt.Errorf("Bcast %v n=%d: %w", alg, n, err)
					}
				}
				recv := make([]float64, p*n)
				if err := Allgather(c, bvec(c.Rank(), n), recv); err != nil {
					return err
				}
				if err := compare("", 0, recv, p*n, func(i int) float64 { return bval(i/max(n, 1), i%max(n, 1)) }, eqExact); err != nil {
					return fmt.Errorf("Allgather n=%d: %w", n, err)
				}
				b := n / p
				a2a := make([]float64, p*b)
				if err := Alltoall(c, bvec(c.Rank(), p*b), a2a); err != nil {
					return err
				}
				if err := compare("", 0, a2a, p*b, func(k int) float64 { return bval(k/b, c.Rank()*b+k%b) }, eqExact); err != nil {
					return fmt.Errorf("Alltoall n=%d: %w", n, err)
				}
				scan := make([]uint64, n)
				if err := Scan(c, mvec(c.Rank(), n), scan, matOp); err != nil {
					return err
				}
				if err := compare("", 0, scan, n, func(i int) uint64 { return mprod(0, c.Rank()+1, i) }, eqExact); err != nil {
					return fmt.Errorf("Scan matrix product n=%d: %w", n, err)
				}
			}
			return Barrier(c)
		})
		if err != nil {
			t.Errorf("TCP p=%d: %v", p, err)
		}
	}
}
