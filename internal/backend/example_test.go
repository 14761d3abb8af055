package backend_test

import (
	"errors"
	"fmt"

	"github.com/gompi/gompi/internal/backend"
)

// Errors name the operation, ranks, tag and sizes, and wrap a sentinel for errors.Is.
func ExampleError() {
	err := error(&backend.Error{Op: "Recv", Dir: backend.FromPeer, Peer: 3, Tag: 7, Size: 4096, Limit: 1024, Err: backend.ErrTruncated})
	fmt.Println(err)
	fmt.Println(errors.Is(err, backend.ErrTruncated))
	// Output:
	// comm: Recv from rank 3, tag 7: 4096-byte message does not fit a 1024-byte buffer (message truncated)
	// true
}
