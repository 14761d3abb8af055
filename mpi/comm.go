//go:build mpi

package mpi

import (
	"context"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/gompi/gompi/internal/backend"
)

// chunkBytes is the element size of the datatype that describes messages longer than
// math.MaxInt32 bytes (MPI counts are C ints): such a message is sent as one element made of
// n/chunkBytes chunks and a remainder.
const chunkBytes = 1 << 30

// communicator is one MPI communicator as a backend.Backend.
//
// Its shadow (what Collective returns, for gompi's own collective algorithms) is made by
// MPI_Comm_dup the first time Collective is called, not when the communicator is made: a dup is
// collective, and C ranks sharing the job (an MPMD job with C programs) never make it. gompi's
// algorithms call Collective at the start of every collective operation, which every rank calls
// in the same order, so all ranks make the dup at the same point of their sequence of
// collectives on the communicator, as MPI requires.
//
// All methods are safe for concurrent use (MPI is initialized with MPI_THREAD_MULTIPLE).
type communicator struct {
	h          commHandle
	rank, size int
	tagUB      int  // MPI_TAG_UB: OpenMPI's largest tag (2^31-1 with its usual PMLs)
	isShadow   bool // a shadow: Collective returns itself, Free refuses
	world      bool // MPI_COMM_WORLD: freed only by Finalize
	freed      atomic.Bool
	native     *native

	// Guarded by engine.mu: how many of the engine's requests belong to c, and whether Free
	// left MPI_Comm_free to the engine until they are done (see engine.release).
	pending   int
	freeLater bool

	shadowOnce sync.Once
	shadow     backend.Backend // *communicator, or a broken backend when the dup failed
}

// newCommunicator wraps handle h and sets MPI_ERRORS_RETURN on it.
func newCommunicator(h commHandle, isShadow bool) (*communicator, error) {
	if rc := cPrepare(h); rc != mpiSuccess {
		return nil, codeError(rc, "Init", backend.NoDirection, backend.NoPeer, -1)
	}
	rank, size, rc := cCommRankSize(h)
	if rc != mpiSuccess {
		return nil, codeError(rc, "Init", backend.NoDirection, backend.NoPeer, -1)
	}
	ub, rc := cTagUB(h)
	if rc != mpiSuccess {
		return nil, codeError(rc, "Init", backend.NoDirection, backend.NoPeer, -1)
	}
	c := &communicator{h: h, rank: rank, size: size, tagUB: min(ub, backend.MaxTag), isShadow: isShadow}
	c.native = &native{c: c}
	return c, nil
}

// Collective returns the communicator's shadow, making it on the first call (collective: see
// the type's comment). A shadow is its own shadow. Should the dup fail, the returned backend
// fails every operation with that error.
func (c *communicator) Collective() backend.Backend {
	if c.isShadow {
		return c
	}
	c.shadowOnce.Do(func() {
		var err error
		if !c.enter() {
			err = closedError("Collective", backend.NoDirection, backend.NoPeer, -1)
		} else {
			var sh *communicator
			h, rc := cCommDup(c.h)
			err = codeError(rc, "Collective", backend.NoDirection, backend.NoPeer, -1)
			if err == nil {
				if sh, err = newCommunicator(h, true); err != nil {
					_ = cCommFree(h)
				}
			}
			c.leave()
			if err == nil {
				c.shadow = sh
				return
			}
		}
		c.shadow = brokenBackend{c: c, err: err}
	})
	return c.shadow
}

// enter makes MPI calls on c safe until leave: it reports false (and holds nothing) when c
// was freed or MPI finalized.
func (c *communicator) enter() bool {
	life.RLock()
	if life.finalized || c.freed.Load() {
		life.RUnlock()
		return false
	}
	return true
}

func (c *communicator) leave() { life.RUnlock() }

// Rank returns the calling rank's number in the communicator.
func (c *communicator) Rank() int { return c.rank }

// Size returns the number of ranks in the communicator.
func (c *communicator) Size() int { return c.size }

// Native returns the MPI collectives on this communicator.
func (c *communicator) Native() backend.Native { return c.native }

func (c *communicator) checkDest(op string, dest, tag int) error {
	if dest < 0 || dest >= c.size {
		return backend.Errorf(op, backend.NoDirection, backend.NoPeer, tag, backend.ErrInvalidRank, "destination %d outside 0..%d", dest, c.size-1)
	}
	if tag < 0 || tag > c.tagUB {
		return backend.Errorf(op, backend.ToPeer, dest, -1, backend.ErrInvalidTag, "tag %d outside 0..%d", tag, c.tagUB)
	}
	return nil
}

