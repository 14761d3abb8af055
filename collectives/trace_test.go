package collectives

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/internal/commlink"
	"github.com/gompi/gompi/internal/engine"
	"github.com/gompi/gompi/internal/trace"
	"github.com/gompi/gompi/transport/inproc"
)

// tracedCall is one collective call for the tracing tests, on n float64s per rank.
type tracedCall struct {
	name string
	n    int
	call func(c *comm.Comm, n int) error
}

func tracedCalls() []tracedCall {
	blocks := func(c *comm.Comm, n int) []int {
		counts := make([]int, c.Size())
		for i := range counts {
			counts[i] = n
		}
		return counts
	}
	return []tracedCall{
		{"Barrier", 0, func(c *comm.Comm, _ int) error { return Barrier(c) }},
		{"Bcast", 5, func(c *comm.Comm, n int) error { return Bcast(c, make([]float64, n), 1) }},
		{"Bcast", 1 << 18, func(c *comm.Comm, n int) error { return Bcast(c, make([]float64, n), 0) }},
		{"Reduce", 5, func(c *comm.Comm, n int) error { return Reduce(c, fvec(c.Rank(), n), make([]float64, n), Sum, 0) }},
		{"Reduce", 1 << 16, func(c *comm.Comm, n int) error { return Reduce(c, fvec(c.Rank(), n), make([]float64, n), Sum, 0) }},
		{"Allreduce", 5, func(c *comm.Comm, n int) error { return Allreduce(c, fvec(c.Rank(), n), make([]float64, n), Sum) }},
		{"Allreduce", 1 << 14, func(c *comm.Comm, n int) error { return Allreduce(c, fvec(c.Rank(), n), make([]float64, n), Sum) }},
		{"Allgather", 5, func(c *comm.Comm, n int) error { return Allgather(c, fvec(c.Rank(), n), make([]float64, n*c.Size())) }},
		{"Allgather", 1 << 13, func(c *comm.Comm, n int) error {
			return Allgather(c, fvec(c.Rank(), n), make([]float64, n*c.Size()))
		}},
		{"ReduceScatter", 5, func(c *comm.Comm, n int) error {
			return ReduceScatter(c, Packed(fvec(c.Rank(), n*c.Size()), blocks(c, n)), make([]float64, n), Sum)
		}},
		{"Gather", 5, func(c *comm.Comm, n int) error { return Gather(c, fvec(c.Rank(), n), make([]float64, n*c.Size()), 0) }},
		{"Scatter", 5, func(c *comm.Comm, n int) error { return Scatter(c, make([]float64, n*c.Size()), make([]float64, n), 0) }},
		{"Gatherv", 5, func(c *comm.Comm, n int) error {
			return Gatherv(c, fvec(c.Rank(), n), Packed(make([]float64, n*c.Size()), blocks(c, n)), 0)
		}},
		{"Scatterv", 5, func(c *comm.Comm, n int) error {
			return Scatterv(c, Packed(make([]float64, n*c.Size()), blocks(c, n)), make([]float64, n), 0)
		}},
		{"Allgatherv", 5, func(c *comm.Comm, n int) error {
			return Allgatherv(c, fvec(c.Rank(), n), Packed(make([]float64, n*c.Size()), blocks(c, n)))
		}},
		{"Alltoall", 5, func(c *comm.Comm, n int) error {
			return Alltoall(c, make([]float64, n*c.Size()), make([]float64, n*c.Size()))
		}},
		{"Alltoallv", 5, func(c *comm.Comm, n int) error {
			return Alltoallv(c, Packed(make([]float64, n*c.Size()), blocks(c, n)), Packed(make([]float64, n*c.Size()), blocks(c, n)))
		}},
		{"Scan", 5, func(c *comm.Comm, n int) error { return Scan(c, fvec(c.Rank(), n), make([]float64, n), Sum) }},
		{"Exscan", 5, func(c *comm.Comm, n int) error { return Exscan(c, fvec(c.Rank(), n), make([]float64, n), Sum) }},
	}
}

// traceCall runs call on the ranks that run(body) starts, each recording, and returns the
// merged trace and the algorithm that Algorithm predicted on rank 0.
func traceCall(run func(func(*comm.Comm) error) error, tc tracedCall) (*trace.Trace, string, error) {
	var mu sync.Mutex
	var parts []*trace.Part
	var predicted string
	err := run(func(c *comm.Comm) error {
		w, ok := commlink.Backend(c).(*engine.World)
		if !ok {
			return fmt.Errorf("backend %T", commlink.Backend(c))
		}
		rec := trace.NewRecorder(c.Rank(), c.Size(), 0)
		w.Trace(rec)
		alg, err := Algorithm[float64](c, tc.name, tc.n)
		if err != nil {
			return err
		}
		err = tc.call(c, tc.n)
		mu.Lock()
		defer mu.Unlock()
		parts = append(parts, rec.Part("test", "here", "kernel"))
		if c.Rank() == 0 {
			predicted = alg
		}
		return err
	})
	if err != nil {
		return nil, "", err
	}
	t, err := trace.Merge(parts)
	return t, predicted, err
}

