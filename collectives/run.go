package collectives

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
	"unsafe"

	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/internal/backend"
	"github.com/gompi/gompi/internal/commlink"
	"github.com/gompi/gompi/internal/trace"
	"github.com/gompi/gompi/internal/waits"
)

// kind names a collective in the tags of its messages, so that a rank receiving a message of a
// different collective than the one it is in (ranks calling collectives in different orders)
// reports it instead of misreading the data.
type kind int

const (
	kindBarrier kind = iota + 1
	kindBcast
	kindReduce
	kindAllreduce
	kindGather
	kindGatherv
	kindScatter
	kindScatterv
	kindAllgather
	kindAllgatherv
	kindAlltoall
	kindAlltoallv
	kindReduceScatter
	kindScan
	kindExscan
	// kindCheck marks the messages of the collective checker (check.go), which precede a
	// collective's own when GOMPI_DEBUG=check. It has no entry in kindNames: it is no
	// collective that Algorithm or a forced setting could name.
	kindCheck
)

var kindNames = [...]string{
	kindBarrier: "Barrier", kindBcast: "Bcast", kindReduce: "Reduce", kindAllreduce: "Allreduce",
	kindGather: "Gather", kindGatherv: "Gatherv", kindScatter: "Scatter", kindScatterv: "Scatterv",
	kindAllgather: "Allgather", kindAllgatherv: "Allgatherv", kindAlltoall: "Alltoall",
	kindAlltoallv: "Alltoallv", kindReduceScatter: "ReduceScatter", kindScan: "Scan", kindExscan: "Exscan",
}

func (k kind) String() string {
	if k == kindCheck {
		return "argument check"
	}
	if k > 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("collective %d", int(k))
}

// A message's tag on the collective context is kind<<tagShift | abort code. Data messages carry
// abort code 0; an abort message has no payload and says which error made its sender give up
// (errors.go). An abort for a peer failure may also say, from bit originShift up, where the
// failure began as its sender knows it (2*world rank + 1 if that rank finalized and left, + 1;
// 0: not said), so that a rank that hears of the failure only through a neighbour's abort
// still names the rank that went first (comm.Error.Origin).
const (
	tagShift    = 4
	originShift = 9 // the kinds fit in bits tagShift..originShift-1
	maxOrigin   = (backend.MaxTag>>originShift - 2) / 2
)

// abortTag returns the tag of an abort message with code, from a run whose error is r.err.
func (r *run) abortTag(code int) int {
	tag := int(r.kind)<<tagShift | code
	if code != abortPeerFailed {
		return tag
	}
	var ce *backend.Error
	if errors.As(r.err, &ce) && ce.Origin != nil && ce.Origin.Rank >= 0 && ce.Origin.Rank <= maxOrigin {
		o := 2*ce.Origin.Rank + 1
		if ce.Origin.Left {
			o++
		}
		tag |= o << originShift
	}
	return tag
}

// tagOrigin returns where the failure that an abort's tag reports began, or nil when it does
// not say.
func tagOrigin(tag int) *backend.Origin {
	o := tag >> originShift
	if o == 0 {
		return nil
	}
	return &backend.Origin{Rank: (o - 1) / 2, Left: (o-1)%2 == 1}
}

// run is one rank's state during one collective call: the caller's context, the collective
// shadow of the communicator, the operation's name for errors, and the first error seen.
//
// After the first error (an argument, a peer's abort, a failed transfer) the rank keeps
// following the algorithm's schedule, so that no peer waits forever for it: it sends an empty
// abort message wherever it would have sent data (eager, with a context that cannot end) and
// takes and drops whatever it would have received. Peers receiving an abort fail in turn, with
// its cause, and the abort spreads along the schedule. Once the run's context has ended (or
// when the communicator's collectives were broken before the call) the rank waits for nothing
// more (quit): wherever it would receive, it posts a receive that drops what the peer sends and
// that nobody waits for, so that it returns at once and a peer sending it a large message is
// still not left blocked. At the end a failed run marks the communicator's collectives broken
// on this rank and sends every other rank an abort (end), because messages of the failed
// schedule may still be in flight. A run is used by one goroutine.
type run struct {
	ctx    context.Context
	done   <-chan struct{} // ctx.Done(): nil when ctx cannot end
	c      *comm.Comm
	b      backend.Backend // c's collective shadow, see shadow
	name   string
	kind   kind
	rank   int // this rank in the ranks the algorithm runs on: c's, or group's (within)
	size   int
	me     int   // this rank in c
	group  []int // the ranks of c the algorithm runs on, by its numbering; nil: all of c
	err    error
	quit   bool // failed and waits for nothing more: ctx ended, or broken
	broken bool // c's collectives were broken on this rank before the call

	bufs [scratchSlots][]byte // scratch vectors, kept from call to call (see scratch)

	alg   algorithm // the algorithm that runs, once the entry point has chosen it (for the trace)
	trace runTrace  // the call's record when tracing (trace.go); trace.rec is nil otherwise
	// label names this call on the collective context, labeled, for the hang report (package
	// waits); labeled is nil when registering is off
	label   waits.Label
	labeled interface{ SetCollective(*waits.Label) }

	// pending is the call's fingerprint when checkOrDefer left the check to the call (a
	// communicator with native collectives, GOMPI_DEBUG=check), until it runs: in the native
	// call's unit (callNative) or before gompi's algorithm (checkPending).
	pending *fingerprint
}

