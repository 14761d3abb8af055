package comm

import (
	"context"
	"reflect"

	"github.com/gompi/gompi/internal/backend"
)

// Request is a nonblocking operation started by Isend, Irecv or IsendValue.
//
// Until Wait or Test reports completion, the operation owns its buffer: the caller must neither
// read nor modify it. A Request is safe for concurrent use; once complete it stays complete and
// every later Wait or Test reports the same status and error.
type Request struct {
	r backend.Request
}

// Wait blocks until the operation completes and returns its status (for a receive) and error
// (MPI_Wait).
func (r *Request) Wait() (Status, error) { return r.r.Wait(context.Background()) }

// WaitContext is Wait bounded by ctx. When ctx ends before the operation has matched a peer, the
// operation is withdrawn and the error wraps ctx.Err(). A large send whose payload is under way
// in fragments (TCP) stops at its next fragment and is withdrawn the same way (its receiver's
// receive fails with ErrCanceled); any other operation already matched is waited for, which
// takes a bounded time since a failing peer fails it.
func (r *Request) WaitContext(ctx context.Context) (Status, error) { return r.r.Wait(ctx) }

// Test reports whether the operation has completed, and if so its status and error, without
// blocking (MPI_Test).
func (r *Request) Test() (Status, bool, error) { return r.r.Test() }

// Done returns a channel that is closed when the operation completes, for use in select.
func (r *Request) Done() <-chan struct{} { return r.r.Done() }

// WaitAll waits for every request and returns their statuses in order, and the first error
// (MPI_Waitall). Nil requests are skipped.
func WaitAll(reqs ...*Request) ([]Status, error) {
	sts := make([]Status, len(reqs))
	var first error
	for i, r := range reqs {
		if r == nil {
			continue
		}
		st, err := r.Wait()
		sts[i] = st
		if err != nil && first == nil {
			first = err
		}
	}
	return sts, first
}

// WaitAny waits until one of reqs completes and returns its index, status and error (MPI_Waitany).
// Nil requests are skipped; with no non-nil request it returns index -1 at once.
func WaitAny(reqs ...*Request) (int, Status, error) {
	cases := make([]reflect.SelectCase, 0, len(reqs))
	index := make([]int, 0, len(reqs))
	for i, r := range reqs {
		if r == nil {
			continue
		}
		cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(r.Done())})
		index = append(index, i)
	}
	if len(cases) == 0 {
		return -1, Status{}, nil
	}
	chosen, _, _ := reflect.Select(cases)
	i := index[chosen]
	st, err := reqs[i].Wait()
	return i, st, err
}
