//go:build mpi

package mpi

import (
	"fmt"

	"github.com/gompi/gompi/internal/backend"
)

// mpiError is an error code returned by OpenMPI, with its text from MPI_Error_string. It is the
// cause wrapped (with a sentinel) by the *backend.Error that operations return.
type mpiError struct {
	code  int
	class int
	text  string
}

func (e *mpiError) Error() string { return fmt.Sprintf("MPI error %d: %s", e.code, e.text) }

// sentinel maps MPI error classes onto the sentinels of package backend. Classes with no
// counterpart map to nil: the error then wraps only the MPI error.
func sentinel(class int) error {
	switch class {
	case mpiErrTruncate:
		return backend.ErrTruncated
	case mpiErrRank:
		return backend.ErrInvalidRank
	case mpiErrTag:
		return backend.ErrInvalidTag
	case mpiErrRoot:
		return backend.ErrInvalidRoot
	case mpiErrCount, mpiErrArg, mpiErrBuffer:
		return backend.ErrInvalidArgument
	case mpiErrType, mpiErrOp:
		return backend.ErrUnsupported
	case mpiErrComm:
		return backend.ErrClosed
	}
	return nil
}

// wrapped joins a sentinel and the MPI cause so that errors.Is finds both.
type wrapped struct {
	sentinel error
	cause    *mpiError
}

func (w *wrapped) Error() string   { return w.cause.Error() }
func (w *wrapped) Unwrap() []error { return []error{w.sentinel, w.cause} }

// codeError turns a failed MPI return code into an error of operation op with peer and tag
// (-1 when none applies). It returns nil for MPI_SUCCESS.
func codeError(rc int, op string, dir backend.Direction, peer, tag int) error {
	if rc == mpiSuccess {
		return nil
	}
	class := cErrorClass(rc)
	cause := &mpiError{code: rc, class: class, text: cErrorString(rc)}
	var err error = cause
	if s := sentinel(class); s != nil {
		err = &wrapped{sentinel: s, cause: cause}
	}
	return &backend.Error{Op: op, Dir: dir, Peer: peer, Tag: tag, Size: -1, Limit: -1, Err: err}
}

// truncated is the error of a receive whose message (size bytes) did not fit its buffer.
func truncated(op string, source, tag, size, limit int) error {
	if size <= limit {
		// OpenMPI reports the message's full length; should it ever not, say what is known.
		return backend.Errorf(op, backend.FromPeer, source, tag, backend.ErrTruncated, "message does not fit a %d-byte buffer", limit)
	}
	return &backend.Error{Op: op, Dir: backend.FromPeer, Peer: source, Tag: tag, Size: size, Limit: limit, Err: backend.ErrTruncated}
}

// closedError reports an operation on a freed communicator or a finalized world.
func closedError(op string, dir backend.Direction, peer, tag int) error {
	return backend.Errorf(op, dir, peer, tag, backend.ErrClosed, "communicator freed or MPI finalized")
}

// ctxError reports an operation withdrawn because its context ended.
func ctxError(op string, dir backend.Direction, peer, tag int, cause error) error {
	return backend.Errorf(op, dir, peer, tag, cause, "withdrawn before it matched")
}