// newRun returns a run from runPool (a collective call allocates none in the steady state);
// the caller frees it when the call returns (defer r.free()). Nothing may keep it beyond: a
// native call that goes on in the background holds no reference to its run.
func newRun(ctx context.Context, c *comm.Comm, name string, k kind) *run {
	r := runPool.Get().(*run)
	*r = run{ctx: ctx, done: ctx.Done(), c: c, name: name, kind: k, rank: c.Rank(), size: c.Size(), me: c.Rank(), bufs: r.bufs}
	if k != kindCheck && checking() {
		r.pending, _ = ctx.Value(pendingCheckKey{}).(*fingerprint)
	}
	if trace.Active() {
		r.traceBegin()
	}
	if waits.Enabled() {
		r.enterWaits()
	}
	return r
}

var runPool = sync.Pool{New: func() any { return new(run) }}

// free returns r to runPool.
func (r *run) free() {
	if r.trace.rec != nil {
		r.traceEnd()
	}
	if r.labeled != nil {
		r.labeled.SetCollective(nil)
	}
	*r = run{bufs: r.bufs}
	runPool.Put(r)
}

// shadow returns the collective context's backend, made on first use. On the Go engine it
// exists with the communicator. On OpenMPI making it is itself collective (MPI_Comm_dup): a call
// that goes native must not make it, or a job shared with C ranks, which never make that call,
// would hang; it must come after the native collectives this rank still runs on c in the
// background; and ctx cannot interrupt it. So there it is made as a native call (callNative):
// queued after those, and ctx bounds the wait. If ctx ends first the run quits, and the aborts
// it then sends and the discards it posts wait in a deferredShadow, sent by end once the dup is
// done (when the other ranks have come to it too).
func (r *run) shadow() backend.Backend {
	if r.b != nil {
		return r.b
	}
	if commlink.Native(r.c) == nil {
		r.b = commlink.Shadow(r.c)
		return r.b
	}
	st := stateOf(r.c, true)
	st.mu.Lock()
	made := st.shadowMade
	st.mu.Unlock()
	if made {
		r.b = commlink.Shadow(r.c)
		return r.b
	}
	ready := make(chan backend.Backend, 1)
	c := r.c // the call may run after this run is over (and reused)
	err, _ := r.callNative(nil, nil, func(_, _ []byte) error {
		b := commlink.Shadow(c)
		st.mu.Lock()
		st.shadowMade = true
		st.mu.Unlock()
		ready <- b
		return nil
	})
	if err != nil {
		r.quit = true
		r.fail(err)
		r.b = &deferredShadow{ready: ready}
		return r.b
	}
	r.b = <-ready
	return r.b
}

// deferredShadow stands in for a shadow still being made when the run quit (see shadow). A run
// that has quit only sends aborts and posts discards, with Send and Irecv; those are kept, and
// flush makes them on the real shadow, in order, once it exists. No other method is called on
// it (the embedded Backend is nil).
type deferredShadow struct {
	backend.Backend
	ready <-chan backend.Backend
	ops   []func(b backend.Backend)
}

func (d *deferredShadow) Send(ctx context.Context, buf []byte, dest, tag int) error {
	d.ops = append(d.ops, func(b backend.Backend) { _ = b.Send(ctx, buf, dest, tag) })
	return nil
}

func (d *deferredShadow) Irecv(buf []byte, src, tag int) (backend.Request, error) {
	d.ops = append(d.ops, func(b backend.Backend) { _, _ = b.Irecv(buf, src, tag) })
	return nil, nil
}

