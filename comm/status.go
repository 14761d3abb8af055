package comm

import (
	"unsafe"

	"github.com/gompi/gompi/internal/backend"
)

// AnySource as the source of a receive or probe matches a message from any rank (MPI_ANY_SOURCE).
const AnySource = backend.AnySource

// AnyTag as the tag of a receive or probe matches a message with any tag (MPI_ANY_TAG).
const AnyTag = backend.AnyTag

// MaxTag is the largest valid tag; tags run from 0 to MaxTag. (Collective operations use their
// own matching context, so every tag in this range is free for the program.)
const MaxTag = backend.MaxTag

// Undefined as the color given to Split leaves the calling rank out (MPI_UNDEFINED).
const Undefined = backend.Undefined

// Status describes a received or probed message: its source rank, its tag, and its length in
// bytes. Count converts the length to a number of elements.
type Status = backend.Status

// Count returns the number of elements of type T in the message st describes (MPI_Get_count),
// and -1 if its length is not a whole number of elements.
func Count[T Elem](st Status) int {
	var zero T
	sz := int(unsafe.Sizeof(zero))
	if st.Bytes%sz != 0 {
		return -1
	}
	return st.Bytes / sz
}