// checkCollectiveSlices checks that every rank of t has one slice of the collective name, with
// algorithm alg, that holds every message the rank exchanged, and whose byte counts are theirs.
func checkCollectiveSlices(t *trace.Trace, name, alg string) error {
	if t.Unpaired != 0 || t.Backward != 0 {
		return fmt.Errorf("%d unpaired messages, %d backward", t.Unpaired, t.Backward)
	}
	for _, rk := range t.Ranks {
		var coll *trace.Slice
		var sent, recvd int64
		for i := range rk.Slices {
			s := &rk.Slices[i]
			if s.Op == trace.OpCollective {
				if coll != nil {
					return fmt.Errorf("rank %d: two collective slices", rk.Rank)
				}
				coll = s
				continue
			}
			sent += s.Bytes
			recvd += s.RBytes
		}
		if coll == nil {
			return fmt.Errorf("rank %d: no collective slice", rk.Rank)
		}
		if coll.Name != name || coll.Alg != alg || coll.Failed {
			return fmt.Errorf("rank %d: slice %q algorithm %q (failed %v), want %q %q", rk.Rank, coll.Name, coll.Alg, coll.Failed, name, alg)
		}
		for _, s := range rk.Slices {
			if s.Op != trace.OpCollective && (s.Start < coll.Start || s.End > coll.End || s.Lane != coll.Lane || trace.ContextKind(s.Comm) != "collective") {
				return fmt.Errorf("rank %d: %v at %d..%d (lane %d, %s context) outside the %s at %d..%d", rk.Rank, s.Op, s.Start, s.End,
					s.Lane, trace.ContextKind(s.Comm), name, coll.Start, coll.End)
			}
		}
		if coll.Bytes != sent || coll.RBytes != recvd {
			return fmt.Errorf("rank %d: the slice says %d bytes sent and %d received, its messages %d and %d", rk.Rank, coll.Bytes, coll.RBytes, sent, recvd)
		}
	}
	return nil
}

// TestTraceAlgorithms: with tracing on, each collective call leaves one slice per rank named
// after it, holding its messages, with the algorithm that ran: the one Algorithm predicts, the
// forced one under every forced setting, and node-aware on a job over two hosts. This also
// keeps the names of the algorithm functions (which the trace reads) to STYLE.md's rule.
func TestTraceAlgorithms(t *testing.T) {
	for _, p := range []int{3, 4} {
		run := func(f func(*comm.Comm) error) error { return inproc.Run(p, f) }
		for _, tc := range tracedCalls() {
			tr, predicted, err := traceCall(run, tc)
			if err == nil {
				err = checkCollectiveSlices(tr, tc.name, predicted)
			}
			if err != nil {
				t.Errorf("%s p=%d n=%d: %v", tc.name, p, tc.n, err)
			}
		}
	}
	for k, choices := range forcedChoices {
		for _, a := range choices {
			env := map[string]string{forcedVar(k): a.String()}
			withForced(t, env, func() {
				for _, tc := range tracedCalls() {
					if tc.name != k.String() {
						continue
					}
					tr, _, err := traceCall(func(f func(*comm.Comm) error) error { return inproc.Run(4, f) }, tc)
					if err == nil {
						err = checkCollectiveSlices(tr, tc.name, a.String())
					}
					if err != nil {
						t.Errorf("%s=%s n=%d: %v", forcedVar(k), a, tc.n, err)
					}
				}
			})
		}
	}
	hosts := func(f func(*comm.Comm) error) error { return inproc.RunOnHosts([]int{0, 0, 1, 1}, f) }
	for _, tc := range tracedCalls()[:6] {
		tr, predicted, err := traceCall(hosts, tc)
		if err == nil && predicted != "node-aware" {
			err = fmt.Errorf("Algorithm predicts %q, want node-aware", predicted)
		}
		if err == nil {
			err = checkCollectiveSlices(tr, tc.name, predicted)
		}
		if err != nil {
			t.Errorf("two hosts, %s n=%d: %v", tc.name, tc.n, err)
		}
	}
}

// TestTraceValueCollective: a value collective is two calls (the lengths, then the bytes),
// each its own slice, named after the value collective.
func TestTraceValueCollective(t *testing.T) {
	tr, _, err := traceCall(func(f func(*comm.Comm) error) error { return inproc.Run(3, f) }, tracedCall{"Bcast", 1, func(c *comm.Comm, _ int) error {
		v, err := BcastValue(c, map[string]int{"a": c.Rank()}, 0)
		if err == nil && v["a"] != 0 {
			err = fmt.Errorf("got %v", v)
		}
		return err
	}})
	if err != nil {
		t.Fatal(err)
	}
	for _, rk := range tr.Ranks {
		var names []string
		for _, s := range rk.Slices {
			if s.Op == trace.OpCollective {
				names = append(names, s.Name+"/"+s.Alg)
			}
		}
		if got := strings.Join(names, " "); got != "BcastValue/binomial BcastValue/binomial" {
			t.Errorf("rank %d: collective slices %q", rk.Rank, got)
		}
	}
}

// BenchmarkAllreduceTrace times an 8-byte Allreduce on two in-process ranks with tracing off
// and on: in process there is no wire, so the difference is the cost of recording (the call's
// event and its exchange's event).
func BenchmarkAllreduceTrace(b *testing.B) {
	for _, on := range []bool{false, true} {
		b.Run(map[bool]string{false: "off", true: "on"}[on], func(b *testing.B) {
			err := inproc.Run(2, func(c *comm.Comm) error {
				if on {
					rec := trace.NewRecorder(c.Rank(), c.Size(), 0)
					commlink.Backend(c).(*engine.World).Trace(rec)
					defer rec.Stop()
				}
				send, recv := []float64{1}, []float64{0}
				if c.Rank() == 0 {
					b.ReportAllocs()
					b.ResetTimer()
				}
				for range b.N {
					if err := Allreduce(c, send, recv, Sum); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		})
	}
}