// flush makes the kept calls from a goroutine of its own once the shadow exists.
func (d *deferredShadow) flush() {
	go func() {
		b := <-d.ready
		for _, op := range d.ops {
			op(b)
		}
	}()
}

// begin starts the walk of one of gompi's algorithms (after any native attempt): on a
// communicator whose collectives are broken on this rank, or with a context already ended (or
// ending while an OpenMPI shadow is made), the run fails at once, and the walk only sends
// aborts and posts discards.
func (r *run) begin() {
	if cause := brokenCause(r.c); cause != nil {
		r.broken, r.quit = true, true
		r.fail(errorf(r.name, brokenError{cause}, "rank %d: an earlier collective on this communicator failed", r.rank))
	}
	if err := ctxEnded(r.ctx); err != nil {
		r.quit = true
		r.fail(r.ctxError(err))
	}
	// The shadow is reached here, before the walk, because on OpenMPI reaching it may end the
	// run (see shadow): every step of the walk then sees the failure and only sends aborts and
	// posts discards, which a deferredShadow keeps.
	r.shadow()
}

// end finishes a walk and returns its error. After a failure it marks c's collectives broken
// on this rank and revokes them: every other rank gets an abort, which fails the collective in
// which it next waits for this rank (whether or not it saw this failure), so that no rank
// waits forever for one that has stopped taking part. A failure on a rank whose own context has
// ended by then is reported as that context's end (a peer whose deadline came first may have
// aborted the collective a moment before this rank's came).
func (r *run) end() error {
	if d, ok := r.b.(*deferredShadow); ok {
		defer d.flush()
	}
	if r.err == nil || r.broken {
		return r.err
	}
	if cerr := ctxEnded(r.ctx); cerr != nil && !errors.Is(r.err, cerr) {
		r.err = fmt.Errorf("collectives: %s on rank %d: context ended (%w) while the collective failed: %w", r.name, r.rank, cerr, r.err)
	}
	markBroken(r.c, r.err)
	if r.size > 1 {
		ctx := context.WithoutCancel(r.ctx)
		tag := int(r.kind)<<tagShift | abortRevoked
		for q := range r.size {
			if q != r.rank {
				_ = r.shadow().Send(ctx, nil, q, tag)
			}
		}
	}
	return r.err
}

// ctxEnded returns why ctx has ended, or nil: ctx.Err(), or context.DeadlineExceeded once the
// deadline has passed even if ctx's timer has not fired yet.
func ctxEnded(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) {
		return context.DeadlineExceeded
	}
	return nil
}

// ctxError is the error of a run whose context ended with err.
func (r *run) ctxError(err error) error {
	return errorf(r.name, err, "rank %d: context ended before the collective finished", r.me)
}

// peer returns the rank in c of rank v of the ranks the algorithm runs on.
func (r *run) peer(v int) int {
	if r.group == nil {
		return v
	}
	return r.group[v]
}

// within runs f, one of the algorithms, on the ranks group of c (this rank among them), as if
// they were the whole communicator: r.rank and r.size are this rank's index in group and
// len(group) meanwhile, and the peers f names are indexes in group. The phases of the
// node-aware algorithms (hier.go) run this way; the messages they exchange are those of this
// run (same kind, same tags), in the order of the schedule, which every pair of ranks follows
// alike. It does not nest.
func (r *run) within(group []int, f func()) {
	rank, size := r.rank, r.size
	r.rank, r.size, r.group = -1, len(group), group
	for i, q := range group {
		if q == r.me {
			r.rank = i
		}
	}
	if r.rank >= 0 {
		f()
	}
	r.rank, r.size, r.group = rank, size, nil
}

// checkCtx fails the run if its context has ended, so that it stops waiting.
func (r *run) checkCtx() {
	if r.done == nil || r.quit {
		return
	}
	select {
	case <-r.done:
		r.quit = true
		r.fail(r.ctxError(r.ctx.Err()))
	default:
	}
}

// fail records err unless an error is already recorded.
func (r *run) fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

// failf records an error wrapping sentinel, with a message naming the operation and this rank.
func (r *run) failf(sentinel error, format string, args ...any) {
	r.fail(argError(r.name, r.me, sentinel, format, args...))
}

// wrap names the operation and the rank in an error from the backend.
func (r *run) wrap(err error) error {
	return fmt.Errorf("collectives: %s on rank %d: %w", r.name, r.me, err)
}

