package collectives

import (
	"runtime/debug"
	"testing"

	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/internal/waits"
	"github.com/gompi/gompi/transport/inproc"
)

// allocCase is one collective call for TestCollectivesZeroAlloc, on n float64s per rank; i
// counts the calls. The rooted ones move the root from call to call: with a fixed root, the
// senders of eager messages (Bcast's root, Reduce's leaves) may run any number of calls ahead
// of their receivers, whose queues of unexpected messages then grow without bound (as they
// would under any MPI).
type allocCase struct {
	name    string
	call    func(c *comm.Comm, i int, send, recv []float64) error
	sendLen func(n, p int) int
	recvLen func(n, p int) int
}

var allocCases = []allocCase{
	{"Barrier", func(c *comm.Comm, _ int, _, _ []float64) error { return Barrier(c) }, zeroLen, zeroLen},
	{"Bcast", func(c *comm.Comm, i int, send, _ []float64) error { return Bcast(c, send, i%c.Size()) }, nLen, zeroLen},
	{"Allreduce", func(c *comm.Comm, _ int, send, recv []float64) error { return Allreduce(c, send, recv, Sum) }, nLen, nLen},
	{"Reduce", func(c *comm.Comm, i int, send, recv []float64) error {
		root := i % c.Size()
		if c.Rank() != root {
			recv = nil
		}
		return Reduce(c, send, recv, Sum, root)
	}, nLen, nLen},
	{"Allgather", func(c *comm.Comm, _ int, send, recv []float64) error { return Allgather(c, send, recv) }, nLen, npLen},
	{"Alltoall", func(c *comm.Comm, _ int, send, recv []float64) error { return Alltoall(c, send, recv) }, npLen, npLen},
	{"Alltoall bruck", func(c *comm.Comm, _ int, send, recv []float64) error {
		return alltoall(bg, c, "Alltoall", asBytes(send), asBytes(recv), 8, algBruck)
	}, npLen, npLen},
	{"Allreduce ring", func(c *comm.Comm, _ int, send, recv []float64) error {
		return allreduce(bg, c, "Allreduce", send, recv, Sum, algRing)
	}, nLen, nLen},
}

func zeroLen(n, p int) int { return 0 }
func nLen(n, p int) int    { return n }
func npLen(n, p int) int   { return n * p }

// collAllocs returns the allocations per call of ac on p in-process ranks with n elements, in
// the whole process (every rank's), after warm-up calls that fill the pools. The collector is
// off meanwhile: a collection empties every sync.Pool, and the first calls after one refill
// them (the steady state is the time between collections).
func collAllocs(p, n int, ac allocCase) (float64, error) {
	const warm, runs = 20, 100
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	var allocs float64
	err := inproc.Run(p, func(c *comm.Comm) error {
		send := make([]float64, ac.sendLen(n, p))
		recv := make([]float64, ac.recvLen(n, p))
		i := 0
		for ; i < warm; i++ {
			if err := ac.call(c, i, send, recv); err != nil {
				return err
			}
		}
		if c.Rank() != 0 {
			for ; i < warm+runs+1; i++ { // AllocsPerRun makes one warm-up call of its own
				if err := ac.call(c, i, send, recv); err != nil {
					return err
				}
			}
			return nil
		}
		var err error
		allocs = testing.AllocsPerRun(runs, func() {
			if e := ac.call(c, i, send, recv); e != nil {
				err = e
			}
			i++
		})
		return err
	})
	return allocs, err
}

// TestCollectivesZeroAlloc: in the steady state a collective call allocates nothing, on any
// rank, for small (eager) and large (rendezvous, and the large-message algorithms) vectors, on
// 2, 3 and 4 in-process ranks. Scratch vectors come from a pool, runs too, and exchanges use
// the engine's Sendrecv, whose requests are pooled.
func TestCollectivesZeroAlloc(t *testing.T) {
	if testing.Short() {
		t.Skip("counts allocations over many calls")
	}
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector (sync.Pool drops items)")
	}
	// As under gompirun, parked waits register for hang reports and each call labels its
	// collective context (package waits): neither may allocate.
	waits.Enable()
	for _, p := range []int{2, 3, 4} {
		for _, n := range []int{1, 8, 1 << 17} { // 8 B, 64 B, 1 MiB per rank
			for _, ac := range allocCases {
				allocs, err := collAllocs(p, n, ac)
				if err != nil {
					t.Fatalf("%s p=%d n=%d: %v", ac.name, p, n, err)
				}
				if allocs != 0 {
					t.Errorf("%s p=%d n=%d: %.1f allocations per call, want 0", ac.name, p, n, allocs)
				}
			}
		}
	}
}
