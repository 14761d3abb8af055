package collectives

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/internal/backend"
	"github.com/gompi/gompi/internal/commlink"
	"github.com/gompi/gompi/transport/inproc"
	"github.com/gompi/gompi/transport/shm/shmtest"
	"github.com/gompi/gompi/transport/tcp/tcptest"
)

// ctxTransports are the transports the context tests run on: ranks as goroutines, over shared
// memory, and over TCP loopback (all in this process).
var ctxTransports = []transportRunner{{"inproc", inproc.Run}, {"shm", shmtest.Run}, {"tcp", tcptest.Run}}

// runWithin runs f on p ranks of tr and fails if they take longer than hangLimit.
func runWithin(tr transportRunner, p int, f func(c *comm.Comm) error) error {
	done := make(chan error, 1)
	go func() { done <- tr.run(p, f) }()
	select {
	case err := <-done:
		return err
	case <-time.After(hangLimit):
		return fmt.Errorf("did not finish within %v (hung?)", hangLimit)
	}
}

// TestBarrierContextDeadline is the acceptance test of contexts: on 2, 3, 4 and 6 ranks (1, 2,
// 3 and 5 waiting), every rank but one calls BarrierContext with a deadline 1 s away while the
// last stays away until the others have returned. The waiting ranks must get an error wrapping
// context.DeadlineExceeded within 1.5 s of setting the deadline (half a second after it). Then:
// their next collective on that communicator fails at once with ErrCollectiveAborted (wrapping
// the deadline too); the absent rank's late Barrier returns (with or without an error: it may
// find the messages the others sent before giving up); point-to-point still works; and a Dup of
// the broken communicator, with it freed, runs a Barrier on every rank.
//
// The waiting ranks share one absolute deadline, as a job-wide deadline would: with deadlines
// of their own, a rank whose deadline came a moment before another's would abort the barrier
// for it, and that one would report the peer's context (comm.ErrCanceled) rather than its own.
func TestBarrierContextDeadline(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for 1 s deadlines")
	}
	for _, tr := range ctxTransports {
		for _, waiting := range []int{1, 2, 3, 5} {
			p := waiting + 1
			t.Run(fmt.Sprintf("%s/p=%d", tr.name, p), func(t *testing.T) { barrierDeadline(t, tr, p) })
		}
	}
}

func barrierDeadline(t *testing.T, tr transportRunner, p int) {
	absent := p / 2
	var once sync.Once
	var deadline time.Time
	var waiting sync.WaitGroup
	waiting.Add(p - 1)
	othersReturned := make(chan struct{})
	go func() { waiting.Wait(); close(othersReturned) }()
	errs, late, again := make([]error, p), make([]time.Duration, p), make([]error, p)
	err := runWithin(tr, p, func(world *comm.Comm) error {
		w, err := world.Dup() // the world cannot be freed
		if err != nil {
			return err
		}
		if err := Barrier(w); err != nil { // start together
			return err
		}
		me := w.Rank()
		if me == absent {
			<-othersReturned
			errs[me] = Barrier(w)
		} else {
			once.Do(func() { deadline = time.Now().Add(time.Second) })
			ctx, cancel := context.WithDeadline(context.Background(), deadline)
			defer cancel()
			errs[me] = BarrierContext(ctx, w)
			late[me] = time.Since(deadline)
			waiting.Done()
			again[me] = Barrier(w)
		}
		// Point-to-point on the broken communicator still works: a ring of one message each.
		if err := comm.Send(w, []int{me}, (me+1)%p, 5); err != nil {
			return fmt.Errorf("Send after the failed Barrier: %w", err)
		}
		got := []int{-1}
		if _, err := comm.Recv(w, got, (me-1+p)%p, 5); err != nil || got[0] != (me-1+p)%p {
			return fmt.Errorf("Recv after the failed Barrier: %v, %v", got, err)
		}
		// Recovery: a new communicator, the broken one freed.
		d, err := w.Dup()
		if err != nil {
			return fmt.Errorf("Dup of the broken communicator: %w", err)
		}
		if err := w.Free(); err != nil {
			return err
		}
		if err := Barrier(d); err != nil {
			return fmt.Errorf("Barrier on the new communicator: %w", err)
		}
		return d.Free()
	})
	if err != nil {
		t.Fatal(err)
	}
	for r := range p {
		if r == absent {
			continue
		}
		if !errors.Is(errs[r], context.DeadlineExceeded) {
			t.Errorf("rank %d: BarrierContext returned %v, want context.DeadlineExceeded", r, errs[r])
		}
		// Generous, for loaded CI machines: the absent rank comes only after the others have
		// returned, so a wait that the deadline did not end would hang, not be late.
		if late[r] > 5*time.Second {
			t.Errorf("rank %d: BarrierContext returned %v after the deadline, want < 5s", r, late[r])
		}
		if !errors.Is(again[r], ErrCollectiveAborted) || !errors.Is(again[r], context.DeadlineExceeded) {
			t.Errorf("rank %d: the Barrier after it returned %v, want ErrCollectiveAborted wrapping the deadline", r, again[r])
		}
	}
	t.Logf("returned after the deadline: %v; absent rank %d's late Barrier: %v", late, absent, errs[absent])
}