// noPeer fills backend.Error's Peer for errors that concern the whole collective rather than one peer.
const noPeer = backend.NoPeer

// argError builds the error of a bad argument or an inconsistency seen by rank.
func argError(name string, rank int, sentinel error, format string, args ...any) *backend.Error {
	return errorf(name, sentinel, "rank %d: "+format, append([]any{rank}, args...)...)
}

// errorf builds an error of operation name wrapping sentinel.
func errorf(name string, sentinel error, format string, args ...any) *backend.Error {
	return backend.Errorf(name, backend.NoDirection, noPeer, -1, sentinel, format, args...)
}

func (r *run) abortCode() int {
	switch {
	case errors.Is(r.err, ErrCollectiveAborted):
		return abortRevoked
	case isCtxErr(r.err), errors.Is(r.err, comm.ErrCanceled):
		return abortCanceled
	case errors.Is(r.err, comm.ErrSizeMismatch):
		return abortSizeMismatch
	case errors.Is(r.err, comm.ErrInvalidArgument):
		return abortInvalidArgument
	case errors.Is(r.err, comm.ErrInvalidRoot):
		return abortInvalidRoot
	case errors.Is(r.err, comm.ErrPeerFailed):
		return abortPeerFailed
	}
	return abortOther
}

// send sends buf to rank dest (or an abort message, after an error).
func (r *run) send(buf []byte, dest int) {
	r.checkCtx()
	if r.err != nil {
		r.sendAbort(dest)
		return
	}
	if r.trace.rec != nil {
		r.traceStep(len(buf), 0)
	}
	if err := r.shadow().Send(r.ctx, buf, r.peer(dest), int(r.kind)<<tagShift); err != nil {
		r.fail(r.wrap(err))
		r.quit = r.quit || isCtxErr(err)
		// The message did not go (withdrawn when ctx ended, or dest is gone): an abort takes
		// its place, so that dest does not wait for it.
		r.sendAbort(dest)
	}
}

// sendAbort sends dest an empty abort message saying why this run failed. It is eager, so a
// context that cannot end costs no wait; if it cannot be sent (dest is gone), nobody is left
// to tell.
func (r *run) sendAbort(dest int) {
	_ = r.shadow().Send(context.WithoutCancel(r.ctx), nil, r.peer(dest), r.abortTag(r.abortCode()))
}

// recv receives the next message from rank src, which must fill buf exactly (after an error:
// drops it).
func (r *run) recv(buf []byte, src int) {
	r.checkCtx()
	if r.err != nil {
		r.discard(src)
		return
	}
	if r.trace.rec != nil {
		r.traceStep(0, len(buf))
	}
	st, err := r.shadow().Recv(r.ctx, buf, r.peer(src), backend.AnyTag)
	r.check(st, err, buf, src)
}

// sendrecv sends sbuf to dest while receiving the next message from src into rbuf, so that
// pairs exchanging large messages cannot deadlock.
func (r *run) sendrecv(sbuf []byte, dest int, rbuf []byte, src int) {
	r.checkCtx()
	if r.err != nil {
		r.sendAbort(dest)
		r.discard(src)
		return
	}
	if r.trace.rec != nil {
		r.traceStep(len(sbuf), len(rbuf))
	}
	if sr, ok := r.shadow().(backend.Sendrecver); ok {
		st, sendErr, recvErr := sr.Sendrecv(r.ctx, sbuf, r.peer(dest), int(r.kind)<<tagShift, rbuf, r.peer(src), backend.AnyTag)
		if sendErr != nil {
			// The message did not go: an abort takes its place (see send). The receive was
			// withdrawn unless it matched; a withdrawn one's message is dropped instead.
			r.fail(r.wrap(sendErr))
			r.quit = r.quit || isCtxErr(sendErr)
			r.sendAbort(dest)
			if recvErr != nil && unreceived(recvErr) {
				r.discard(src)
			}
			return
		}
		r.check(st, recvErr, rbuf, src)
		return
	}
	req, err := r.shadow().Irecv(rbuf, r.peer(src), backend.AnyTag)
	if err != nil {
		r.fail(r.wrap(err))
		r.sendAbort(dest)
		r.discard(src)
		return
	}
	r.send(sbuf, dest)
	if r.err != nil {
		// The send failed: withdraw the receive (rbuf is the caller's) unless it already
		// matched, and drop the message in its place.
		ctx, cancel := context.WithCancel(context.WithoutCancel(r.ctx))
		cancel()
		if _, err := req.Wait(ctx); err != nil && unreceived(err) {
			r.discard(src)
		}
		return
	}
	st, err := req.Wait(r.ctx)
	r.check(st, err, rbuf, src)
}

