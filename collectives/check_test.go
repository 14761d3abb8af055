package collectives

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/internal/commlink"
	"github.com/gompi/gompi/transport/inproc"
)

// withDebug runs f with GOMPI_DEBUG read as v instead of from the process's environment.
func withDebug(t testing.TB, v string, f func()) {
	t.Helper()
	saved := debugSettings
	o := readDebug(v)
	debugSettings = func() debugOptions { return o }
	defer func() { debugSettings = saved }()
	f()
}

// checkLimit bounds the runs of the checker's tests: the acceptance asks that every
// rank fail within 5 s.
const checkLimit = 5 * time.Second

// runWithinLimit runs f on p ranks of tr and fails if they take longer than limit.
func runWithinLimit(tr transportRunner, p int, limit time.Duration, f func(c *comm.Comm) error) error {
	done := make(chan error, 1)
	go func() { done <- tr.run(p, f) }()
	select {
	case err := <-done:
		return err
	case <-time.After(limit):
		return fmt.Errorf("did not finish within %v (hung?)", limit)
	}
}

// checkCases are the transports and sizes of the checker's tests.
var checkCases = []struct {
	tr transportRunner
	p  int
}{{ctxTransports[0], 2}, {ctxTransports[0], 3}, {ctxTransports[0], 5}, {ctxTransports[1], 3}, {ctxTransports[2], 3}}

// others names the ranks of p other than rank odd, as the checker's messages do.
func others(p, odd int) string {
	var r []int
	for i := range p {
		if i != odd {
			r = append(r, i)
		}
	}
	return rankList(r)
}

// oddOneOut is the checker's description of rank odd passing what (singular and plural
// wording), the others all passing usual.
func oddOneOut(p, odd int, what, usual [2]string) string {
	if p == 2 { // two groups of one: in rank order
		if odd == 0 {
			return fmt.Sprintf("rank 0 %s, rank 1 %s", what[0], usual[0])
		}
		return fmt.Sprintf("rank 0 %s, rank 1 %s", usual[0], what[0])
	}
	return fmt.Sprintf("rank %d %s, %s %s", odd, what[0], others(p, odd), usual[1])
}

func passes(s string) [2]string { return [2]string{"passes " + s, "pass " + s} }

// rootsByParity is the checker's description of ranks passing rank%2 as the root, by p.
var rootsByParity = map[int]string{
	2: "rank 0 passes root 0, rank 1 passes root 1",
	3: "rank 1 passes root 1, ranks 0, 2 pass root 0",
	5: "ranks 1, 3 pass root 1, ranks 0, 2, 4 pass root 0",
}

