package collectives

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/internal/backend"
	"github.com/gompi/gompi/internal/commlink"
	"github.com/gompi/gompi/transport/inproc"
	"github.com/gompi/gompi/transport/shm/shmtest"
	"github.com/gompi/gompi/transport/tcp/tcptest"
)

// hostLayouts are the pretended hosts of the ranks in the node-aware tests: uneven blocks,
// interleaved ranks, a host of one rank beside larger ones, and two layouts in which the
// node-aware algorithms must not apply (one host; one rank per host).
var hostLayouts = [][]int{
	{0, 0, 0, 1, 1},          // 3 + 2
	{0, 1, 0, 1, 0},          // interleaved
	{0, 0, 1, 2, 2, 2, 1, 0}, // uneven, out of order
	{0, 1, 1},                // a lone leader
	{0, 0, 0, 1, 1, 1, 1, 2, 2},
	{0, 0, 0, 0}, // one host: flat algorithms
	{0, 1, 2},    // one rank per host: flat algorithms
}

// appliesTo reports whether the node-aware algorithms apply to a layout.
func appliesTo(layout []int) bool {
	h := backend.NewHosts(layout)
	return len(h.Leaders) > 1 && len(h.Leaders) < len(layout)
}

// TestNodeAware runs Allreduce, Reduce (every root), Bcast (every root), Allgather and Barrier on ranks
// spread over pretended hosts (inproc.RunOnHosts), small and large, and checks the results
// against the serial ones; it also checks that the node-aware algorithms are the ones that
// ran where they apply (the communicator knows its hosts), and that GOMPI_COLL_HIER=off
// (hierOn false) still gives the same results.
func TestNodeAware(t *testing.T) {
	for _, on := range []bool{true, false} {
		saved := hierOn
		hierOn = func() bool { return on }
		for _, layout := range hostLayouts {
			for _, n := range []int{0, 1, 7, 1000, 1 << 17} {
				label := fmt.Sprintf("hier=%v layout=%v n=%d", on, layout, n)
				err := inproc.RunOnHosts(layout, func(c *comm.Comm) error {
					return nodeAwareCase(c, layout, n)
				})
				if err != nil {
					t.Errorf("%s: %v", label, err)
				}
			}
		}
		hierOn = saved
	}
}

func nodeAwareCase(c *comm.Comm, layout []int, n int) error {
	p, me := c.Size(), c.Rank()
	r := newRun(context.Background(), c, "test", kindBarrier)
	applies := r.hosts() != nil
	r.free()
	if want := appliesTo(layout) && hierOn(); applies != want {
		return fmt.Errorf("node-aware algorithms apply: %v, want %v", applies, want)
	}
	if hm, ok := commlink.Shadow(c).(backend.HostMap); !ok || hm.Hosts() == nil {
		return errors.New("the communicator does not know its hosts")
	}
	want := func(i int) float64 {
		s := 0.0
		for q := range p {
			s += fval(q, i)
		}
		return s
	}
	recv := make([]float64, n)
	if err := Allreduce(c, fvec(me, n), recv, Sum); err != nil {
		return err
	}
	if err := compare("Allreduce", me, recv, n, want, feq); err != nil {
		return fmt.Errorf("Allreduce: %w", err)
	}
	for root := range p {
		var out []float64
		if me == root {
			out = make([]float64, n)
		}
		if err := Reduce(c, fvec(me, n), out, Sum, root); err != nil {
			return err
		}
		if me == root {
			if err := compare("Reduce", me, out, n, want, feq); err != nil {
				return fmt.Errorf("Reduce to %d: %w", root, err)
			}
		}
		buf := make([]float64, n)
		if me == root {
			copy(buf, fvec(root, n))
		}
		if err := Bcast(c, buf, root); err != nil {
			return err
		}
		if err := compare("Bcast", me, buf, n, func(i int) float64 { return fval(root, i) }, feq); err != nil {
			return fmt.Errorf("Bcast from %d: %w", root, err)
		}
	}
	all := make([]float64, n*p)
	if err := Allgather(c, fvec(me, n), all); err != nil {
		return err
	}
	if err := compare("Allgather", me, all, n*p, func(i int) float64 { return fval(i/max(n, 1), i%max(n, 1)) }, feq); err != nil {
		return fmt.Errorf("Allgather: %w", err)
	}
	for range 3 {
		if err := Barrier(c); err != nil {
			return err
		}
	}
	return nil
}

