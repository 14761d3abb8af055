package comm_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/transport/inproc"
)

// unsafeExchange has two ranks each Send 8 bytes to the other before they Recv: it relies on
// the library buffering the send (MPI calls it unsafe). Each Send may wait until ctx ends.
func unsafeExchange(ctx context.Context, c *comm.Comm) error {
	peer := 1 - c.Rank()
	if err := comm.SendContext(ctx, c, []float64{float64(c.Rank())}, peer, 7); err != nil {
		return err
	}
	got := []float64{-1}
	if _, err := comm.RecvContext(ctx, c, got, peer, 7); err != nil {
		return err
	}
	if got[0] != float64(peer) {
		return errors.New("wrong value")
	}
	return nil
}

// TestStrictMode: the unsafe exchange passes normally (the 8 bytes go eagerly) and hangs under
// GOMPI_STRICT=1, where every send completes only when matched: both ranks end with the
// deadline of their send. Under strict, safe exchanges still work: Sendrecv, Isend before
// Recv, an empty message, and a collective.
func TestStrictMode(t *testing.T) {
	if err := inproc.Run(2, func(c *comm.Comm) error { return unsafeExchange(context.Background(), c) }); err != nil {
		t.Fatalf("unsafe exchange without strict mode: %v", err)
	}
	t.Setenv("GOMPI_STRICT", "1")
	errs := make([]error, 2)
	if err := inproc.Run(2, func(c *comm.Comm) error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		errs[c.Rank()] = unsafeExchange(ctx, c)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// A rank whose deadline comes first leaves, and the other may then learn that before its
	// own deadline: one of the two ends with the deadline, the other with it or the departure.
	deadlines := 0
	for r, err := range errs {
		switch {
		case errors.Is(err, context.DeadlineExceeded):
			deadlines++
		case !errors.Is(err, comm.ErrPeerFailed):
			t.Errorf("strict mode: rank %d: %v, want its Send to wait until the deadline", r, err)
		}
	}
	if deadlines == 0 {
		t.Errorf("strict mode: no rank waited until its deadline: %v", errs)
	}
	err := inproc.Run(2, func(c *comm.Comm) error {
		peer := 1 - c.Rank()
		got := []float64{-1}
		if _, err := comm.Sendrecv(c, []float64{float64(c.Rank())}, peer, 1, got, peer, 1); err != nil || got[0] != float64(peer) {
			return errors.Join(err, errors.New("Sendrecv"))
		}
		req, err := comm.Isend(c, []float64{float64(c.Rank())}, peer, 2)
		if err != nil {
			return err
		}
		if _, err := comm.Recv(c, got, peer, 2); err != nil || got[0] != float64(peer) {
			return errors.Join(err, errors.New("Isend, Recv"))
		}
		if _, err := req.Wait(); err != nil {
			return err
		}
		if c.Rank() == 0 {
			return comm.Send(c, []float64{}, 1, 3)
		}
		_, err = comm.Recv(c, []float64{}, 0, 3)
		return err
	})
	if err != nil {
		t.Errorf("safe exchanges under strict mode: %v", err)
	}
}
