//go:build mpi

package mpi

import (
	"context"
	"runtime"
	"sync"
	"time"

	"github.com/gompi/gompi/internal/backend"
)

// request is a pending point-to-point operation.
//
// Between start and completion it owns its buffers: they are pinned (runtime.Pinner) so that the
// garbage collector neither frees nor moves them while OpenMPI reads or writes them. The handle
// belongs to the progress engine once registered; no other goroutine touches it.
// A request is safe for concurrent use: Wait, Test and Done may be called from any goroutines.
type request struct {
	op        string // operation name for errors: "Isend", "Recv", "Allreduce", ...
	peer, tag int    // for errors; -1 when none applies
	recv      bool   // a receive: completion yields a Status
	limit     int    // receive buffer length in bytes, for truncation errors
	cancelOK  bool   // the operation may be withdrawn (MPI_Cancel) when a context ends
	owner     *communicator

	pin runtime.Pinner

	// Set by the engine, under engine.mu, while the request is pending.
	h         requestHandle
	idx       int   // position in engine.reqs
	cancelErr error // why a cancel was asked (context, ErrClosed); nil if none

	done chan struct{} // closed once st and err are final
	st   backend.Status
	err  error
}

// newRequest makes a request and pins bufs for the time the operation runs.
func newRequest(op string, peer, tag int, owner *communicator, bufs ...[]byte) *request {
	r := &request{op: op, peer: peer, tag: tag, owner: owner, done: make(chan struct{})}
	for _, b := range bufs {
		if len(b) > 0 {
			r.pin.Pin(&b[0])
		}
	}
	return r
}

// release unpins the buffers; called once at completion.
func (r *request) release() { r.pin.Unpin() }

// finish records the outcome of a completed MPI operation (its status and the error code MPI
// reported for it) and releases the request. Called exactly once.
func (r *request) finish(st *cStatus, rc int) {
	r.st, r.err = r.outcome(st, rc)
	r.release()
	close(r.done)
}

// fail completes a request that never reached MPI or that was abandoned (at finalization).
func (r *request) fail(err error) {
	r.err = err
	r.release()
	close(r.done)
}

func (r *request) outcome(st *cStatus, rc int) (backend.Status, error) {
	if rc != mpiSuccess && rc != mpiErrTruncate && cErrorClass(rc) != mpiErrTruncate {
		return backend.Status{}, codeError(rc, r.op, r.dir(), r.peer, r.tag)
	}
	source, tag, n, cancelled, src := statusInfo(st)
	if cancelled {
		if r.cancelErr != nil {
			return backend.Status{}, r.cancelErr
		}
		return backend.Status{}, backend.Errorf(r.op, r.dir(), r.peer, r.tag, backend.ErrClosed, "cancelled")
	}
	if !r.recv {
		return backend.Status{}, codeError(rc, r.op, r.dir(), r.peer, r.tag)
	}
	if src != mpiSuccess {
		return backend.Status{}, codeError(src, r.op, r.dir(), r.peer, r.tag)
	}
	s := backend.Status{Source: source, Tag: tag, Bytes: n}
	if rc != mpiSuccess {
		return s, truncated(r.op, source, tag, n, r.limit)
	}
	return s, nil
}

// Wait blocks until the operation completes, or ctx ends and the operation could be withdrawn.
//
// When ctx ends first, Wait asks MPI to cancel the operation and then waits for the outcome:
// a receive that had not matched is withdrawn and Wait returns an error wrapping ctx.Err(); one
// that had matched finishes normally. OpenMPI never withdraws a send (MPI 4.1 §3.8.4 deprecates
// cancelling sends, and OpenMPI's ob1 ignores it), so a send always completes before Wait returns:
// its buffer belongs to MPI until then.
func (r *request) Wait(ctx context.Context) (backend.Status, error) {
	select {
	case <-r.done:
		return r.st, r.err
	default:
	}
	select {
	case <-r.done:
	case <-ctx.Done():
		if r.cancelOK {
			theEngine.cancel(r, ctxError(r.op, r.dir(), r.peer, r.tag, ctx.Err()))
		}
		<-r.done
	}
	return r.st, r.err
}

