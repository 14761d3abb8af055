package comm_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/transport/inproc"
	"github.com/gompi/gompi/transport/shm"
	"github.com/gompi/gompi/transport/shm/shmtest"
	"github.com/gompi/gompi/transport/tcp/tcptest"

	"github.com/gompi/gompi/internal/waits"
)

// TestSendRecvZeroAlloc: in the steady state, a typed Send and the matching Recv between two
// ranks allocate nothing, eager or rendezvous, whether the receive is posted first or the
// message arrives first: in process, over shared memory (large payloads through the rings and
// by single copy) and over TCP.
func TestSendRecvZeroAlloc(t *testing.T) {
	if testing.Short() {
		t.Skip("counts allocations over many round trips")
	}
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector (sync.Pool drops items)")
	}
	// As under gompirun, parked waits register for hang reports (package waits): that may not
	// allocate either.
	waits.Enable()
	for _, tr := range []struct {
		name string
		run  func(n int, f func(*comm.Comm) error) error
	}{
		{"inproc", inproc.Run},
		{"shm", func(n int, f func(*comm.Comm) error) error {
			return shmtest.RunConfig(n, shm.Config{Spin: 50 * time.Microsecond}, f)
		}},
		{"shm-cma", func(n int, f func(*comm.Comm) error) error {
			return shmtest.RunConfig(n, shm.Config{Spin: 50 * time.Microsecond, CMA: true}, f)
		}},
		{"tcp", tcptest.Run},
	} {
		t.Run(tr.name, func(t *testing.T) { sendRecvZeroAlloc(t, tr.run) })
	}
}

func sendRecvZeroAlloc(t *testing.T, run func(n int, f func(*comm.Comm) error) error) {
	for _, n := range []int{1, 1024, 100000} { // float64s: 8 B and 8 KiB eager, 800 KB rendezvous
		const runs = 200
		var allocs float64
		err := run(2, func(c *comm.Comm) error {
			buf := make([]float64, n)
			if c.Rank() == 1 {
				for range runs + 1 { // AllocsPerRun makes one warm-up call
					if _, err := comm.Recv(c, buf, 0, 1); err != nil {
						return err
					}
					if err := comm.Send(c, buf, 0, 2); err != nil {
						return err
					}
				}
				return nil
			}
			var err error
			allocs = testing.AllocsPerRun(runs, func() {
				if e := comm.Send(c, buf, 1, 1); e != nil {
					err = e
				}
				if _, e := comm.Recv(c, buf, 1, 2); e != nil {
					err = e
				}
			})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if allocs != 0 {
			t.Errorf("%d float64s: %.1f allocations per round trip, want 0", n, allocs)
		}
	}
}

// BenchmarkSendRecv measures a round trip (Send then Recv on each side) between two in-process
// ranks; allocs/op is the steady state.
func BenchmarkSendRecv(b *testing.B) {
	for _, n := range []int{1, 1024, 1 << 17} {
		b.Run(fmt.Sprintf("float64x%d", n), func(b *testing.B) {
			b.SetBytes(int64(2 * 8 * n))
			b.ReportAllocs()
			err := inproc.Run(2, func(c *comm.Comm) error {
				buf := make([]float64, n)
				peer := 1 - c.Rank()
				// Warm up the pools, then start the clock once both ranks are ready.
				for range 10 {
					if err := pingPong(c, buf, peer); err != nil {
						return err
					}
				}
				if c.Rank() == 0 {
					b.ResetTimer()
				}
				for range b.N {
					if err := pingPong(c, buf, peer); err != nil {
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

func pingPong(c *comm.Comm, buf []float64, peer int) error {
	if c.Rank() == 0 {
		if err := comm.Send(c, buf, peer, 1); err != nil {
			return err
		}
		_, err := comm.Recv(c, buf, peer, 2)
		return err
	}
	if _, err := comm.Recv(c, buf, peer, 1); err != nil {
		return err
	}
	return comm.Send(c, buf, peer, 2)
}