// TestBarrierContextOneRank: a rank alone passes a barrier at once, unless its context has
// already ended (then every collective fails, whatever the size).
func TestBarrierContextOneRank(t *testing.T) {
	runRanks(t, "BarrierContext p=1", 1, func(c *comm.Comm) error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if err := BarrierContext(ctx, c); err != nil {
			return err
		}
		ended, cancel2 := context.WithCancel(context.Background())
		cancel2()
		if err := BarrierContext(ended, c); !errors.Is(err, context.Canceled) {
			return fmt.Errorf("BarrierContext with an ended context: %v, want context.Canceled", err)
		}
		return nil
	})
}

// TestContextEndedBeforeCall: a collective called with a context that has already ended fails
// at once on every rank, with the context's error, and moves no data.
func TestContextEndedBeforeCall(t *testing.T) {
	for p := 1; p <= 5; p++ {
		ended, cancel := context.WithCancel(context.Background())
		cancel()
		expectAll(t, fmt.Sprintf("AllreduceContext ended p=%d", p), p, context.Canceled, func(c *comm.Comm) error {
			return AllreduceContext(ended, c, fvec(c.Rank(), 1000), make([]float64, 1000), Sum)
		})
		expectAll(t, fmt.Sprintf("BcastValueContext ended p=%d", p), p, context.Canceled, func(c *comm.Comm) error {
			_, err := BcastValueContext(ended, c, "x", 0)
			return err
		})
	}
}

// cancelingBackend wraps a rank's backend so that its context ends at a chosen point inside a
// collective: on the collective shadow, the rank's at-th receive (Recv or Irecv, counting
// from 1) calls cancel before it is posted. Setting n to at or more turns it off.
type cancelingBackend struct {
	backend.Backend
	at     int32
	n      *atomic.Int32
	cancel context.CancelFunc
}

func (b *cancelingBackend) Collective() backend.Backend {
	return &cancelingBackend{Backend: b.Backend.Collective(), at: b.at, n: b.n, cancel: b.cancel}
}

// Hosts passes the transport's host map on: the algorithms choose by it (oneHost), and every
// rank must choose alike.
func (b *cancelingBackend) Hosts() *backend.Hosts {
	if hm, ok := b.Backend.(backend.HostMap); ok {
		return hm.Hosts()
	}
	return nil
}

func (b *cancelingBackend) tick() {
	if b.n.Add(1) == b.at {
		b.cancel()
	}
}

func (b *cancelingBackend) Recv(ctx context.Context, buf []byte, src, tag int) (backend.Status, error) {
	b.tick()
	return b.Backend.Recv(ctx, buf, src, tag)
}

func (b *cancelingBackend) Irecv(buf []byte, src, tag int) (backend.Request, error) {
	b.tick()
	return b.Backend.Irecv(buf, src, tag)
}

