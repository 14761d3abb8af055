package collectives

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/gompi/gompi/comm"
)

// expectAll runs f on p ranks and checks that every rank's error wraps want (a rank returning
// nil counts as a failure), and that the run does not hang.
func expectAll(t *testing.T, label string, p int, want error, f func(c *comm.Comm) error) {
	t.Helper()
	errs := make([]error, p)
	if err := runRanksErr(p, func(c *comm.Comm) error {
		errs[c.Rank()] = f(c)
		return nil
	}); err != nil {
		t.Fatalf("%s: %v", label, err)
	}
	for r, err := range errs {
		if !errors.Is(err, want) {
			t.Errorf("%s: rank %d: error %v, want one wrapping %v", label, r, err, want)
		}
	}
}

// expectSome checks that rank bad's error wraps want, that no rank hangs, and that any other
// rank's error (ranks that depend on the bad one fail too) wraps want as well.
func expectSome(t *testing.T, label string, p, bad int, want error, f func(c *comm.Comm) error) {
	t.Helper()
	errs := make([]error, p)
	if err := runRanksErr(p, func(c *comm.Comm) error {
		errs[c.Rank()] = f(c)
		return nil
	}); err != nil {
		t.Fatalf("%s: %v", label, err)
	}
	if !errors.Is(errs[bad], want) {
		t.Errorf("%s: rank %d: error %v, want one wrapping %v", label, bad, errs[bad], want)
	}
	for r, err := range errs {
		if err != nil && !errors.Is(err, want) {
			t.Errorf("%s: rank %d: error %v, want nil or one wrapping %v", label, r, err, want)
		}
	}
}

func TestInvalidRoot(t *testing.T) {
	for _, root := range []int{-1, 4} {
		label := fmt.Sprintf("root %d of 4", root)
		expectAll(t, "Bcast "+label, 4, comm.ErrInvalidRoot, func(c *comm.Comm) error {
			return Bcast(c, make([]int, 3), root)
		})
		expectAll(t, "Reduce "+label, 4, comm.ErrInvalidRoot, func(c *comm.Comm) error {
			return Reduce(c, make([]int, 3), make([]int, 3), Sum, root)
		})
		expectAll(t, "Gather "+label, 4, comm.ErrInvalidRoot, func(c *comm.Comm) error {
			return Gather(c, make([]int, 3), make([]int, 12), root)
		})
		expectAll(t, "Scatterv "+label, 4, comm.ErrInvalidRoot, func(c *comm.Comm) error {
			return Scatterv(c, Packed(make([]int, 4), []int{1, 1, 1, 1}), make([]int, 1), root)
		})
		expectAll(t, "GatherValue "+label, 4, comm.ErrInvalidRoot, func(c *comm.Comm) error {
			_, err := GatherValue(c, "x", root)
			return err
		})
	}
}

