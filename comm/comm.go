package comm

import (
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"

	"github.com/gompi/gompi/internal/backend"
	"github.com/gompi/gompi/internal/commlink"
)

// Comm is a communicator: a group of ranks with a private matching context, as seen by one rank.
//
// A Comm is safe for concurrent use by many goroutines. Point-to-point calls may run at once
// from any number of goroutines. Collective calls (Split, Dup, and everything in package
// collectives) must be made by every rank in the same order; two goroutines of one rank that
// want to run collectives concurrently should each use their own communicator (see Dup).
type Comm struct {
	b backend.Backend

	shadowOnce sync.Once
	shadow     backend.Backend // b.Collective(), made on first use

	// partTags counts the values sent in parts from this rank (see nextPartTag). It starts at
	// a random number, so that two Comms over one backend (gompi's own tests make such) are
	// unlikely ever to use the same tag at once.
	partTags atomic.Uint32
}

// newComm wraps a backend in a Comm. Programs get their communicators from Init, Split and Dup,
// or from transport/inproc in tests; gompi's own packages reach this through internal/commlink.
func newComm(b backend.Backend) *Comm {
	c := &Comm{b: b}
	c.partTags.Store(rand.Uint32())
	return c
}

func init() {
	commlink.Register(commlink.Funcs{
		New:     func(b backend.Backend) any { return newComm(b) },
		Backend: func(c any) backend.Backend { return c.(*Comm).b },
		Shadow:  func(c any) backend.Backend { return c.(*Comm).collective() },
		Native:  func(c any) backend.Native { return c.(*Comm).b.Native() },
	})
}

// collective returns the backend of c's collective context, made once: on OpenMPI making it
// is itself collective (MPI_Comm_dup), so it is made by the first collective that needs it.
func (c *Comm) collective() backend.Backend {
	c.shadowOnce.Do(func() { c.shadow = c.b.Collective() })
	return c.shadow
}

// Rank returns the calling rank's number in c, from 0 to Size()-1.
func (c *Comm) Rank() int { return c.b.Rank() }

// Size returns the number of ranks in c.
func (c *Comm) Size() int { return c.b.Size() }

// Split partitions c into disjoint communicators, one per color; within each, ranks are ordered
// by key, ties broken by their rank in c (MPI_Comm_split, MPI 4.1 §7.4.2). Every rank of c must
// call it. A rank passing Undefined as color gets the null communicator and a nil error: a
// non-nil *Comm of no ranks (Rank -1, Size 0, IsNull true) on which every operation fails with
// an error wrapping ErrCommNull, like MPI_COMM_NULL.
func (c *Comm) Split(color, key int) (*Comm, error) {
	return c.SplitContext(context.Background(), color, key)
}

// SplitContext is Split bounded by ctx.
func (c *Comm) SplitContext(ctx context.Context, color, key int) (*Comm, error) {
	if color < 0 && color != Undefined {
		return nil, backend.Errorf("Split", backend.NoDirection, backend.NoPeer, -1, ErrInvalidArgument, "color %d is negative (use comm.Undefined to opt out)", color)
	}
	b, err := c.b.Split(ctx, color, key)
	if err != nil {
		return nil, err
	}
	if b == nil {
		return newComm(nullBackend{}), nil
	}
	return newComm(b), nil
}

// Dup returns a new communicator with the same ranks as c and a separate matching context, so
// that messages on one never match receives on the other (MPI_Comm_dup). Every rank must call it.
func (c *Comm) Dup() (*Comm, error) { return c.DupContext(context.Background()) }

// DupContext is Dup bounded by ctx.
func (c *Comm) DupContext(ctx context.Context) (*Comm, error) {
	b, err := c.b.Dup(ctx)
	if err != nil {
		return nil, err
	}
	return newComm(b), nil
}

// IsNull reports whether c is the null communicator, which Split returns to ranks that passed
// Undefined: Rank is -1, Size 0, and every operation fails with ErrCommNull.
func (c *Comm) IsNull() bool {
	_, null := c.b.(nullBackend)
	return null
}

// Free releases c. Operations still pending on it fail with ErrClosed. Freeing the world
// communicator is not allowed; use Finalize.
func (c *Comm) Free() error { return c.b.Free() }
