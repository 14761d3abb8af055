package comm

import (
	"errors"

	"github.com/gompi/gompi/internal/backend"
)

// Errors returned by communicator operations. Test for them with errors.Is; the error itself is
// usually an *Error that says which operation, ranks, tag and sizes were involved.
var (
	ErrTruncated       = backend.ErrTruncated       // message longer than the receive buffer
	ErrInvalidRank     = backend.ErrInvalidRank     // rank outside the communicator
	ErrInvalidTag      = backend.ErrInvalidTag      // tag outside 0..MaxTag
	ErrInvalidRoot     = backend.ErrInvalidRoot     // root of a collective outside the communicator
	ErrInvalidArgument = backend.ErrInvalidArgument // another bad argument
	ErrSizeMismatch    = backend.ErrSizeMismatch    // buffer sizes that do not fit together
	ErrPeerFailed      = backend.ErrPeerFailed      // a rank the call depends on died or left
	ErrClosed          = backend.ErrClosed          // communicator freed or world finalized
	ErrUnsupported     = backend.ErrUnsupported     // operation the backend cannot do
	ErrCanceled        = backend.ErrCanceled        // the sender withdrew a matched message
	ErrCommNull        = backend.ErrCommNull        // the null communicator (Split with Undefined)
)

// ErrLauncher is wrapped by Init's error when another launcher (srun without PMI, OpenMPI's
// mpirun in a binary without -tags mpi, ...) started the process as one of several and gompi
// cannot join that job: Init fails rather than run the program as that many one-rank worlds.
var ErrLauncher = errors.New("comm: started by a launcher gompi cannot join")

// Error describes a failed operation: the operation, the other rank, the tag and the sizes
// involved, wrapping one of the sentinel errors above.
type Error = backend.Error

// Origin is where a peer failure began (Error.Origin): the world rank that went first and
// whether it finalized on purpose or died.
type Origin = backend.Origin