// discard takes the next message from src and drops it, whatever its length. After quit it
// posts a receive for it and leaves it (postDiscard); if ctx ends while it waits, the run
// quits.
//
// It receives the whole message rather than into no buffer: the Go engine answers a truncated
// large message from a goroutine of its own, which may come after this rank has finished and
// left, and the sender would then fail with ErrPeerFailed instead of hearing the real error.
func (r *run) discard(src int) {
	if r.quit {
		r.postDiscard(src)
		return
	}
	if _, _, err := r.shadow().RecvAlloc(r.ctx, r.peer(src), backend.AnyTag); err != nil && unreceived(err) {
		r.quit = r.quit || isCtxErr(err)
		r.discard(src)
	}
}

// postDiscard posts, in place of a receive from src, one that drops src's next data message of
// this collective and that nobody waits for, so that a peer sending this rank a large message
// (which waits for a receive to match it) is not left blocked. It takes data messages only
// (their tag): aborts are short and never wait, and a receive with any tag that a message never
// came for could take a later message of another protocol on the shadow, such as those that
// make a communicator with Dup or Split.
func (r *run) postDiscard(src int) {
	_, _ = r.shadow().Irecv(nil, r.peer(src), int(r.kind)<<tagShift)
}

// unreceived reports whether a receive that failed with err left its message to come: it was
// withdrawn because the context ended, or its sender withdrew a message it had matched
// (comm.ErrCanceled), and sends an abort in its place.
func unreceived(err error) bool {
	return isCtxErr(err) || errors.Is(err, comm.ErrCanceled)
}

// isCtxErr reports whether err says that a context ended.
func isCtxErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// check turns a receive's outcome into the run's error, if any: a transport error, an abort
// message, a message of another collective, or a message whose length differs from buf's.
func (r *run) check(st backend.Status, err error, buf []byte, src int) {
	if err != nil && !errors.Is(err, comm.ErrTruncated) {
		r.fail(r.wrap(err))
		if unreceived(err) {
			r.quit = r.quit || isCtxErr(err)
			r.discard(src)
		}
		return
	}
	k := kind(st.Tag & (1<<originShift - 1) >> tagShift)
	if code := st.Tag & (1<<tagShift - 1); code != 0 {
		// Checked before the kind: a revoke comes from a collective that failed earlier.
		switch code {
		case abortRevoked:
			r.failf(ErrCollectiveAborted, "rank %d stopped taking part in collectives on this communicator after its %v failed", r.peer(src), k)
		case abortCanceled:
			r.failf(comm.ErrCanceled, "rank %d abandoned the %v: its context ended", r.peer(src), k)
		default:
			sentinel, ok := abortSentinels[code]
			if !ok {
				sentinel = errAborted
			}
			o := tagOrigin(st.Tag)
			if code != abortPeerFailed || o == nil {
				r.failf(sentinel, "rank %d abandoned the %v after an error", r.peer(src), k)
				break
			}
			first := o.String()
			if wo, ok := r.shadow().(interface{ WorldOrder() bool }); !ok || !wo.WorldOrder() {
				first = "world " + first
			}
			err := argError(r.name, r.me, sentinel, "rank %d abandoned the %v after an error (%s first)", r.peer(src), k, first)
			err.Origin = o
			r.fail(err)
		}
		return
	}
	if k != r.kind {
		r.failf(comm.ErrInvalidArgument, "received a message of %v from rank %d during %v (ranks called collectives in different orders)", k, r.peer(src), r.kind)
		return
	}
	if err != nil || st.Bytes != len(buf) {
		r.failf(comm.ErrSizeMismatch, "received %d bytes from rank %d where %d were expected (counts differ between ranks)", st.Bytes, r.peer(src), len(buf))
	}
}

// asBytes returns the memory of s as bytes, without copying. T must be a fixed-size type
// without pointers (a comm.Elem or a Pair of one).
func asBytes[T any](s []T) []byte {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), len(s)*int(unsafe.Sizeof(s[0])))
}

// sizeOf returns the size of one T in bytes.
func sizeOf[T any]() int {
	var zero T
	return int(unsafe.Sizeof(zero))
}

