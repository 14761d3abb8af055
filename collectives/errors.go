package collectives

import (
	"errors"

	"github.com/gompi/gompi/comm"
)

// ErrCollectiveAborted means that collectives on a communicator can no longer run on this rank:
// an earlier collective on it failed here (its context ended, a peer failed, an argument was
// wrong, ...), or a peer whose collective failed said so. A failed collective may leave
// messages of its schedule in flight, which a later collective would take for its own, so the
// communicator's collectives stay broken: every later collective on it fails at once with an
// error wrapping ErrCollectiveAborted and, when this rank saw the first failure itself, that
// failure's cause too. Point-to-point on the communicator keeps working (its messages never
// match collective ones). Free it, and run further collectives on a new communicator made with
// Dup or Split, which every rank must call: docs/collectives.md, "After a failed collective".
var ErrCollectiveAborted = errors.New("collectives aborted on this communicator")

// ErrMismatch means that the ranks of a communicator passed disagreeing arguments to one
// collective call: different collectives, roots, element types, counts or operations, as the
// collective checker (GOMPI_DEBUG=check or gompirun --check-collectives) found before the call
// moved any data. Every rank returns the same error, which also wraps the comm sentinel of
// the field (comm.ErrInvalidRoot for a root, comm.ErrSizeMismatch for counts,
// comm.ErrInvalidArgument otherwise), and the communicator stays usable.
var ErrMismatch = errors.New("collective arguments differ between ranks")

// mismatchError is the error of a mismatch: the same line on every rank.
type mismatchError struct {
	msg      string
	sentinel error // the comm sentinel of the field that differs
}

func (e *mismatchError) Error() string   { return e.msg }
func (e *mismatchError) Unwrap() []error { return []error{ErrMismatch, e.sentinel} }

// errAborted is wrapped by errors about a peer that gave up for a reason other than the
// argument errors, peer failures and contexts, which are passed on as their own sentinels.
var errAborted = errors.New("peer abandoned the collective")

// brokenError is ErrCollectiveAborted together with the failure that broke the communicator,
// so that errors.Is finds both (the cause of a context that ended, say).
type brokenError struct{ cause error }

func (e brokenError) Error() string {
	return ErrCollectiveAborted.Error() + " after: " + e.cause.Error()
}
func (e brokenError) Unwrap() []error { return []error{ErrCollectiveAborted, e.cause} }

// abort codes, one per sentinel a receiver re-wraps, sent in the low bits of an abort
// message's tag.
const (
	abortOther = iota + 1
	abortSizeMismatch
	abortInvalidArgument
	abortInvalidRoot
	abortPeerFailed
	abortCanceled // the sender's context ended
	abortRevoked  // the sender's collectives on this communicator are broken
)

var abortSentinels = map[int]error{
	abortSizeMismatch:    comm.ErrSizeMismatch,
	abortInvalidArgument: comm.ErrInvalidArgument,
	abortInvalidRoot:     comm.ErrInvalidRoot,
	abortPeerFailed:      comm.ErrPeerFailed, // a rank further along the schedule died
	abortCanceled:        comm.ErrCanceled,
	abortRevoked:         ErrCollectiveAborted,
}