// cancelAt runs call on p ranks of tr, on a Dup of the world, where rank victim's context ends
// at its at-th collective receive (and only in call). It returns what call returned on each
// rank, whether the victim's context did end inside it, and each rank's result of a Barrier on
// the same communicator afterwards. The ranks wait for each other on the world before they
// leave, so that no rank's leaving fails another's Barrier.
func cancelAt(tr transportRunner, p, victim, at int, call func(ctx context.Context, c *comm.Comm) error) (errs, after []error, fired bool, err error) {
	errs, after = make([]error, p), make([]error, p)
	err = runWithin(tr, p, func(world *comm.Comm) error {
		c, err := world.Dup()
		if err != nil {
			return err
		}
		ctx := context.Background()
		if c.Rank() == victim {
			var cancel context.CancelFunc
			ctx, cancel = context.WithCancel(ctx)
			defer cancel()
			cb := &cancelingBackend{Backend: commlink.Backend(c), at: int32(at), n: new(atomic.Int32), cancel: cancel}
			c = commlink.New[*comm.Comm](cb)
			defer func() { fired = ctx.Err() != nil }()
			errs[victim] = call(ctx, c)
			cb.n.Store(int32(at)) // no cancel in the Barrier
		} else {
			errs[c.Rank()] = call(ctx, c)
		}
		after[c.Rank()] = Barrier(c)
		return Barrier(world)
	})
	return errs, after, fired, err
}

// TestAllreduceContextCanceledMidway: the last rank's context ends at its at-th receive inside
// an Allreduce (each algorithm, an eager and a rendezvous size, 2 to 5 ranks). No rank may hang;
// that rank gets context.Canceled. When its context ends at its first receive it has sent no
// data, so every other rank must fail; later, the others may already hold their result, which
// must then be right. Afterwards a Barrier on the communicator fails on every rank with
// ErrCollectiveAborted, however the Allreduce went for it.
func TestAllreduceContextCanceledMidway(t *testing.T) {
	for _, alg := range []algorithm{algRecursiveDoubling, algRing, algRabenseifner} {
		for p := 2; p <= 5; p++ {
			for _, n := range []int{7, 100000} {
				for _, at := range []int{1, 2, 3} {
					label := fmt.Sprintf("Allreduce %v p=%d n=%d, rank %d canceled at its receive %d", alg, p, n, p-1, at)
					allreduceCanceled(t, label, alg, p, n, at)
				}
			}
		}
	}
}

func allreduceCanceled(t *testing.T, label string, alg algorithm, p, n, at int) {
	t.Helper()
	victim := p - 1
	wrong := make([]error, p)
	errs, after, fired, err := cancelAt(transportRunner{"inproc", inproc.Run}, p, victim, at, func(ctx context.Context, c *comm.Comm) error {
		recv := make([]float64, n)
		err := allreduce(ctx, c, "Allreduce", fvec(c.Rank(), n), recv, Sum, alg)
		if err == nil {
			wrong[c.Rank()] = compare(label, c.Rank(), recv, n, func(i int) float64 { return fsum(0, p, i) }, feq)
		}
		return err
	})
	if err != nil {
		t.Fatalf("%s: %v", label, err)
	}
	if !fired {
		return // the victim has fewer receives in this algorithm
	}
	if !errors.Is(errs[victim], context.Canceled) {
		t.Errorf("%s: rank %d: %v, want context.Canceled", label, victim, errs[victim])
	}
	for r := range p {
		if r != victim && at == 1 && errs[r] == nil {
			t.Errorf("%s: rank %d succeeded though rank %d sent it nothing", label, r, victim)
		}
		if wrong[r] != nil {
			t.Errorf("%s: rank %d: wrong result %v", label, r, wrong[r])
		}
		if !errors.Is(after[r], ErrCollectiveAborted) {
			t.Errorf("%s: rank %d: the Barrier after it returned %v, want ErrCollectiveAborted", label, r, after[r])
		}
	}
}

