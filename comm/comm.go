package comm

import (
	"context"

	"github.com/gompi/gompi/backend"
)

// Comm is a communicator: a group of ranks with a private matching context, as seen by one rank.
//
// A Comm is safe for concurrent use by many goroutines. Point-to-point calls may run at once
// from any number of goroutines. Collective calls (Split, Dup, and everything in package
// collectives) must be made by every rank in the same order; two goroutines of one rank that
// want to run collectives concurrently should each use their own communicator (see Dup).
type Comm struct {
	b backend.Backend
}

// New wraps a backend in a Comm. Transports and backends call it; programs get their
// communicators from Init, Split and Dup, or from transport/inproc in tests.
func New(b backend.Backend) *Comm { return &Comm{b: b} }

// Rank returns the calling rank's number in c, from 0 to Size()-1.
func (c *Comm) Rank() int { return c.b.Rank() }

// Size returns the number of ranks in c.
func (c *Comm) Size() int { return c.b.Size() }

// Backend returns the backend under c. Only code that implements communication layers needs it.
func (c *Comm) Backend() backend.Backend { return c.b }

// Split partitions c into disjoint communicators, one per color; within each, ranks are ordered
// by key, ties broken by their rank in c (MPI_Comm_split, MPI 4.1 §7.4.2). Every rank of c must
// call it. A rank passing Undefined as color gets a nil *Comm and a nil error.
func (c *Comm) Split(color, key int) (*Comm, error) {
	return c.SplitContext(context.Background(), color, key)
}

// SplitContext is Split bounded by ctx.
func (c *Comm) SplitContext(ctx context.Context, color, key int) (*Comm, error) {
	if color < 0 && color != Undefined {
		return nil, backend.Errorf("Split", backend.NoPeer, -1, ErrInvalidArgument, "color %d is negative (use comm.Undefined to opt out)", color)
	}
	b, err := c.b.Split(ctx, color, key)
	if err != nil || b == nil {
		return nil, err
	}
	return New(b), nil
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
	return New(b), nil
}

// Free releases c. Operations still pending on it fail with ErrClosed. Freeing the world
// communicator is not allowed; use Finalize.
func (c *Comm) Free() error { return c.b.Free() }

// Collective returns the shadow communicator that collective algorithms use for their own
// messages: the same ranks as c, with a matching context of its own, so collective traffic never
// matches the program's point-to-point receives on c (MPI 4.1 §6.2.1). Only code that implements
// collective algorithms needs it.
func (c *Comm) Collective() *Comm { return &Comm{b: c.b.Collective()} }

// Native returns the backend's own implementation of the collectives (OpenMPI's), or nil when
// collectives run gompi's algorithms over point-to-point.
func (c *Comm) Native() backend.Native { return c.b.Native() }
