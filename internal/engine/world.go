package engine

import (
	"errors"
	"fmt"

	"github.com/gompi/gompi/internal/backend"
	"github.com/gompi/gompi/transport"
)

// World is the world communicator of a Go-native job; it implements backend.World.
type World struct {
	*Comm
}

// NewWorld starts an engine over t and returns its world communicator.
func NewWorld(t transport.Transport) *World {
	e := newEngine(t)
	group := make([]int, e.size)
	for i := range group {
		group[i] = i
	}
	c := newComm(e, worldCtx, group)
	c.world = true
	return &World{Comm: c}
}

// NewSingleton returns a world of one rank that needs no transport (MPI's singleton init).
func NewSingleton() *World { return NewWorld(selfTransport{}) }

// Finalize implements backend.World: pending operations fail with ErrClosed, peers are told
// this rank leaves, and the transport closes.
func (w *World) Finalize() error { return w.e.finalize() }

// Engine returns the engine under the world (for tests and transports).
func (w *World) Engine() *Engine { return w.e }

// PeerGone reports whether world rank r has failed or left.
func (e *Engine) PeerGone(r int) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.peers[r].gone
}

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

// selfTransport is the transport of a one-rank world: every message is a self-send, which the
// engine delivers without a transport.
type selfTransport struct{}

func (selfTransport) Rank() int               { return 0 }
func (selfTransport) Size() int               { return 1 }
func (selfTransport) Start(transport.Handler) {}
func (selfTransport) EagerLimit() int         { return 64 << 10 }
func (selfTransport) Close() error            { return nil }
func (selfTransport) Send(peer int, _ transport.Header, _ []byte) error {
	return errors.New("engine: a one-rank world has no peers")
}

var _ backend.World = (*World)(nil)
