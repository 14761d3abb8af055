// Package commlink lets gompi's own packages reach what a *comm.Comm wraps, which the public API
// does not show: the backend under it (transports and tests build communicators on one), its
// native collectives (OpenMPI's) and the shadow communicator that collective algorithms send
// on. Package comm fills it in when it is initialized; nothing else sets it.
package commlink

import "github.com/gompi/gompi/internal/backend"

// Funcs are what package comm provides.
type Funcs struct {
	New     func(backend.Backend) any   // a *comm.Comm over a backend
	Backend func(c any) backend.Backend // the backend under a *comm.Comm
	Shadow  func(c any) backend.Backend // its collective context, made once per communicator
	Native  func(c any) backend.Native  // its backend's native collectives, or nil
}

var funcs Funcs

// Register is called once, by package comm.
func Register(f Funcs) { funcs = f }

// New returns a communicator of type C (*comm.Comm) over b.
func New[C any](b backend.Backend) C { return funcs.New(b).(C) }

// Backend returns the backend under the communicator c.
func Backend(c any) backend.Backend { return funcs.Backend(c) }

// Shadow returns the backend of c's collective context: the same ranks with a matching context
// of their own, so collective traffic never matches the program's receives on c. It is made on
// first use and kept with c.
func Shadow(c any) backend.Backend { return funcs.Shadow(c) }

// Native returns the native collectives of c's backend, or nil.
func Native(c any) backend.Native { return funcs.Native(c) }
