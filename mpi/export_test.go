//go:build mpi

package mpi

import "github.com/gompi/gompi/internal/backend"

// HoldEngine stops the progress engine from testing requests, so that a test can let MPI
// complete one (with an error, say) before the engine sees it. The returned function resumes
// the engine.
func HoldEngine() (resume func()) {
	theEngine.mu.Lock()
	theEngine.held = true
	theEngine.mu.Unlock()
	return func() {
		theEngine.mu.Lock()
		theEngine.held = false
		theEngine.mu.Unlock()
		theEngine.poke()
	}
}

// FreeDeferred reports whether b, a communicator of this backend, was freed by Free while
// requests of its were pending and still waits for them to call MPI_Comm_free.
func FreeDeferred(b backend.Backend) bool {
	c := b.(*communicator)
	theEngine.mu.Lock()
	defer theEngine.mu.Unlock()
	return c.freeLater
}