// TestContextOverTransports runs the mid-collective cancellation over shared memory and TCP,
// where large messages take the rendezvous path and a canceled send is withdrawn.
func TestContextOverTransports(t *testing.T) {
	if testing.Short() {
		t.Skip("shared memory and TCP skipped in -short mode")
	}
	for _, tr := range ctxTransports[1:] {
		for _, p := range []int{2, 3, 5} {
			for _, at := range []int{1, 2} {
				label := fmt.Sprintf("%s Allreduce ring p=%d n=100000, rank %d canceled at its receive %d", tr.name, p, p-1, at)
				errs, after, _, err := cancelAt(tr, p, p-1, at, func(ctx context.Context, c *comm.Comm) error {
					return allreduce(ctx, c, "Allreduce", fvec(c.Rank(), 100000), make([]float64, 100000), Sum, algRing)
				})
				if err != nil {
					t.Fatalf("%s: %v", label, err)
				}
				if !errors.Is(errs[p-1], context.Canceled) {
					t.Errorf("%s: rank %d: %v, want context.Canceled", label, p-1, errs[p-1])
				}
				for r := range p {
					if r < p-1 && errs[r] == nil {
						t.Errorf("%s: rank %d succeeded", label, r) // the ring needs every rank's blocks
					}
					if !errors.Is(after[r], ErrCollectiveAborted) {
						t.Errorf("%s: rank %d: the Barrier after it returned %v, want ErrCollectiveAborted", label, r, after[r])
					}
				}
			}
		}
	}
}

// TestBrokenCommunicatorFailsAtOnce: after a failed collective (an argument error on one rank)
// every rank's collectives on that communicator fail at once with ErrCollectiveAborted, on
// ranks that saw the error and on those told by the revoke; a Dup of it works.
func TestBrokenCommunicatorFailsAtOnce(t *testing.T) {
	const p = 4
	runRanks(t, "broken communicator", p, func(world *comm.Comm) error {
		c, err := world.Dup()
		if err != nil {
			return err
		}
		n := 10
		if c.Rank() == 2 {
			n = 11 // counts differ: rank 2 and the ranks it exchanges with fail
		}
		first := Allreduce(c, make([]float64, n), make([]float64, n), Sum)
		if first == nil {
			return fmt.Errorf("Allreduce with counts differing between ranks succeeded")
		}
		for _, call := range []func() error{
			func() error { return Barrier(c) },
			func() error { return Bcast(c, make([]int, 3), 0) },
			func() error { _, err := AllgatherValue(c, 1); return err },
		} {
			if err := call(); !errors.Is(err, ErrCollectiveAborted) {
				return fmt.Errorf("collective after a failed one: %v, want ErrCollectiveAborted", err)
			}
		}
		d, err := c.Dup()
		if err != nil {
			return err
		}
		if err := c.Free(); err != nil {
			return err
		}
		recv := make([]float64, 1)
		if err := Allreduce(d, []float64{1}, recv, Sum); err != nil || recv[0] != p {
			return fmt.Errorf("Allreduce on a Dup of the broken communicator: %v, %v", recv, err)
		}
		return d.Free()
	})
}

// TestValueContextAbsentRank: the value collectives give up like the others: with one rank
// absent, every waiting rank returns the deadline's error, and the late rank returns too.
func TestValueContextAbsentRank(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for a deadline")
	}
	const p = 4
	var left sync.WaitGroup
	left.Add(p - 1)
	othersReturned := make(chan struct{})
	go func() { left.Wait(); close(othersReturned) }()
	errs := make([]error, p)
	deadline := time.Now().Add(300 * time.Millisecond)
	err := runRanksErr(p, func(c *comm.Comm) error {
		if c.Rank() == 1 {
			<-othersReturned
			_, errs[1] = AllgatherValue(c, "late")
			return nil
		}
		ctx, cancel := context.WithDeadline(context.Background(), deadline)
		defer cancel()
		_, errs[c.Rank()] = AllgatherValueContext(ctx, c, fmt.Sprint("rank", c.Rank()))
		left.Done()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for r := range p {
		if r != 1 && !errors.Is(errs[r], context.DeadlineExceeded) {
			t.Errorf("rank %d: AllgatherValueContext returned %v, want context.DeadlineExceeded", r, errs[r])
		}
	}
}
