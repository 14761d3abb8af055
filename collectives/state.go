package collectives

import (
	"runtime"
	"sync"
	"sync/atomic"
	"weak"

	"github.com/gompi/gompi/comm"
)

// What the package keeps about a communicator between calls: whether its collectives are
// broken on this rank (after a failed collective, see ErrCollectiveAborted), the native
// collectives still running on it in the background (see callNative), and with the checker on
// the number of its collective calls (check.go). Most communicators never
// need either, so the state is made on first need and looked up only while some exists;
// package comm, whose Comm would be the natural home, is left alone.
//
// The states are keyed by weak pointers: an entry goes when its communicator is collected.

// commState is the state of one communicator. mu guards every field; it is never held while
// waiting or calling into a backend.
type commState struct {
	mu     sync.Mutex
	broken error // the first failure of a collective on this rank, nil while collectives work

	// Native calls in flight, each waiting for the one before it: tail is closed when the
	// last one issued has finished, nil when none is in flight.
	tail chan struct{}
	// shadowMade: package collectives has made (or reached) the communicator's shadow, so
	// that gompi's algorithms need not queue for it (see run.shadow).
	shadowMade bool
	// seq counts the collective calls checked on the communicator (GOMPI_DEBUG=check).
	seq uint64
}

var (
	statesMu   sync.Mutex
	states     map[weak.Pointer[comm.Comm]]*commState
	haveStates atomic.Bool // states is not empty: lookups are needed
	// nativeInFlight counts native calls issued through callNative's queue and not finished,
	// on every communicator; while it is 0, plain native calls skip the queue.
	nativeInFlight atomic.Int64
)

// stateOf returns c's state, making it if create is set; without create it returns nil for a
// communicator that has none.
func stateOf(c *comm.Comm, create bool) *commState {
	if !create && !haveStates.Load() {
		return nil
	}
	key := weak.Make(c)
	statesMu.Lock()
	defer statesMu.Unlock()
	st := states[key]
	if st == nil && create {
		if states == nil {
			states = map[weak.Pointer[comm.Comm]]*commState{}
		}
		st = &commState{}
		states[key] = st
		haveStates.Store(true)
		runtime.AddCleanup(c, func(k weak.Pointer[comm.Comm]) {
			statesMu.Lock()
			delete(states, k)
			haveStates.Store(len(states) > 0)
			statesMu.Unlock()
		}, key)
	}
	return st
}

// brokenCause returns the failure that broke c's collectives on this rank, or nil.
func brokenCause(c *comm.Comm) error {
	st := stateOf(c, false)
	if st == nil {
		return nil
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.broken
}

// markBroken records err as the failure that broke c's collectives, unless one is recorded.
func markBroken(c *comm.Comm, err error) {
	st := stateOf(c, true)
	st.mu.Lock()
	if st.broken == nil {
		st.broken = err
	}
	st.mu.Unlock()
}

// enqueue registers a native call: it returns the channel closed when the call issued before
// it has finished (nil if none is in flight) and the channel that finish closes for this one.
func (st *commState) enqueue() (prev, mine chan struct{}) {
	mine = make(chan struct{})
	st.mu.Lock()
	prev, st.tail = st.tail, mine
	st.mu.Unlock()
	nativeInFlight.Add(1)
	return prev, mine
}

// finish ends the native call that enqueue returned mine for.
func (st *commState) finish(mine chan struct{}) {
	st.mu.Lock()
	if st.tail == mine {
		st.tail = nil
	}
	st.mu.Unlock()
	nativeInFlight.Add(-1)
	close(mine)
}