// block returns the bounds of block i when n elements are cut into p blocks whose lengths
// differ by at most one, the longer ones first.
func block(n, p, i int) (lo, hi int) {
	q, rem := n/p, n%p
	lo = i*q + min(i, rem)
	hi = lo + q
	if i < rem {
		hi++
	}
	return lo, hi
}

// combineLeft sets inout = left ⊕ inout. For a commutative op that is one combine; otherwise
// scratch (len(inout) elements) takes the left operand so that left is not modified.
func combineLeft[T any](d Reduction[T], left, inout, scratch []T) {
	if d.commutative {
		d.combine(inout, left)
		return
	}
	scratch = scratch[:len(inout)]
	copy(scratch, left)
	d.combine(scratch, inout)
	copy(inout, scratch)
}

// pof2Below returns the largest power of two not above p (p >= 1).
func pof2Below(p int) int {
	q := 1
	for q*2 <= p {
		q *= 2
	}
	return q
}

// algorithm names an algorithm, so that tests and benchmarks can force one; the exported
// functions pass algAuto, which lets the entry point choose.
type algorithm int

const (
	algAuto algorithm = iota
	algDissemination
	algBinomial
	algScatterAllgather
	algRecursiveDoubling
	algRing
	algRabenseifner
	algBruck
	algPairwise
	algLinear
	algReduceScatterv
	algNodeAware // hier.go: phases within hosts and between them
)

var algNames = [...]string{
	algAuto: "auto", algDissemination: "dissemination", algBinomial: "binomial",
	algScatterAllgather: "scatter-allgather", algRecursiveDoubling: "recursive-doubling",
	algRing: "ring", algRabenseifner: "rabenseifner", algBruck: "bruck", algPairwise: "pairwise",
	algLinear: "linear", algReduceScatterv: "reduce-scatterv", algNodeAware: "node-aware",
}

func (a algorithm) String() string {
	if a >= 0 && int(a) < len(algNames) {
		return algNames[a]
	}
	return fmt.Sprintf("algorithm %d", int(a))
}

// checkCall rejects a nil context or communicator: every rank passes them, so every rank
// fails at once and no message moves.
func checkCall(ctx context.Context, c *comm.Comm, name string) error {
	if ctx == nil {
		return errorf(name, comm.ErrInvalidArgument, "nil context (use context.Background())")
	}
	if c == nil {
		return errorf(name, comm.ErrInvalidArgument, "nil communicator")
	}
	if c.IsNull() {
		return errorf(name, comm.ErrCommNull, "the communicator has no ranks")
	}
	return nil
}

// checkRoot rejects a root outside the communicator.
func checkRoot(c *comm.Comm, name string, root int) error {
	if root < 0 || root >= c.Size() {
		return argError(name, c.Rank(), comm.ErrInvalidRoot, "root %d is not a rank of a communicator of size %d", root, c.Size())
	}
	return nil
}

// nativeUnsupported reports whether err from a native collective means "fall back to gompi's algorithm".
func nativeUnsupported(err error) bool { return errors.Is(err, comm.ErrUnsupported) }

// native returns the backend's own collectives when this call should use them (alg is algAuto
// and the backend has them), else nil. A native collective cannot take a placeholder part in
// the schedule the way gompi's algorithms do after a local argument error, so then the error is
// returned through a Native whose every method fails with it: the caller returns at once, and
// the other ranks see whatever the native library does with a missing participant.
//
// Native collectives do not look at whether c's collectives are broken (ErrCollectiveAborted):
// that concerns the messages of gompi's algorithms on c's shadow, which native collectives do
// not use, and the other ranks would wait in the native call for a rank that refused.
func (r *run) native(alg algorithm) backend.Native {
	if alg != algAuto {
		return nil
	}
	nat := commlink.Native(r.c)
	if nat == nil || r.err == nil {
		return nat
	}
	return failedNative{r.err}
}

// enterWaits labels the communicator's collective context with this call for the hang report
// (package waits): waits registered on it meanwhile say which collective they are part of.
// No allocation: the label lives in the run.
func (r *run) enterWaits() {
	if commlink.Native(r.c) != nil {
		return
	}
	l, ok := commlink.Shadow(r.c).(interface{ SetCollective(*waits.Label) })
	if !ok {
		return
	}
	r.label = waits.Label{Name: r.name} // Since: set by the call's first wait that parks
	l.SetCollective(&r.label)
	r.labeled = l
}
