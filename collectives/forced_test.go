package collectives

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/gompi/gompi/comm"
)

// withForced runs f with the forced algorithms read from env instead of the process's
// environment.
func withForced(t *testing.T, env map[string]string, f func()) {
	t.Helper()
	saved := forcedSettings
	settings := readForced(func(k string) string { return env[k] })
	forcedSettings = func() map[kind]forcedSetting { return settings }
	defer func() { forcedSettings = saved }()
	f()
}

// TestForcedAlgorithm: GOMPI_COLL_ALLREDUCE=ring makes a small Allreduce (which would run
// recursive doubling) run the ring, as Algorithm reports, with the right sum on p = 1..5; a
// non-commutative operation keeps its order-preserving algorithm (and its order); every forced
// name of every collective gives the serial result; an unknown name fails every call.
func TestForcedAlgorithm(t *testing.T) {
	withForced(t, map[string]string{"GOMPI_COLL_ALLREDUCE": "Ring"}, func() {
		for p := 1; p <= 5; p++ {
			runRanks(t, fmt.Sprintf("forced ring p=%d", p), p, func(c *comm.Comm) error {
				if a, err := Algorithm[float64](c, "Allreduce", 1); err != nil || a != "ring" {
					return fmt.Errorf("Algorithm = %q, %v; want ring", a, err)
				}
				recv := make([]float64, 3)
				if err := Allreduce(c, fvec(c.Rank(), 3), recv, Sum); err != nil {
					return err
				}
				for i := range recv {
					want := 0.0
					for r := range p {
						want += fval(r, i)
					}
					if recv[i] != want {
						return fmt.Errorf("recv[%d] = %v, want %v", i, recv[i], want)
					}
				}
				got := make([]Mat2, 2)
				if err := Allreduce(c, mat2Vec(c.Rank(), 2), got, mat2Product); err != nil {
					return fmt.Errorf("non-commutative Allreduce with the ring forced: %v", err)
				}
				for i := range got {
					if got[i] != mat2Prod(0, p, i) {
						return fmt.Errorf("non-commutative Allreduce[%d] = %v, want %v", i, got[i], mat2Prod(0, p, i))
					}
				}
				return nil
			})
		}
	})
	for k, choices := range forcedChoices {
		for _, a := range choices {
			env := map[string]string{forcedVar(k): a.String()}
			withForced(t, env, func() {
				runRanks(t, fmt.Sprintf("%v forced to %v", k, a), 3, func(c *comm.Comm) error {
					if got, err := Algorithm[int64](c, k.String(), 5); err != nil || got != a.String() {
						return fmt.Errorf("Algorithm = %q, %v; want %v", got, err, a)
					}
					return forcedCall(c, k)
				})
			})
		}
	}
	withForced(t, map[string]string{"GOMPI_COLL_BCAST": "tree"}, func() {
		runRanks(t, "unknown name", 2, func(c *comm.Comm) error {
			err := Bcast(c, []int{1}, 0)
			if !errors.Is(err, comm.ErrInvalidArgument) || !strings.Contains(err.Error(), `GOMPI_COLL_BCAST="tree"`) {
				return fmt.Errorf("Bcast with GOMPI_COLL_BCAST=tree: %v", err)
			}
			return Barrier(c) // not broken: nothing moved
		})
	})
}

// forcedCall runs collective k once on 5 int64s per rank and checks the result.
func forcedCall(c *comm.Comm, k kind) error {
	p, me := c.Size(), c.Rank()
	const n = 5
	mine := make([]int64, n)
	for i := range mine {
		mine[i] = int64(100*me + i)
	}
	sum := func(i int) int64 {
		var s int64
		for r := range p {
			s += int64(100*r + i)
		}
		return s
	}
	switch k {
	case kindAllreduce, kindReduce:
		recv := make([]int64, n)
		var err error
		if k == kindAllreduce {
			err = Allreduce(c, mine, recv, Sum)
		} else if err = Reduce(c, mine, recv, Sum, p-1); me != p-1 {
			return err
		}
		if err != nil {
			return err
		}
		for i := range recv {
			if recv[i] != sum(i) {
				return fmt.Errorf("%v[%d] = %d, want %d", k, i, recv[i], sum(i))
			}
		}
	case kindBcast:
		buf := make([]int64, n)
		if me == 1 {
			copy(buf, mine)
		}
		if err := Bcast(c, buf, 1); err != nil {
			return err
		}
		for i := range buf {
			if buf[i] != int64(100+i) {
				return fmt.Errorf("Bcast[%d] = %d", i, buf[i])
			}
		}
	case kindAllgather:
		all := make([]int64, n*p)
		if err := Allgather(c, mine, all); err != nil {
			return err
		}
		for i := range all {
			if all[i] != int64(100*(i/n)+i%n) {
				return fmt.Errorf("Allgather[%d] = %d", i, all[i])
			}
		}
	case kindReduceScatter:
		send := make([]int64, n*p)
		for i := range send {
			send[i] = int64(me + i)
		}
		counts := make([]int, p)
		for i := range counts {
			counts[i] = n
		}
		recv := make([]int64, n)
		if err := ReduceScatter(c, Packed(send, counts), recv, Sum); err != nil {
			return err
		}
		for i := range recv {
			want := int64(0)
			for r := range p {
				want += int64(r + me*n + i)
			}
			if recv[i] != want {
				return fmt.Errorf("ReduceScatter[%d] = %d, want %d", i, recv[i], want)
			}
		}
	case kindAlltoall:
		send, recv := make([]int64, n*p), make([]int64, n*p)
		for i := range send {
			send[i] = int64(1000*me + i) // block j goes to rank j
		}
		if err := Alltoall(c, send, recv); err != nil {
			return err
		}
		for i := range recv {
			if want := int64(1000*(i/n) + me*n + i%n); recv[i] != want {
				return fmt.Errorf("Alltoall[%d] = %d, want %d", i, recv[i], want)
			}
		}
	default:
		return fmt.Errorf("no check for %v", k)
	}
	return nil
}