func (c *communicator) checkSource(op string, source, tag int) error {
	if source != backend.AnySource && (source < 0 || source >= c.size) {
		return backend.Errorf(op, backend.NoDirection, backend.NoPeer, -1, backend.ErrInvalidRank, "source %d outside 0..%d (or AnySource)", source, c.size-1)
	}
	if tag != backend.AnyTag && (tag < 0 || tag > c.tagUB) {
		return backend.Errorf(op, backend.FromPeer, source, -1, backend.ErrInvalidTag, "tag %d outside 0..%d (or AnyTag)", tag, c.tagUB)
	}
	return nil
}

func mpiSource(source int) int {
	if source == backend.AnySource {
		return mpiAnySource
	}
	return source
}

func mpiTag(tag int) int {
	if tag == backend.AnyTag {
		return mpiAnyTag
	}
	return tag
}

// bytesType returns the (count, datatype) pair that describes n bytes, and whether the
// datatype must be freed: MPI_BYTE up to math.MaxInt32, else one element of a derived type.
func bytesType(op string, n int) (int, typeHandle, bool, error) {
	if n <= math.MaxInt32 {
		return n, typeByte, false, nil
	}
	t, rc := cBytesType(n, chunkBytes)
	if rc != mpiSuccess {
		return 0, typeByte, false, codeError(rc, op, backend.NoDirection, backend.NoPeer, -1)
	}
	return 1, t, true, nil
}

// startFunc starts one MPI operation on buf (count elements of datatype t).
type startFunc func(buf unsafe.Pointer, count int, t typeHandle) (requestHandle, int)

// start runs an MPI start call for r on buf, then either completes r at once (if MPI_Test says
// it is done, the common case for short sends) or hands it to the progress engine.
func (c *communicator) start(r *request, buf []byte, call startFunc) error {
	count, t, free, err := bytesType(r.op, len(buf))
	if err != nil {
		r.release()
		return err
	}
	if free {
		defer cTypeFree(t)
	}
	return c.launch(r, func() (requestHandle, int) { return call(ptr(buf), count, t) })
}

// launch runs call, which starts r's MPI operation, under c.enter, then either completes r at
// once (when MPI_Test says it is done) or hands it to the progress engine. It is still under
// c.enter when it does so, so that Finalize cannot run between the start and the hand-over.
func (c *communicator) launch(r *request, call func() (requestHandle, int)) error {
	if !c.enter() {
		r.release()
		return closedError(r.op, r.dir(), r.peer, r.tag)
	}
	defer c.leave()
	h, rc := call()
	if rc != mpiSuccess {
		r.release()
		return codeError(rc, r.op, r.dir(), r.peer, r.tag)
	}
	if done, st, trc := cTest(&h); done || trc != mpiSuccess {
		r.finish(&st, trc)
		return nil
	}
	theEngine.add(r, h)
	return nil
}

