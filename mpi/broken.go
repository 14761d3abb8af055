//go:build mpi

package mpi

import (
	"context"

	"github.com/gompi/gompi/internal/backend"
)

// brokenBackend stands in for a shadow communicator that could not be made: every operation
// fails with the error that prevented it, so collective algorithms report it instead of
// crashing on a nil backend.
type brokenBackend struct {
	c   *communicator
	err error
}

func (b brokenBackend) Rank() int { return b.c.rank }
func (b brokenBackend) Size() int { return b.c.size }
func (b brokenBackend) Send(context.Context, []byte, int, int) error {
	return b.err
}
func (b brokenBackend) Recv(context.Context, []byte, int, int) (backend.Status, error) {
	return backend.Status{}, b.err
}
func (b brokenBackend) RecvAlloc(context.Context, int, int) ([]byte, backend.Status, error) {
	return nil, backend.Status{}, b.err
}
func (b brokenBackend) Isend([]byte, int, int) (backend.Request, error) { return nil, b.err }
func (b brokenBackend) Irecv([]byte, int, int) (backend.Request, error) { return nil, b.err }
func (b brokenBackend) Probe(context.Context, int, int) (backend.Status, error) {
	return backend.Status{}, b.err
}
func (b brokenBackend) Iprobe(int, int) (backend.Status, bool, error) {
	return backend.Status{}, false, b.err
}
func (b brokenBackend) Split(context.Context, int, int) (backend.Backend, error) {
	return nil, b.err
}
func (b brokenBackend) Dup(context.Context) (backend.Backend, error) { return nil, b.err }
func (b brokenBackend) Collective() backend.Backend                  { return b }
func (b brokenBackend) Native() backend.Native                       { return nil }
func (b brokenBackend) Free() error                                  { return nil }