// Test reports whether the operation has completed, without blocking. It wakes the progress
// engine, so a caller polling Test drives progress at its own pace.
func (r *request) Test() (backend.Status, bool, error) {
	select {
	case <-r.done:
		return r.st, true, r.err
	default:
		theEngine.poke()
		return backend.Status{}, false, nil
	}
}

// Done returns a channel closed when the operation completes.
func (r *request) Done() <-chan struct{} { return r.done }

// Progress: one goroutine tests every pending request with MPI_Testsome, so that no goroutine
// ever sits inside MPI_Wait (which would hold an OS thread and could not be interrupted by a
// context). While requests are pending it polls with a backoff: a few rounds of
// runtime.Gosched, then sleeps doubling from minSleep to maxSleep; a new request, a Test call or
// a completion resets the backoff. With nothing pending it blocks on a channel and costs nothing.
const (
	spinRounds = 16
	minSleep   = 4 * time.Microsecond
	maxSleep   = time.Millisecond
	// finalizeGrace bounds how long Finalize waits for cancelled requests to complete.
	finalizeGrace = 2 * time.Second
)

// engine is the single progress engine of the process.
type engine struct {
	mu      sync.Mutex // guards every field below and every MPI call on a registered handle
	reqs    []*request
	handles []requestHandle // handles[i] belongs to reqs[i]; MPI_Testsome takes this array
	running bool            // the progress goroutine exists
	stopped bool            // finalized: no new requests
	held    bool            // tests only (export_test.go): progress tests nothing
	// scratch for MPI_Testsome, grown with handles
	idx []cInt
	sts []cStatus

	wake chan struct{} // buffered(1): new work or a Test call
}

var theEngine = &engine{wake: make(chan struct{}, 1)}

func (e *engine) poke() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// add hands a started operation to the engine. If the engine has stopped (MPI finalized), the
// request is freed and fails with ErrClosed.
func (e *engine) add(r *request, h requestHandle) {
	e.mu.Lock()
	if e.stopped {
		e.mu.Unlock()
		_ = cRequestFree(&h)
		r.fail(closedError(r.op, r.dir(), r.peer, r.tag))
		return
	}
	r.h = h
	r.idx = len(e.reqs)
	r.owner.pending++
	e.reqs = append(e.reqs, r)
	e.handles = append(e.handles, h)
	if !e.running {
		e.running = true
		go e.loop()
	}
	e.mu.Unlock()
	e.poke()
}

// cancel asks MPI to withdraw r, recording why. It does nothing if r has completed.
func (e *engine) cancel(r *request, why error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if r.idx < 0 || r.idx >= len(e.reqs) || e.reqs[r.idx] != r {
		return
	}
	if r.cancelErr == nil {
		r.cancelErr = why
	}
	_ = cCancel(&e.handles[r.idx])
	e.poke()
}

// release frees communicator c for Free: it withdraws c's cancellable pending requests (their
// waiters get ErrClosed) and calls MPI_Comm_free, at once when c has nothing pending, else
// when its last request completes. MPI lets a communicator be freed with operations pending,
// but OpenMPI (4.1) destroys it when the last of them is freed, and a request that completes
// with an error (a receive that truncates, say) is freed before its communicator's error
// handler runs: OpenMPI then aborts the process from MPI_Testsome, "on a NULL communicator".
// Keeping the handle until the requests are done leaves every error on a live communicator,
// whose MPI_ERRORS_RETURN hands it to the request. release returns MPI_Comm_free's code, or
// success when the free is left to the engine.
func (e *engine) release(c *communicator) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i, r := range e.reqs {
		if r.owner == c && r.cancelOK && r.cancelErr == nil {
			r.cancelErr = closedError(r.op, r.dir(), r.peer, r.tag)
			_ = cCancel(&e.handles[i])
		}
	}
	if c.pending > 0 {
		c.freeLater = true
		e.poke()
		return mpiSuccess
	}
	return cCommFree(c.h)
}

// settle accounts for r leaving the engine, and frees its communicator if Free left that to
// the engine and r was its last request. Caller holds e.mu.
func (e *engine) settle(r *request) {
	c := r.owner
	c.pending--
	if c.pending == 0 && c.freeLater {
		c.freeLater = false
		_ = cCommFree(c.h)
	}
}

