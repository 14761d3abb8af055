package comm

import (
	"context"

	"github.com/gompi/gompi/internal/backend"
)

// nullBackend is the backend of the null communicator (Split with Undefined): no ranks, and
// every operation fails with ErrCommNull, naming the operation.
type nullBackend struct{}

func nullErr(op string) error {
	return backend.Errorf(op, backend.NoDirection, backend.NoPeer, -1, backend.ErrCommNull, "the communicator has no ranks")
}

func (nullBackend) Rank() int { return -1 }
func (nullBackend) Size() int { return 0 }
func (nullBackend) Send(context.Context, []byte, int, int) error {
	return nullErr("Send")
}
func (nullBackend) Recv(context.Context, []byte, int, int) (backend.Status, error) {
	return backend.Status{}, nullErr("Recv")
}
func (nullBackend) RecvAlloc(context.Context, int, int) ([]byte, backend.Status, error) {
	return nil, backend.Status{}, nullErr("Recv")
}
func (nullBackend) Isend([]byte, int, int) (backend.Request, error) {
	return nil, nullErr("Isend")
}
func (nullBackend) Irecv([]byte, int, int) (backend.Request, error) {
	return nil, nullErr("Irecv")
}
func (nullBackend) Probe(context.Context, int, int) (backend.Status, error) {
	return backend.Status{}, nullErr("Probe")
}
func (nullBackend) Iprobe(int, int) (backend.Status, bool, error) {
	return backend.Status{}, false, nullErr("Iprobe")
}
func (nullBackend) Split(context.Context, int, int) (backend.Backend, error) {
	return nil, nullErr("Split")
}
func (nullBackend) Dup(context.Context) (backend.Backend, error) { return nil, nullErr("Dup") }

// Collective is the null communicator itself: collectives on it fail like everything else.
func (nullBackend) Collective() backend.Backend { return nullBackend{} }
func (nullBackend) Native() backend.Native      { return nil }
func (nullBackend) Free() error                 { return nullErr("Free") }
