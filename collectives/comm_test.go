package collectives

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/gompi/gompi/comm"
)

// TestSplitConcurrent: the world splits into even and odd ranks; the two sub-communicators run
// different collectives at the same time (Allreduce on one, Allgather and Bcast on the other),
// while every rank also runs an Allreduce on a Dup of the world from a second goroutine. No
// message may cross between them (issue 3, acceptance 4).
func TestSplitConcurrent(t *testing.T) {
	for _, p := range []int{2, 5, 8} {
		runRanks(t, fmt.Sprintf("Split p=%d", p), p, func(c *comm.Comm) error {
			sub, err := c.Split(c.Rank()%2, -c.Rank()) // reverse order inside each part
			if err != nil {
				return err
			}
			dup, err := c.Dup()
			if err != nil {
				return err
			}
			var wg sync.WaitGroup
			var dupErr error
			wg.Add(1)
			go func() {
				defer wg.Done()
				for iter := 0; iter < 20 && dupErr == nil; iter++ {
					n := 1 + iter*37
					recv := make([]float64, n)
					if dupErr = Allreduce(dup, fvec(dup.Rank(), n), recv, Sum); dupErr == nil {
						dupErr = compare("", 0, recv, n, func(i int) float64 { return fsum(0, p, i) }, feq)
					}
				}
			}()
			subErr := func() error {
				q := sub.Size()
				for iter := 0; iter < 20; iter++ {
					n := 1 + iter*53
					if c.Rank()%2 == 0 {
						recv := make([]float64, n)
						if err := Allreduce(sub, fvec(sub.Rank(), n), recv, Sum); err != nil {
							return err
						}
						if err := compare("", 0, recv, n, func(i int) float64 { return fsum(0, q, i) }, feq); err != nil {
							return fmt.Errorf("even Allreduce: %w", err)
						}
						continue
					}
					recv := make([]float64, q*n)
					if err := Allgather(sub, bvec(sub.Rank(), n), recv); err != nil {
						return err
					}
					if err := compare("", 0, recv, q*n, func(i int) float64 { return bval(i/n, i%n) }, eqExact); err != nil {
						return fmt.Errorf("odd Allgather: %w", err)
					}
					buf := make([]float64, n)
					if sub.Rank() == q-1 {
						buf = bvec(iter, n)
					}
					if err := Bcast(sub, buf, q-1); err != nil {
						return err
					}
					if err := compare("", 0, buf, n, func(i int) float64 { return bval(iter, i) }, eqExact); err != nil {
						return fmt.Errorf("odd Bcast: %w", err)
					}
				}
				return nil
			}()
			wg.Wait()
			return errors.Join(subErr, dupErr)
		})
	}
}

// TestUserTrafficIsolated runs collectives while user point-to-point messages with the very
// tags the collectives use internally are in flight on the same communicator.
func TestUserTrafficIsolated(t *testing.T) {
	const p = 6
	runRanks(t, "collectives amid user traffic", p, func(c *comm.Comm) error {
		me := c.Rank()
		right, left := (me+1)%p, (me-1+p)%p
		// Sent before the collective, received after it: if a collective receive took one of
		// these, both would fail.
		var reqs []*comm.Request
		for k := kindBarrier; k <= kindExscan; k++ {
			for code := 0; code < 4; code++ {
				r, err := comm.Isend(c, []int64{int64(me), int64(k), int64(code)}, right, int(k)<<tagShift|code)
				if err != nil {
					return err
				}
				reqs = append(reqs, r)
			}
		}
		n := 1000
		recv := make([]float64, n)
		if err := Allreduce(c, fvec(me, n), recv, Sum); err != nil {
			return err
		}
		if err := compare("", 0, recv, n, func(i int) float64 { return fsum(0, p, i) }, feq); err != nil {
			return fmt.Errorf("Allreduce: %w", err)
		}
		if err := Barrier(c); err != nil {
			return err
		}
		for k := kindBarrier; k <= kindExscan; k++ {
			for code := 0; code < 4; code++ {
				got := make([]int64, 3)
				if _, err := comm.Recv(c, got, left, int(k)<<tagShift|code); err != nil {
					return err
				}
				if got[0] != int64(left) || got[1] != int64(k) || got[2] != int64(code) {
					return fmt.Errorf("user message tag %d = %v, want [%d %d %d]", int(k)<<tagShift|code, got, left, k, code)
				}
			}
		}
		_, err := comm.WaitAll(reqs...)
		return err
	})
}