func (c *communicator) isend(op string, buf []byte, dest, tag int) (*request, error) {
	if err := c.checkDest(op, dest, tag); err != nil {
		return nil, err
	}
	r := newRequest(op, dest, tag, c, buf)
	r.cancelOK = true
	err := c.start(r, buf, func(p unsafe.Pointer, n int, t typeHandle) (requestHandle, int) {
		return cIsend(p, n, t, dest, tag, c.h)
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

func (c *communicator) irecv(op string, buf []byte, source, tag int) (*request, error) {
	if err := c.checkSource(op, source, tag); err != nil {
		return nil, err
	}
	r := newRequest(op, source, tag, c, buf)
	r.recv, r.limit, r.cancelOK = true, len(buf), true
	err := c.start(r, buf, func(p unsafe.Pointer, n int, t typeHandle) (requestHandle, int) {
		return cIrecv(p, n, t, mpiSource(source), mpiTag(tag), c.h)
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// Send sends buf to rank dest (MPI_Isend, then a parked wait). OpenMPI cannot withdraw a send,
// so when ctx ends Send still returns only once MPI is done with buf.
func (c *communicator) Send(ctx context.Context, buf []byte, dest, tag int) error {
	if err := ctx.Err(); err != nil {
		return ctxError("Send", backend.ToPeer, dest, tag, err)
	}
	if dest == c.rank && len(buf) > 0 {
		// MPI lets a send to oneself wait for the matching receive, which the same goroutine
		// would post only after Send returns; gompi's contract buffers it instead: the message
		// leaves from a copy, and the request lives on in the progress engine. (Should it fail,
		// which would take a broken MPI, the receive fails too.)
		_, err := c.isend("Send", bytesClone(buf), dest, tag)
		return err
	}
	r, err := c.isend("Send", buf, dest, tag)
	if err != nil {
		return err
	}
	_, err = r.Wait(ctx)
	return err
}

func bytesClone(b []byte) []byte { return append(make([]byte, 0, len(b)), b...) }

// Recv receives into buf (MPI_Irecv, then a parked wait; MPI_Cancel when ctx ends first).
func (c *communicator) Recv(ctx context.Context, buf []byte, source, tag int) (backend.Status, error) {
	if err := ctx.Err(); err != nil {
		return backend.Status{}, ctxError("Recv", backend.FromPeer, source, tag, err)
	}
	r, err := c.irecv("Recv", buf, source, tag)
	if err != nil {
		return backend.Status{}, err
	}
	return r.Wait(ctx)
}

// Isend starts a send; the returned request keeps buf pinned until it completes.
func (c *communicator) Isend(buf []byte, dest, tag int) (backend.Request, error) {
	r, err := c.isend("Isend", buf, dest, tag)
	if err != nil {
		return nil, err
	}
	return r, nil
}

// Irecv starts a receive; the returned request keeps buf pinned until it completes.
func (c *communicator) Irecv(buf []byte, source, tag int) (backend.Request, error) {
	r, err := c.irecv("Irecv", buf, source, tag)
	if err != nil {
		return nil, err
	}
	return r, nil
}

// poll calls try until it reports done, parking between calls with a backoff (a few
// runtime.Gosched rounds, then sleeps from minSleep doubling to maxSleep), and gives up with an
// error wrapping ctx.Err() when ctx ends.
func poll(ctx context.Context, op string, peer, tag int, try func() (bool, error)) error {
	rounds, sleep := 0, minSleep
	var timer *time.Timer
	for {
		done, err := try()
		if done || err != nil {
			return err
		}
		if rounds < spinRounds {
			rounds++
			if err := ctx.Err(); err != nil {
				return ctxError(op, backend.FromPeer, peer, tag, err)
			}
			runtime.Gosched()
			continue
		}
		if timer == nil {
			timer = time.NewTimer(sleep)
			defer timer.Stop()
		} else {
			timer.Reset(sleep)
		}
		select {
		case <-ctx.Done():
			return ctxError(op, backend.FromPeer, peer, tag, ctx.Err())
		case <-timer.C:
		}
		sleep = min(2*sleep, maxSleep)
	}
}

// iprobe runs one MPI_Iprobe.
func (c *communicator) iprobe(op string, source, tag int) (backend.Status, bool, error) {
	if !c.enter() {
		return backend.Status{}, false, closedError(op, backend.FromPeer, source, tag)
	}
	found, st, rc := cIprobe(mpiSource(source), mpiTag(tag), c.h)
	c.leave()
	if rc != mpiSuccess {
		return backend.Status{}, false, codeError(rc, op, backend.FromPeer, source, tag)
	}
	if !found {
		return backend.Status{}, false, nil
	}
	src, tg, n, _, rc := statusInfo(&st)
	if rc != mpiSuccess {
		return backend.Status{}, false, codeError(rc, op, backend.FromPeer, source, tag)
	}
	return backend.Status{Source: src, Tag: tg, Bytes: n}, true, nil
}

// Iprobe reports whether a matching message can be received now (MPI_Iprobe).
func (c *communicator) Iprobe(source, tag int) (backend.Status, bool, error) {
	if err := c.checkSource("Iprobe", source, tag); err != nil {
		return backend.Status{}, false, err
	}
	return c.iprobe("Iprobe", source, tag)
}

// Probe waits for a matching message (MPI_Iprobe in a parked loop, so ctx can end it).
func (c *communicator) Probe(ctx context.Context, source, tag int) (backend.Status, error) {
	if err := c.checkSource("Probe", source, tag); err != nil {
		return backend.Status{}, err
	}
	var st backend.Status
	err := poll(ctx, "Probe", source, tag, func() (bool, error) {
		s, ok, err := c.iprobe("Probe", source, tag)
		st = s
		return ok, err
	})
	return st, err
}

// RecvAlloc receives a message of any length: a matched probe (MPI_Improbe in a parked loop)
// learns its length and removes it from matching, so no other receive can take it in between;
// MPI_Imrecv then receives it into a new buffer of exactly that length.
func (c *communicator) RecvAlloc(ctx context.Context, source, tag int) ([]byte, backend.Status, error) {
	const op = "RecvAlloc"
	if err := c.checkSource(op, source, tag); err != nil {
		return nil, backend.Status{}, err
	}
	var msg messageHandle
	var n int
	err := poll(ctx, op, source, tag, func() (bool, error) {
		if !c.enter() {
			return false, closedError(op, backend.FromPeer, source, tag)
		}
		found, m, st, rc := cImprobe(mpiSource(source), mpiTag(tag), c.h)
		c.leave()
		if rc != mpiSuccess {
			return false, codeError(rc, op, backend.FromPeer, source, tag)
		}
		if !found {
			return false, nil
		}
		_, _, bytes, _, rc := statusInfo(&st)
		if rc != mpiSuccess {
			return false, codeError(rc, op, backend.FromPeer, source, tag)
		}
		msg, n = m, bytes
		return true, nil
	})
	if err != nil {
		return nil, backend.Status{}, err
	}
	buf := make([]byte, n)
	r := newRequest(op, source, tag, c, buf)
	r.recv, r.limit = true, n // matched: it cannot be withdrawn, only finished
	err = c.start(r, buf, func(p unsafe.Pointer, n int, t typeHandle) (requestHandle, int) {
		return cImrecv(p, n, t, msg)
	})
	if err != nil {
		return nil, backend.Status{}, err
	}
	st, err := r.Wait(context.Background())
	if err != nil {
		return nil, st, err
	}
	return buf, st, nil
}

// Split partitions the communicator (MPI_Comm_split), then makes the new part's shadow.
// MPI_Comm_split has no nonblocking form, so ctx is only checked before it starts.
func (c *communicator) Split(ctx context.Context, color, key int) (backend.Backend, error) {
	if err := ctx.Err(); err != nil {
		return nil, ctxError("Split", backend.NoDirection, backend.NoPeer, -1, err)
	}
	if (color < 0 && color != backend.Undefined) || color > math.MaxInt32 {
		return nil, backend.Errorf("Split", backend.NoDirection, backend.NoPeer, -1, backend.ErrInvalidArgument, "color %d outside 0..%d (or Undefined)", color, math.MaxInt32)
	}
	if key < math.MinInt32 || key > math.MaxInt32 {
		return nil, backend.Errorf("Split", backend.NoDirection, backend.NoPeer, -1, backend.ErrInvalidArgument, "key %d does not fit a C int", key)
	}
	mcolor := color
	if color == backend.Undefined {
		mcolor = mpiUndefined
	}
	if !c.enter() {
		return nil, closedError("Split", backend.NoDirection, backend.NoPeer, -1)
	}
	defer c.leave()
	h, rc := cCommSplit(c.h, mcolor, key)
	if rc != mpiSuccess {
		return nil, codeError(rc, "Split", backend.NoDirection, backend.NoPeer, -1)
	}
	if h == commNull {
		return nil, nil
	}
	return wrapNew(h)
}

// Dup duplicates the communicator (MPI_Comm_dup), then makes the copy's shadow. Like Split,
// it checks ctx only before it starts.
func (c *communicator) Dup(ctx context.Context) (backend.Backend, error) {
	if err := ctx.Err(); err != nil {
		return nil, ctxError("Dup", backend.NoDirection, backend.NoPeer, -1, err)
	}
	if !c.enter() {
		return nil, closedError("Dup", backend.NoDirection, backend.NoPeer, -1)
	}
	defer c.leave()
	h, rc := cCommDup(c.h)
	if rc != mpiSuccess {
		return nil, codeError(rc, "Dup", backend.NoDirection, backend.NoPeer, -1)
	}
	return wrapNew(h)
}

// wrapNew makes a new communicator of handle h, freeing h if that fails.
func wrapNew(h commHandle) (backend.Backend, error) {
	c, err := newCommunicator(h, false)
	if err != nil {
		_ = cCommFree(h)
		return nil, err
	}
	return c, nil
}

// Free releases the communicator and its shadow (MPI_Comm_free): pending receives on them are
// cancelled and fail with ErrClosed, later calls fail with ErrClosed. Freeing twice is harmless.
// A shadow is freed with its communicator, not on its own. When operations of theirs are still
// pending (a receive that had matched, a send), MPI_Comm_free runs once they are done.
func (c *communicator) Free() error {
	if c.isShadow {
		return backend.Errorf("Free", backend.NoDirection, backend.NoPeer, -1, backend.ErrInvalidArgument, "a collective shadow is freed with its communicator")
	}
	// After this, Collective makes no new shadow.
	c.shadowOnce.Do(func() {
		c.shadow = brokenBackend{c: c, err: closedError("Collective", backend.NoDirection, backend.NoPeer, -1)}
	})
	life.Lock()
	defer life.Unlock()
	if life.finalized || c.freed.Load() {
		return nil
	}
	c.freed.Store(true)
	rc := mpiSuccess
	if sh, ok := c.shadow.(*communicator); ok {
		sh.freed.Store(true)
		rc = theEngine.release(sh)
	}
	rc2 := theEngine.release(c)
	if rc != mpiSuccess {
		return codeError(rc, "Free", backend.NoDirection, backend.NoPeer, -1)
	}
	return codeError(rc2, "Free", backend.NoDirection, backend.NoPeer, -1)
}