// loop is the progress goroutine. It exits when nothing is pending; add restarts it.
func (e *engine) loop() {
	rounds := 0
	sleep := minSleep
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		n := e.progress()
		e.mu.Lock()
		if len(e.reqs) == 0 {
			e.running = false
			e.mu.Unlock()
			return
		}
		e.mu.Unlock()
		if n > 0 {
			rounds, sleep = 0, minSleep
			continue
		}
		if rounds < spinRounds {
			rounds++
			runtime.Gosched()
			continue
		}
		timer.Reset(sleep)
		select {
		case <-e.wake:
			rounds, sleep = 0, minSleep
			if !timer.Stop() {
				<-timer.C
			}
		case <-timer.C:
			sleep = min(2*sleep, maxSleep)
		}
	}
}

// progress tests every pending request once and completes those that finished. It returns
// how many completed.
func (e *engine) progress() int {
	e.mu.Lock()
	if len(e.reqs) == 0 || e.held {
		e.mu.Unlock()
		return 0
	}
	if cap(e.idx) < len(e.handles) {
		e.idx = make([]cInt, len(e.handles))
		e.sts = make([]cStatus, len(e.handles))
	}
	idx, sts := e.idx[:len(e.handles)], e.sts[:len(e.handles)]
	n, rc := cTestsome(e.handles, idx, sts)
	type completion struct {
		r  *request
		st cStatus
		rc int
	}
	var done []completion
	switch {
	case rc == mpiSuccess || rc == mpiErrInStatus:
		for k := 0; k < n; k++ {
			i := int(idx[k])
			code := mpiSuccess
			if rc == mpiErrInStatus {
				code = statusError(&sts[k])
			}
			done = append(done, completion{r: e.reqs[i], st: sts[k], rc: code})
			e.reqs[i].idx = -1
			e.reqs[i] = nil
			e.settle(done[len(done)-1].r)
		}
	default:
		// MPI_Testsome itself failed: fail every pending request with its error rather than
		// poll forever.
		for i, r := range e.reqs {
			h := e.handles[i]
			_ = cRequestFree(&h)
			done = append(done, completion{r: r, rc: rc})
			r.idx = -1
			e.reqs[i] = nil
			e.settle(r)
		}
	}
	e.compact()
	e.mu.Unlock()
	for _, c := range done {
		c.r.finish(&c.st, c.rc)
	}
	return len(done)
}

// compact drops completed (nil) entries, keeping reqs and handles aligned. Caller holds e.mu.
func (e *engine) compact() {
	j := 0
	for i, r := range e.reqs {
		if r == nil {
			continue
		}
		e.reqs[j], e.handles[j] = r, e.handles[i]
		r.idx = j
		j++
	}
	clear(e.reqs[j:])
	e.reqs, e.handles = e.reqs[:j], e.handles[:j]
}

// stop is called by Finalize before MPI_Finalize: it cancels what can be cancelled, gives
// pending operations up to finalizeGrace to complete, then frees the rest (their waiters get
// ErrClosed) and refuses new requests.
func (e *engine) stop() {
	e.mu.Lock()
	e.stopped = true
	for i, r := range e.reqs {
		if r.cancelErr == nil {
			r.cancelErr = closedError(r.op, r.dir(), r.peer, r.tag)
		}
		if r.cancelOK {
			_ = cCancel(&e.handles[i])
		}
	}
	e.mu.Unlock()
	deadline := time.Now().Add(finalizeGrace)
	for time.Now().Before(deadline) {
		e.progress()
		e.mu.Lock()
		n := len(e.reqs)
		e.mu.Unlock()
		if n == 0 {
			return
		}
		time.Sleep(time.Millisecond)
	}
	e.mu.Lock()
	left := e.reqs
	for i, r := range left {
		_ = cRequestFree(&e.handles[i])
		r.idx = -1
		r.owner.pending-- // its communicator, if Free left it to the engine, ends with MPI
	}
	e.reqs, e.handles = nil, nil
	e.mu.Unlock()
	for _, r := range left {
		r.fail(closedError(r.op, r.dir(), r.peer, r.tag))
	}
}

// dir is the direction of r's data, for its errors.
func (r *request) dir() backend.Direction {
	if r.recv {
		return backend.FromPeer
	}
	return backend.ToPeer
}
