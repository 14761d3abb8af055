package collectives

import (
	"github.com/gompi/gompi/internal/backend"
)

// failedNative is a backend.Native whose every operation fails with err: what run.native returns
// after a local argument error, so that the native branch of each collective returns the error.
type failedNative struct{ err error }

func (f failedNative) Barrier() error                                             { return f.err }
func (f failedNative) Bcast([]byte, int) error                                    { return f.err }
func (f failedNative) Reduce([]byte, []byte, backend.Type, backend.Op, int) error { return f.err }
func (f failedNative) Allreduce([]byte, []byte, backend.Type, backend.Op) error   { return f.err }
func (f failedNative) Gather([]byte, []byte, int) error                           { return f.err }
func (f failedNative) Gatherv([]byte, []byte, []int, []int, int) error            { return f.err }
func (f failedNative) Scatter([]byte, []byte, int) error                          { return f.err }
func (f failedNative) Scatterv([]byte, []int, []int, []byte, int) error           { return f.err }
func (f failedNative) Allgather([]byte, []byte) error                             { return f.err }
func (f failedNative) Allgatherv([]byte, []byte, []int, []int) error              { return f.err }
func (f failedNative) Alltoall([]byte, []byte) error                              { return f.err }
func (f failedNative) Alltoallv([]byte, []int, []int, []byte, []int, []int) error { return f.err }
func (f failedNative) ReduceScatter([]byte, []byte, []int, backend.Type, backend.Op) error {
	return f.err
}
func (f failedNative) Scan([]byte, []byte, backend.Type, backend.Op) error   { return f.err }
func (f failedNative) Exscan([]byte, []byte, backend.Type, backend.Op) error { return f.err }

// callNative makes one native collective, f, which reads in and writes out (either may be nil;
// Bcast's buffer is out, read at the root). It reports handled false when the backend cannot
// do the call (ErrUnsupported), and the caller then runs gompi's algorithm.
//
// A native collective (OpenMPI's, blocking in C) cannot be interrupted, and every rank must make
// it, in the same order as its other collectives on the communicator. So a ctx that can end does
// not bound the call, only the wait for it: the call runs in a goroutine of its own, on private
// copies of in and out, after the native calls this rank issued before it on the communicator;
// if ctx ends first, callNative returns an error wrapping ctx.Err() at once and the call goes on
// in the background, where it takes part in the collective with the other ranks and its result
// is dropped. The caller's buffers are free as soon as callNative returns. A ctx that cannot end
// (context.Background()) costs nothing of this: the call runs on the caller's buffers in the
// caller's goroutine, after any such background call on the communicator has finished.
//
// With the collective checker on, f is preceded in the same unit by the call's check
// (nativeChecked), so that the two go on in the background together.
//
// The native backend decides ErrUnsupported before it moves anything; should ctx end before
// the background call gets that far (it waits for earlier calls first), the caller returns
// without running gompi's algorithm, which the other ranks then wait for until their own
// contexts end. That needs a v-collective block beyond 2 GiB on OpenMPI, its only unsupported
// case, as well as an abandoned native call before it.
func (r *run) callNative(in, out []byte, f func(in, out []byte) error) (err error, handled bool) {
	if r.pending != nil {
		f = r.nativeChecked(f)
	}
	if r.done == nil && nativeInFlight.Load() == 0 {
		err = f(in, out)
		return err, !nativeUnsupported(err)
	}
	st := stateOf(r.c, true)
	prev, mine := st.enqueue()
	if r.done == nil {
		if prev != nil {
			<-prev
		}
		err = f(in, out)
		st.finish(mine)
		return err, !nativeUnsupported(err)
	}
	inCopy, outCopy := clone(in), clone(out)
	result := make(chan error, 1)
	go func() {
		if prev != nil {
			<-prev
		}
		result <- f(inCopy, outCopy)
		st.finish(mine)
	}()
	select {
	case err = <-result:
	case <-r.done:
		select {
		case err = <-result: // finished meanwhile
		default:
			return errorf(r.name, r.ctx.Err(), "rank %d: context ended before the native collective finished (it goes on in the background, its result dropped)", r.rank), true
		}
	}
	if nativeUnsupported(err) {
		return err, false
	}
	if err == nil {
		copy(out, outCopy)
	}
	return err, true
}

// clone returns a copy of b (nil for nil).
func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append(make([]byte, 0, len(b)), b...)
}