// TestCheckBcastRoots is the acceptance test of the checker: with GOMPI_DEBUG=check, ranks
// calling Bcast(buf, rank%2) as their third collective all fail, within checkLimit, with the
// same line naming the roots and the ranks, wrapping ErrMismatch and comm.ErrInvalidRoot;
// nothing has moved (each buffer holds its own rank's values); and the communicator works
// on: the next Bcast delivers root 0's buffer, and a later mismatch is #5.
func TestCheckBcastRoots(t *testing.T) {
	want := map[int]string{}
	for p, roots := range rootsByParity {
		want[p] = "collectives: Bcast #3 on world: " + roots
	}
	withDebug(t, "check", func() {
		for _, tc := range checkCases {
			p := tc.p
			t.Run(fmt.Sprintf("%s/p=%d", tc.tr.name, p), func(t *testing.T) {
				errs, again := make([]error, p), make([]error, p)
				err := runWithinLimit(tc.tr, p, checkLimit, func(c *comm.Comm) error {
					me := c.Rank()
					if err := Barrier(c); err != nil {
						return err
					}
					sum := []int64{0}
					if err := Allreduce(c, []int64{int64(me)}, sum, Sum); err != nil {
						return err
					}
					buf := []int64{int64(me), int64(me) + 10}
					errs[me] = Bcast(c, buf, me%2)
					if buf[0] != int64(me) || buf[1] != int64(me)+10 {
						return fmt.Errorf("the failed Bcast changed the buffer to %v", buf)
					}
					buf = []int64{int64(me), int64(me) + 10}
					if err := Bcast(c, buf, 0); err != nil {
						return fmt.Errorf("Bcast after the mismatch: %w", err)
					}
					if buf[0] != 0 || buf[1] != 10 {
						return fmt.Errorf("Bcast after the mismatch: %v, want [0 10]", buf)
					}
					again[me] = Bcast(c, buf, me%2)
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				for r := range p {
					if errs[r] == nil || errs[r].Error() != want[p] {
						t.Errorf("rank %d: %v\nwant %s", r, errs[r], want[p])
					}
					if !errors.Is(errs[r], ErrMismatch) || !errors.Is(errs[r], comm.ErrInvalidRoot) {
						t.Errorf("rank %d: %v does not wrap ErrMismatch and comm.ErrInvalidRoot", r, errs[r])
					}
					if w := strings.Replace(want[p], "#3", "#5", 1); again[r] == nil || again[r].Error() != w {
						t.Errorf("rank %d, second mismatch: %v\nwant %s", r, again[r], w)
					}
				}
			})
		}
	})
}

// mismatchCase is one disagreement: call runs it on a rank, the others agree; msg(p) is the
// line every rank must return, sentinel what it must wrap besides ErrMismatch.
type mismatchCase struct {
	name     string
	call     func(c *comm.Comm) error
	msg      func(p int) string
	sentinel error
}

// countsWith returns p counts of n each, but counts[i] = m.
func countsWith(p, n, i, m int) []int {
	v := make([]int, p)
	for k := range v {
		v[k] = n
	}
	v[i] = m
	return v
}

var mismatchCases = []mismatchCase{
	{"Allreduce count", func(c *comm.Comm) error {
		n := 3
		if c.Rank() == 1 {
			n = 4
		}
		return Allreduce(c, make([]float64, n), make([]float64, n), Sum)
	}, func(p int) string {
		return "collectives: Allreduce #1 on world: " + oddOneOut(p, 1, passes("4 elements"), passes("3 elements"))
	}, comm.ErrSizeMismatch},
	{"Allreduce element type, same bytes", func(c *comm.Comm) error {
		if c.Rank() == 1 {
			return Allreduce(c, make([]float32, 4), make([]float32, 4), Sum)
		}
		return Allreduce(c, make([]float64, 2), make([]float64, 2), Sum)
	}, func(p int) string {
		return "collectives: Allreduce #1 on world: " + oddOneOut(p, 1, passes("float32 (4 bytes)"), passes("float64 (8 bytes)"))
	}, comm.ErrInvalidArgument},
	{"different collectives", func(c *comm.Comm) error {
		buf := make([]int32, 2)
		if c.Rank() == 0 {
			return Bcast(c, buf, 0)
		}
		return Reduce(c, buf, nil, Sum, 0)
	}, func(p int) string {
		return "collectives: collective #1 on world: " + oddOneOut(p, 0, [2]string{"calls Bcast", "call Bcast"}, [2]string{"calls Reduce", "call Reduce"})
	}, comm.ErrInvalidArgument},
	{"op", func(c *comm.Comm) error {
		op := Sum[int64]
		if c.Rank() == 1 {
			op = Max[int64]
		}
		return Allreduce(c, make([]int64, 2), make([]int64, 2), op)
	}, func(p int) string {
		return "collectives: Allreduce #1 on world: " + oddOneOut(p, 1, passes("op Max"), passes("op Sum"))
	}, comm.ErrInvalidArgument},
	{"nil op", func(c *comm.Comm) error {
		op := Sum[int64]
		if c.Rank() == 1 {
			op = nil
		}
		return Reduce(c, make([]int64, 2), make([]int64, 2), op, 0)
	}, func(p int) string {
		return "collectives: Reduce #1 on world: " + oddOneOut(p, 1, passes("a nil Op"), passes("op Sum"))
	}, comm.ErrInvalidArgument},
	{"Gatherv counts", func(c *comm.Comm) error {
		p, me := c.Size(), c.Rank()
		send := make([]int16, 1)
		if me == 1 {
			send = make([]int16, 2)
		}
		var recv Blocks[int16]
		if me == 0 {
			recv = Packed(make([]int16, p), countsWith(p, 1, 0, 1))
		}
		return Gatherv(c, send, recv, 0)
	}, func(p int) string {
		return "collectives: Gatherv #1 on world: rank 1 sends 2 elements, root 0 expects 1 (recv.Counts[1])"
	}, comm.ErrSizeMismatch},
	{"Scatterv counts", func(c *comm.Comm) error {
		p, me := c.Size(), c.Rank()
		recv := make([]int16, 1)
		if me == p-1 {
			recv = make([]int16, 3)
		}
		var send Blocks[int16]
		if me == 0 {
			send = Packed(make([]int16, p), countsWith(p, 1, 0, 1))
		}
		return Scatterv(c, send, recv, 0)
	}, func(p int) string {
		return fmt.Sprintf("collectives: Scatterv #1 on world: root 0 sends 1 element to rank %d (send.Counts[%d]), rank %d expects 3 (len(recv))", p-1, p-1, p-1)
	}, comm.ErrSizeMismatch},
	{"Allgatherv counts differ", func(c *comm.Comm) error {
		p := c.Size()
		counts := countsWith(p, 1, 0, 1)
		if c.Rank() == 1 {
			counts[0] = 2
		}
		return Allgatherv(c, make([]uint8, 1), Packed(make([]uint8, p+1), counts))
	}, func(p int) string {
		return "collectives: Allgatherv #1 on world: " + oddOneOut(p, 1, passes("recv.Counts[0] = 2"), passes("recv.Counts[0] = 1"))
	}, comm.ErrSizeMismatch},
	{"Allgatherv send", func(c *comm.Comm) error {
		p := c.Size()
		send := make([]uint8, 1)
		if c.Rank() == 1 {
			send = make([]uint8, 2)
		}
		return Allgatherv(c, send, Packed(make([]uint8, p), countsWith(p, 1, 0, 1)))
	}, func(p int) string {
		return "collectives: Allgatherv #1 on world: rank 1 sends 2 elements, every rank's recv.Counts[1] = 1"
	}, comm.ErrSizeMismatch},
	{"Alltoallv transposed counts", func(c *comm.Comm) error {
		p := c.Size()
		sc, rc := countsWith(p, 1, 0, 1), countsWith(p, 1, 0, 1)
		if c.Rank() == 1 {
			sc[0] = 2
		}
		return Alltoallv(c, Packed(make([]int64, p+1), sc), Packed(make([]int64, p+1), rc))
	}, func(p int) string {
		return "collectives: Alltoallv #1 on world: rank 1 sends 2 elements to rank 0 (send.Counts[0]), rank 0 expects 1 (recv.Counts[1])"
	}, comm.ErrSizeMismatch},
	{"ReduceScatter counts", func(c *comm.Comm) error {
		p, me := c.Size(), c.Rank()
		counts := countsWith(p, 1, 0, 1)
		if me == 1 {
			counts = countsWith(p, 1, p-1, 2)
		}
		return ReduceScatter(c, Packed(make([]float64, p+1), counts), make([]float64, counts[me]), Sum)
	}, func(p int) string {
		k := fmt.Sprintf("send.Counts[%d]", p-1)
		return "collectives: ReduceScatter #1 on world: " + oddOneOut(p, 1, passes(k+" = 2"), passes(k+" = 1"))
	}, comm.ErrSizeMismatch},
	{"BcastValue root", func(c *comm.Comm) error {
		_, err := BcastValue(c, "hello", c.Rank()%2)
		return err
	}, func(p int) string {
		return "collectives: BcastValue #1 on world: " + rootsByParity[p]
	}, comm.ErrInvalidRoot},
}

// TestCheckMismatches: with the checker on, each disagreement of mismatchCases fails every
// rank with the same line, wrapping ErrMismatch and the field's comm sentinel, within
// checkLimit, on every transport; the communicator works on (an Allreduce gives the right sum).
func TestCheckMismatches(t *testing.T) {
	withDebug(t, "check", func() {
		for _, tc := range checkCases {
			p := tc.p
			t.Run(fmt.Sprintf("%s/p=%d", tc.tr.name, p), func(t *testing.T) {
				for _, mc := range mismatchCases {
					errs := make([]error, p)
					err := runWithinLimit(tc.tr, p, checkLimit, func(c *comm.Comm) error {
						errs[c.Rank()] = mc.call(c)
						sum := []int{0}
						if err := Allreduce(c, []int{c.Rank() + 1}, sum, Sum); err != nil {
							return fmt.Errorf("Allreduce after the mismatch: %w", err)
						}
						if sum[0] != p*(p+1)/2 {
							return fmt.Errorf("Allreduce after the mismatch: %d, want %d", sum[0], p*(p+1)/2)
						}
						return nil
					})
					if err != nil {
						t.Fatalf("%s: %v", mc.name, err)
					}
					want := mc.msg(p)
					t.Logf("%s: %v", mc.name, errs[0])
					for r, e := range errs {
						if e == nil || e.Error() != want {
							t.Errorf("%s: rank %d: %v\nwant %s", mc.name, r, e, want)
						}
						if !errors.Is(e, ErrMismatch) || !errors.Is(e, mc.sentinel) {
							t.Errorf("%s: rank %d: %v does not wrap ErrMismatch and %v", mc.name, r, e, mc.sentinel)
						}
					}
				}
			})
		}
	})
}

// TestCheckKeepsCallErrors: with the checker on, errors that are not disagreements come out as
// without it: a context ended before the call fails every rank with its error; a length
// wrong on one rank alone (which every rank's fingerprint leaves out) fails that rank with
// comm.ErrSizeMismatch and the others too; a root invalid on every rank fails every rank at
// once with comm.ErrInvalidRoot.
func TestCheckKeepsCallErrors(t *testing.T) {
	withDebug(t, "check", func() {
		ended, cancel := context.WithCancel(context.Background())
		cancel()
		expectAll(t, "check, ended context", 3, context.Canceled, func(c *comm.Comm) error {
			return AllreduceContext(ended, c, make([]float64, 2), make([]float64, 2), Sum)
		})
		expectSome(t, "check, recv too short on rank 1", 3, 1, comm.ErrSizeMismatch, func(c *comm.Comm) error {
			recv := make([]float64, 2)
			if c.Rank() == 1 {
				recv = recv[:1]
			}
			return Allreduce(c, make([]float64, 2), recv, Sum)
		})
		expectAll(t, "check, invalid root everywhere", 3, comm.ErrInvalidRoot, func(c *comm.Comm) error {
			if err := Bcast(c, []int{1}, 7); err == nil || errors.Is(err, ErrMismatch) {
				return fmt.Errorf("Bcast with root 7: %v", err)
			}
			return Bcast(c, []int{1}, 7)
		})
	})
}

// TestReadDebug: GOMPI_DEBUG is a comma-separated list; check turns the checker on whatever
// its case and spaces, other words are left alone.
func TestReadDebug(t *testing.T) {
	for v, want := range map[string]bool{
		"": false, "check": true, " Check ": true, "trace,check": true, "checks": false, "nocheck": false, "x, CHECK ,y": true,
	} {
		if got := readDebug(v).check; got != want {
			t.Errorf("GOMPI_DEBUG=%q: check = %v, want %v", v, got, want)
		}
	}
}

// TestCheckNamesCommunicator: a mismatch on a communicator made by Dup names it by its size
// and context id, and its calls are counted apart from the world's.
func TestCheckNamesCommunicator(t *testing.T) {
	withDebug(t, "check", func() {
		errs, ids := make([]error, 3), make([]uint32, 3)
		err := runRanksErr(3, func(c *comm.Comm) error {
			if err := Barrier(c); err != nil {
				return err
			}
			d, err := c.Dup()
			if err != nil {
				return err
			}
			defer d.Free()
			_, ids[c.Rank()] = commlink.Backend(d).(tracer).Tracing()
			errs[c.Rank()] = Bcast(d, []int{0}, c.Rank()%2)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Log(errs[0])
		for r, e := range errs {
			want := fmt.Sprintf("collectives: Bcast #1 on a communicator of 3 ranks (context %d): %s", ids[0], rootsByParity[3])
			if e == nil || e.Error() != want || ids[r] == 0 {
				t.Errorf("rank %d: %v (context %d)\nwant %s", r, e, ids[r], want)
			}
		}
	})
}

// BenchmarkCheck measures what the checker costs: an 8-byte Allreduce and Bcast (root moving
// from call to call) on 2 and 4 in-process ranks, with GOMPI_DEBUG unset and =check
// (docs/collectives.md, "The collective checker"):
//
//	go test -run '^$' -bench Check -count 5 ./collectives
func BenchmarkCheck(b *testing.B) {
	for _, coll := range []string{"Allreduce", "Bcast"} {
		for _, p := range []int{2, 4} {
			for _, debug := range []string{"", "check"} {
				mode := "off"
				if debug != "" {
					mode = "on"
				}
				b.Run(fmt.Sprintf("%s/p=%d/check=%s", coll, p, mode), func(b *testing.B) {
					b.ReportAllocs()
					withDebug(b, debug, func() {
						err := inproc.Run(p, func(c *comm.Comm) error {
							send, recv := []float64{1}, []float64{0}
							call := func(i int) error { return Allreduce(c, send, recv, Sum) }
							if coll == "Bcast" {
								call = func(i int) error { return Bcast(c, send, i%p) }
							}
							if err := Barrier(c); err != nil {
								return err
							}
							if c.Rank() == 0 {
								b.ResetTimer()
							}
							for i := range b.N {
								if err := call(i); err != nil {
									return err
								}
							}
							return nil
						})
						if err != nil {
							b.Fatal(err)
						}
					})
				})
			}
		}
	}
}

// TestCheckZeroAlloc: with the checker on, collectives whose ranks agree still allocate
// nothing in the steady state (the records are pooled and compared as bytes), on 2 and 3
// in-process ranks.
func TestCheckZeroAlloc(t *testing.T) {
	if testing.Short() {
		t.Skip("counts allocations over many calls")
	}
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector (sync.Pool drops items)")
	}
	withDebug(t, "check", func() {
		for _, p := range []int{2, 3} {
			for _, ac := range allocCases[:4] { // Barrier, Bcast, Allreduce, Reduce
				allocs, err := collAllocs(p, 8, ac)
				if err != nil {
					t.Fatalf("%s p=%d: %v", ac.name, p, err)
				}
				if allocs != 0 {
					t.Errorf("%s p=%d with the checker on: %.1f allocations per call, want 0", ac.name, p, allocs)
				}
			}
		}
	})
}
