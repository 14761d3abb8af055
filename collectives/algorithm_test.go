package collectives

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/internal/backend"
	"github.com/gompi/gompi/internal/commlink"
)

// countingBackend wraps a rank's backend and counts the messages and bytes the rank sends on the
// collective context, which tells the algorithms apart: at a given size each leaves its own
// pattern of message counts per rank.
type countingBackend struct {
	backend.Backend
	traffic *traffic
	native  backend.Native
}

// traffic is what each rank sent; mu guards the slices.
type traffic struct {
	mu    sync.Mutex
	msgs  []int
	bytes []int
}

func (b *countingBackend) count(n int) {
	b.traffic.mu.Lock()
	b.traffic.msgs[b.Rank()]++
	b.traffic.bytes[b.Rank()] += n
	b.traffic.mu.Unlock()
}

func (b *countingBackend) Send(ctx context.Context, buf []byte, dest, tag int) error {
	b.count(len(buf))
	return b.Backend.Send(ctx, buf, dest, tag)
}

func (b *countingBackend) Isend(buf []byte, dest, tag int) (backend.Request, error) {
	b.count(len(buf))
	return b.Backend.Isend(buf, dest, tag)
}

func (b *countingBackend) Collective() backend.Backend {
	return &countingBackend{Backend: b.Backend.Collective(), traffic: b.traffic, native: b.native}
}

func (b *countingBackend) Native() backend.Native { return b.native }

// signature runs call on p in-process ranks, each through a countingBackend, and returns the
// messages and bytes each rank sent, as text.
func signature(t *testing.T, label string, p int, call func(c *comm.Comm) error) string {
	t.Helper()
	tr := &traffic{msgs: make([]int, p), bytes: make([]int, p)}
	runRanks(t, label, p, func(c *comm.Comm) error {
		return call(commlink.New[*comm.Comm](&countingBackend{Backend: commlink.Backend(c), traffic: tr}))
	})
	return fmt.Sprintf("messages %v, bytes %v", tr.msgs, tr.bytes)
}

// TestAlgorithmMatchesWhatRuns runs each size-dependent collective with the automatic choice and
// with every algorithm forced, and checks that the automatic run sent exactly the messages of
// the algorithm Algorithm names.
func TestAlgorithmMatchesWhatRuns(t *testing.T) {
	type call func(c *comm.Comm, n int, alg algorithm) error
	cases := []struct {
		name string
		call call
		algs []algorithm
	}{
		{"Allreduce", func(c *comm.Comm, n int, alg algorithm) error {
			return allreduce(bg, c, "Allreduce", fvec(c.Rank(), n), make([]float64, n), Sum, alg)
		}, []algorithm{algRecursiveDoubling, algRing, algRabenseifner}},
		{"Reduce", func(c *comm.Comm, n int, alg algorithm) error {
			return reduce(bg, c, "Reduce", fvec(c.Rank(), n), make([]float64, n), Sum, 0, alg)
		}, []algorithm{algBinomial, algRabenseifner}},
		{"Bcast", func(c *comm.Comm, n int, alg algorithm) error {
			return bcast(bg, c, "Bcast", asBytes(fvec(0, n)), 0, alg)
		}, []algorithm{algBinomial, algScatterAllgather}},
		{"Allgather", func(c *comm.Comm, n int, alg algorithm) error {
			return allgather(bg, c, "Allgather", asBytes(fvec(c.Rank(), n)), make([]byte, 8*n*c.Size()), 8, alg)
		}, []algorithm{algBruck, algRing}},
		{"ReduceScatter", func(c *comm.Comm, n int, alg algorithm) error {
			counts := make([]int, c.Size())
			for i := range counts {
				counts[i] = n
			}
			return reduceScatter(bg, c, "ReduceScatter", Packed(fvec(c.Rank(), n*c.Size()), counts), make([]float64, n), Sum, alg)
		}, []algorithm{algRing, algReduceScatterv}},
	}
	ps := []int{2, 3, 4, 8}
	// Element counts of float64 on both sides of every threshold: 16 KiB (Allreduce),
	// 32 KiB results (Allgather), 1 MiB (Bcast on 8 ranks).
	ns := []int{1, 7, 1000, 2047, 2048, 4096, 1 << 17}
	if testing.Short() {
		ns = ns[:len(ns)-1]
	}
	for _, tc := range cases {
		for _, p := range ps {
			for _, n := range ns {
				if tc.name == "Bcast" && n == 1<<17 && p != 8 {
					continue // the 1 MiB switch needs 8 ranks; spare the -race run the rest
				}
				if n == 1<<17 && tc.name != "Bcast" {
					continue
				}
				var name string
				runRanks(t, "Algorithm", p, func(c *comm.Comm) error {
					got, err := Algorithm[float64](c, tc.name, n)
					if c.Rank() == 0 {
						name = got
					}
					return err
				})
				label := fmt.Sprintf("%s p=%d n=%d", tc.name, p, n)
				auto := signature(t, label+" auto", p, func(c *comm.Comm) error { return tc.call(c, n, algAuto) })
				i := slices.IndexFunc(tc.algs, func(a algorithm) bool { return a.String() == name })
				if i < 0 {
					t.Errorf("%s: Algorithm says %q, not one of %v", label, name, tc.algs)
					continue
				}
				forced := signature(t, label+" "+name, p, func(c *comm.Comm) error { return tc.call(c, n, tc.algs[i]) })
				if auto != forced {
					t.Errorf("%s: Algorithm says %s, which sends %s; the automatic choice sent %s", label, name, forced, auto)
				}
			}
		}
	}
}