// TestNodeAwareBarrierWaits: with ranks on pretended hosts, no rank leaves the node-aware
// Barrier before every rank has entered it: each rank sets its flag before the barrier, and
// after it every flag must be set.
func TestNodeAwareBarrierWaits(t *testing.T) {
	for _, layout := range hostLayouts[:5] {
		entered := make([]chan struct{}, len(layout))
		for i := range entered {
			entered[i] = make(chan struct{})
		}
		err := inproc.RunOnHosts(layout, func(c *comm.Comm) error {
			for round := range 20 {
				if round == 0 {
					close(entered[c.Rank()])
				}
				if err := Barrier(c); err != nil {
					return err
				}
				for q, ch := range entered {
					select {
					case <-ch:
					default:
						return fmt.Errorf("left the first Barrier before rank %d entered it", q)
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Errorf("layout %v: %v", layout, err)
		}
	}
}

// TestAllreduceChoiceByTransport: on shared memory (every rank on one host, as the shm
// transport reports) Allreduce keeps recursive doubling up to 64 KiB; where the transport says
// nothing (inproc, TCP) the ring starts at 16 KiB.
func TestAllreduceChoiceByTransport(t *testing.T) {
	check := func(label string, run func(int, func(*comm.Comm) error) error, want32K string) {
		t.Helper()
		err := run(3, func(c *comm.Comm) error {
			for n, want := range map[int]string{1 << 10: "recursive-doubling", 4 << 10: want32K, 8 << 10: "ring"} {
				if got, err := Algorithm[float64](c, "Allreduce", n); err != nil || got != want {
					return fmt.Errorf("Algorithm(Allreduce, %d float64s) = %q, %v; want %q", n, got, err, want)
				}
			}
			return nil
		})
		if err != nil {
			t.Errorf("%s: %v", label, err)
		}
	}
	check("inproc", inproc.Run, "ring")
	check("one pretended host", func(n int, f func(*comm.Comm) error) error { return inproc.RunOnHosts(make([]int, n), f) }, "recursive-doubling")
	check("shm", shmtest.Run, "recursive-doubling")
	check("tcp", tcptest.Run, "ring")
	// Allgather: Bruck up to a 32 KiB result elsewhere, up to 512 KiB on shared memory, but
	// never on two ranks there.
	err := shmtest.Run(2, func(c *comm.Comm) error {
		if got, err := Algorithm[float64](c, "Allgather", 1); err != nil || got != "ring" {
			return fmt.Errorf("Algorithm(Allgather, 1 float64) on 2 ranks = %q, %v; want ring", got, err)
		}
		return nil
	})
	if err != nil {
		t.Errorf("shm, 2 ranks: %v", err)
	}
	for _, tc := range []struct {
		label string
		run   func(int, func(*comm.Comm) error) error
		want  string
	}{{"inproc", inproc.Run, "ring"}, {"shm", shmtest.Run, "bruck"}, {"tcp", tcptest.Run, "ring"}} {
		err := tc.run(4, func(c *comm.Comm) error {
			// 4 ranks × 8192 float64s each: a 256 KiB result.
			if got, err := Algorithm[float64](c, "Allgather", 8192); err != nil || got != tc.want {
				return fmt.Errorf("Algorithm(Allgather, 8192 float64s) = %q, %v; want %q", got, err, tc.want)
			}
			return nil
		})
		if err != nil {
			t.Errorf("%s: %v", tc.label, err)
		}
	}
}
