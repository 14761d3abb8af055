package engine_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/internal/backend"
	"github.com/gompi/gompi/internal/commlink"
	"github.com/gompi/gompi/transport/inproc"
)

// TestValuePartsContext: the parts context of a communicator is a matching context of its own.
// A message sent there is received there, never by a wildcard receive on the communicator or on
// its collective shadow, and Free fails a receive waiting on it.
func TestValuePartsContext(t *testing.T) {
	err := inproc.Run(2, func(c *comm.Comm) error {
		d, err := c.Dup()
		if err != nil {
			return err
		}
		b := commlink.Backend(d)
		vp, ok := b.(backend.ValueParts)
		if !ok || vp.ValueParts() == nil {
			return fmt.Errorf("the engine's communicator has no parts context")
		}
		parts := vp.ValueParts()
		if sh, ok := b.Collective().(backend.ValueParts); !ok || sh.ValueParts() != nil {
			return fmt.Errorf("a collective shadow has a parts context")
		}
		ctx := context.Background()
		if d.Rank() == 0 {
			if err := parts.Send(ctx, []byte{7}, 1, 5); err != nil {
				return err
			}
			if err := comm.Send(d, []byte{8}, 1, 5); err != nil {
				return err
			}
			if err := b.Collective().Send(ctx, []byte{9}, 1, 5); err != nil {
				return err
			}
			_, err := comm.Recv(c, []byte{}, 1, 99) // rank 1 is done: rank 0 may leave
			return err
		}
		// Wildcards on the communicator and on its shadow see only their own message.
		got := []byte{0}
		if _, err := comm.Recv(d, got, comm.AnySource, comm.AnyTag); err != nil || got[0] != 8 {
			return fmt.Errorf("wildcard receive on the communicator: %v %v, want 8", got, err)
		}
		if _, err := b.Collective().Recv(ctx, got, comm.AnySource, comm.AnyTag); err != nil || got[0] != 9 {
			return fmt.Errorf("wildcard receive on the shadow: %v %v, want 9", got, err)
		}
		if _, err := parts.Recv(ctx, got, 0, 5); err != nil || got[0] != 7 {
			return fmt.Errorf("receive on the parts context: %v %v, want 7", got, err)
		}
		// A receive waiting on the parts context fails when the communicator is freed.
		r, err := parts.Irecv(got, 0, 6)
		if err != nil {
			return err
		}
		if err := d.Free(); err != nil {
			return err
		}
		if _, err := r.Wait(ctx); !errors.Is(err, comm.ErrClosed) {
			return fmt.Errorf("receive on the parts context of a freed communicator: %v, want ErrClosed", err)
		}
		return comm.Send(c, []byte{}, 0, 99)
	})
	if err != nil {
		t.Fatal(err)
	}
}