// fakeNative stands for a backend's own collectives: every call succeeds and is recorded.
type fakeNative struct {
	failedNative // err nil: every operation succeeds without moving data
	mu           sync.Mutex
	calls        []string
}

func (f *fakeNative) Allreduce([]byte, []byte, backend.Type, backend.Op) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "Allreduce")
	return nil
}

func TestAlgorithmNative(t *testing.T) {
	nat := &fakeNative{}
	runRanks(t, "Algorithm native", 2, func(c *comm.Comm) error {
		nc := commlink.New[*comm.Comm](&countingBackend{Backend: commlink.Backend(c), traffic: &traffic{msgs: make([]int, 2), bytes: make([]int, 2)}, native: nat})
		for _, name := range []string{"Allreduce", "bcast", "Barrier", "Scan"} {
			got, err := Algorithm[float32](nc, name, 1<<20)
			if err != nil || got != "native" {
				return fmt.Errorf("Algorithm(%s) = %q, %v; want native", name, got, err)
			}
		}
		return Allreduce(nc, []float32{1}, make([]float32, 1), Sum)
	})
	if len(nat.calls) != 2 {
		t.Errorf("native Allreduce called %d times, want once per rank", len(nat.calls))
	}
}

func TestAlgorithmFixedAndUnknown(t *testing.T) {
	want := map[string]string{
		"Barrier": "dissemination", "Gather": "binomial", "Scatter": "binomial", "Gatherv": "linear",
		"Scatterv": "linear", "Allgatherv": "ring", "Alltoall": "pairwise", "Alltoallv": "pairwise",
		"Scan": "recursive-doubling", "Exscan": "recursive-doubling",
		"ReduceScatter": "ring", "allreduce": "recursive-doubling",
	}
	runRanks(t, "Algorithm", 3, func(c *comm.Comm) error {
		for name, w := range want {
			if got, err := Algorithm[int32](c, name, 10); err != nil || got != w {
				return fmt.Errorf("Algorithm(%s) = %q, %v; want %q", name, got, err, w)
			}
		}
		_, err := Algorithm[int32](c, "Allgatherw", 10)
		if !errors.Is(err, comm.ErrInvalidArgument) || !strings.Contains(err.Error(), `"Allgatherw"`) {
			return fmt.Errorf("unknown collective: error %v, want ErrInvalidArgument naming it", err)
		}
		return nil
	})
}
