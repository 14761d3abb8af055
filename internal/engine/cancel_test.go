package engine_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/transport/inproc"
	"github.com/gompi/gompi/transport/tcp/tcptest"
)

// TestSendContextWithdraws: a rendezvous send whose context ends before any receive matched it
// returns the context's error and is withdrawn: the receiver never sees it, and the next message
// on the same tag is the one it gets.
func TestSendContextWithdraws(t *testing.T) {
	run := map[string]func(int, func(*comm.Comm) error) error{"inproc": inproc.Run, "tcp": tcptest.Run}
	for name, start := range run {
		err := start(2, func(c *comm.Comm) error {
			if c.Rank() == 0 {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
				defer cancel()
				err := comm.SendContext(ctx, c, make([]float64, 1<<17), 1, 77) // 1 MiB: rendezvous
				if !errors.Is(err, context.DeadlineExceeded) {
					return fmt.Errorf("SendContext with nobody receiving: %v, want DeadlineExceeded", err)
				}
				if err := comm.Send(c, []float64{42}, 1, 77); err != nil {
					return err
				}
				return comm.Send(c, []byte{}, 1, 76) // go ahead
			}
			if _, err := comm.Recv(c, []byte{}, 0, 76); err != nil {
				return err
			}
			buf := make([]float64, 1<<17)
			st, err := comm.Recv(c, buf, 0, 77)
			if err != nil {
				return err
			}
			if comm.Count[float64](st) != 1 || buf[0] != 42 {
				return fmt.Errorf("got %d elements starting %v: the withdrawn message was delivered", comm.Count[float64](st), buf[0])
			}
			// Rank 0 may have left by now (Iprobe then says so); either way nothing is queued.
			if _, ok, err := c.Iprobe(0, comm.AnyTag); ok || (err != nil && !errors.Is(err, comm.ErrPeerFailed)) {
				return fmt.Errorf("a message is still queued after the withdrawn one: %v %v", ok, err)
			}
			return nil
		})
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}