func TestLocalSizeErrors(t *testing.T) {
	// Every rank can see these; all must fail, none may hang.
	expectAll(t, "Allreduce len(recv) != len(send)", 5, comm.ErrSizeMismatch, func(c *comm.Comm) error {
		return Allreduce(c, make([]float64, 7), make([]float64, 6), Sum)
	})
	expectAll(t, "Allgather recv too short", 5, comm.ErrSizeMismatch, func(c *comm.Comm) error {
		return Allgather(c, make([]float64, 7), make([]float64, 34))
	})
	expectAll(t, "Alltoall not a multiple of p", 3, comm.ErrSizeMismatch, func(c *comm.Comm) error {
		return Alltoall(c, make([]int32, 7), make([]int32, 7))
	})
	expectAll(t, "Allgatherv negative count", 3, comm.ErrInvalidArgument, func(c *comm.Comm) error {
		return Allgatherv(c, make([]int32, 2), Packed(make([]int32, 4), []int{2, -1, 3}))
	})
	expectAll(t, "ReduceScatter counts too few", 3, comm.ErrSizeMismatch, func(c *comm.Comm) error {
		return ReduceScatter(c, Packed(make([]int32, 4), []int{2, 2}), make([]int32, 2), Sum)
	})
	expectAll(t, "nil Op", 2, comm.ErrInvalidArgument, func(c *comm.Comm) error {
		return Allreduce[int](c, make([]int, 2), make([]int, 2), nil)
	})
	// Only one rank sees these; it must fail, and so may the ranks that depend on it, but no
	// rank may hang or return a wrong result silently.
	expectSome(t, "Allreduce one rank's recv too short", 6, 2, comm.ErrSizeMismatch, func(c *comm.Comm) error {
		n := 1000
		if c.Rank() == 2 {
			return Allreduce(c, make([]float64, n), make([]float64, n-1), Sum)
		}
		return Allreduce(c, make([]float64, n), make([]float64, n), Sum)
	})
	expectSome(t, "Gather root's recv too short", 5, 3, comm.ErrSizeMismatch, func(c *comm.Comm) error {
		return Gather(c, make([]float64, 100), make([]float64, 5*100-1), 3)
	})
	expectAll(t, "Scatter root's send too short", 5, comm.ErrSizeMismatch, func(c *comm.Comm) error {
		var send []float64
		if c.Rank() == 1 {
			send = make([]float64, 5*100-1)
		}
		return Scatter(c, send, make([]float64, 100), 1)
	})
	expectAll(t, "Scatterv root's counts too long", 4, comm.ErrSizeMismatch, func(c *comm.Comm) error {
		var send []float64
		if c.Rank() == 0 {
			send = make([]float64, 10)
		}
		return Scatterv(c, Packed(send, []int{1, 1, 1, 10}), make([]float64, 1), 0)
	})
	expectSome(t, "Gatherv root's displacement past the end", 4, 0, comm.ErrSizeMismatch, func(c *comm.Comm) error {
		return Gatherv(c, make([]float64, 2), Blocks[float64]{Buf: make([]float64, 8), Counts: []int{2, 2, 2, 2}, Displs: []int{0, 2, 4, 7}}, 0)
	})
}

func TestCountsDifferBetweenRanks(t *testing.T) {
	// Rank 3 passes one element more than the others, at a small and a large (rendezvous) size.
	for _, n := range []int{7, 100000} {
		for _, alg := range []algorithm{algRecursiveDoubling, algRing, algRabenseifner} {
			label := fmt.Sprintf("Allreduce %v p=6 n=%d, rank 3 n+1", alg, n)
			expectSome(t, label, 6, 3, comm.ErrSizeMismatch, func(c *comm.Comm) error {
				m := n
				if c.Rank() == 3 {
					m++
				}
				return allreduce(bg, c, "Allreduce", make([]float64, m), make([]float64, m), Sum, alg)
			})
		}
		for _, alg := range []algorithm{algBinomial, algScatterAllgather, algLinear} {
			label := fmt.Sprintf("Bcast %v p=7 n=%d, rank 3 n+1", alg, n)
			errs := make([]error, 7)
			if err := runRanksErr(7, func(c *comm.Comm) error {
				m := n
				if c.Rank() == 3 {
					m++
				}
				errs[c.Rank()] = bcast(bg, c, "Bcast", make([]byte, m), 0, alg)
				return nil
			}); err != nil {
				t.Fatalf("%s: %v", label, err)
			}
			if !errors.Is(errs[3], comm.ErrSizeMismatch) {
				t.Errorf("%s: rank 3: error %v, want a size mismatch", label, errs[3])
			}
		}
	}
}

func TestDifferentCollectivesDetected(t *testing.T) {
	errs := make([]error, 2)
	if err := runRanksErr(2, func(c *comm.Comm) error {
		// Afterwards rank 1 releases rank 0 with a user message, so rank 0 is still there when
		// rank 1's Allreduce sends to it.
		if c.Rank() == 0 {
			errs[0] = Bcast(c, make([]int, 4), 0)
			_, err := comm.Recv(c, make([]int, 1), 1, 0)
			return err
		}
		errs[1] = Allreduce(c, make([]int, 4), make([]int, 4), Sum)
		return comm.Send(c, []int{1}, 0, 0)
	}); err != nil {
		t.Fatal(err)
	}
	if !errors.Is(errs[1], comm.ErrInvalidArgument) || !strings.Contains(errs[1].Error(), "Bcast") {
		t.Errorf("rank 1 in Allreduce, rank 0 in Bcast: rank 1 got %v, want an error naming Bcast", errs[1])
	}
}

func TestErrorMessage(t *testing.T) {
	err := runRanksErr(3, func(c *comm.Comm) error {
		return Allgather(c, make([]int64, 7), make([]int64, 20))
	})
	for _, want := range []string{"Allgather", "rank 2", "recv has 20 elements, want 21"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}
