package collectives

import (
	"context"
	"errors"
	"fmt"
	"unsafe"

	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/internal/backend"
	"github.com/gompi/gompi/internal/commlink"
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
)

var kindNames = [...]string{
	kindBarrier: "Barrier", kindBcast: "Bcast", kindReduce: "Reduce", kindAllreduce: "Allreduce",
	kindGather: "Gather", kindGatherv: "Gatherv", kindScatter: "Scatter", kindScatterv: "Scatterv",
	kindAllgather: "Allgather", kindAllgatherv: "Allgatherv", kindAlltoall: "Alltoall",
	kindAlltoallv: "Alltoallv", kindReduceScatter: "ReduceScatter", kindScan: "Scan", kindExscan: "Exscan",
}

func (k kind) String() string {
	if k > 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("collective %d", int(k))
}

// A message's tag on the collective context is kind<<tagShift | abort code. Data messages carry
// abort code 0; an abort message has no payload and says which error made its sender give up.
const tagShift = 4

// abort codes, one per sentinel a receiver re-wraps.
const (
	abortOther = iota + 1
	abortSizeMismatch
	abortInvalidArgument
	abortInvalidRoot
	abortPeerFailed
)

var abortSentinels = map[int]error{
	abortSizeMismatch:    comm.ErrSizeMismatch,
	abortInvalidArgument: comm.ErrInvalidArgument,
	abortInvalidRoot:     comm.ErrInvalidRoot,
	abortPeerFailed:      comm.ErrPeerFailed, // a rank further along the schedule died
}

// errAborted is wrapped by errors about a peer that gave up for a reason other than the
// argument errors and peer failures, which are passed on as their own sentinels.
var errAborted = errors.New("peer abandoned the collective")

// run is one rank's state during one collective call: the collective shadow of the
// communicator, the operation's name for errors, and the first error seen.
//
// After an error the rank keeps following the algorithm's schedule, so that no peer waits
// forever for it, but it sends empty abort messages instead of data and discards what arrives.
// Peers receiving an abort message fail in turn, and the abort spreads along the schedule. A
// run is used by one goroutine.
type run struct {
	ctx  context.Context
	c    *comm.Comm
	b    backend.Backend // c's collective shadow, see shadow
	name string
	kind kind
	rank int
	size int
	err  error
}

func newRun(c *comm.Comm, name string, k kind) *run {
	return &run{ctx: context.Background(), c: c, name: name, kind: k, rank: c.Rank(), size: c.Size()}
}

// shadow returns the collective context's backend, made on first use: on OpenMPI making it is
// itself collective (MPI_Comm_dup), so a call that goes native must not make it, or a job shared
// with C ranks, which never make that call, would hang.
func (r *run) shadow() backend.Backend {
	if r.b == nil {
		r.b = commlink.Shadow(r.c)
	}
	return r.b
}

// fail records err unless an error is already recorded.
func (r *run) fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

// failf records an error wrapping sentinel, with a message naming the operation and this rank.
func (r *run) failf(sentinel error, format string, args ...any) {
	r.fail(argError(r.name, r.rank, sentinel, format, args...))
}

// noPeer fills backend.Error's Peer for errors that concern the whole collective rather than one peer.
const noPeer = backend.NoPeer

// argError builds the error of a bad argument or an inconsistency seen by rank.
func argError(name string, rank int, sentinel error, format string, args ...any) error {
	return errorf(name, sentinel, "rank %d: "+format, append([]any{rank}, args...)...)
}

// errorf builds an error of operation name wrapping sentinel.
func errorf(name string, sentinel error, format string, args ...any) error {
	return backend.Errorf(name, backend.NoDirection, noPeer, -1, sentinel, format, args...)
}

func (r *run) abortCode() int {
	switch {
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

// outgoing returns the payload and tag of the next message: buf as data, or an empty abort
// message once the run has failed.
func (r *run) outgoing(buf []byte) ([]byte, int) {
	if r.err != nil {
		return nil, int(r.kind)<<tagShift | r.abortCode()
	}
	return buf, int(r.kind) << tagShift
}

// send sends buf to rank dest (or an abort message, after an error).
func (r *run) send(buf []byte, dest int) {
	payload, tag := r.outgoing(buf)
	if err := r.shadow().Send(r.ctx, payload, dest, tag); err != nil {
		r.fail(fmt.Errorf("collectives: %s on rank %d: %w", r.name, r.rank, err))
	}
}

// recv receives the next message from rank src, which must fill buf exactly.
func (r *run) recv(buf []byte, src int) {
	if r.err != nil {
		r.discard(src)
		return
	}
	st, err := r.shadow().Recv(r.ctx, buf, src, backend.AnyTag)
	r.check(st, err, buf, src)
}

// sendrecv sends sbuf to dest while receiving the next message from src into rbuf, so that
// pairs exchanging large messages cannot deadlock.
func (r *run) sendrecv(sbuf []byte, dest int, rbuf []byte, src int) {
	if r.err != nil {
		r.send(nil, dest)
		r.discard(src)
		return
	}
	req, err := r.shadow().Irecv(rbuf, src, backend.AnyTag)
	if err != nil {
		r.fail(fmt.Errorf("collectives: %s on rank %d: %w", r.name, r.rank, err))
		r.send(nil, dest)
		return
	}
	r.send(sbuf, dest)
	if r.err != nil {
		// The send failed: withdraw the receive unless it already matched.
		ctx, cancel := context.WithCancel(r.ctx)
		cancel()
		_, _ = req.Wait(ctx)
		return
	}
	st, err := req.Wait(r.ctx)
	r.check(st, err, rbuf, src)
}

// discard receives and drops the next message from src, whatever its length.
func (r *run) discard(src int) {
	if _, _, err := r.shadow().RecvAlloc(r.ctx, src, backend.AnyTag); err != nil && !errors.Is(err, comm.ErrTruncated) {
		r.fail(fmt.Errorf("collectives: %s on rank %d: %w", r.name, r.rank, err))
	}
}

// check turns a receive's outcome into the run's error, if any: a transport error, a message of
// another collective, an abort message, or a message whose length differs from buf's.
func (r *run) check(st backend.Status, err error, buf []byte, src int) {
	if err != nil && !errors.Is(err, comm.ErrTruncated) {
		r.fail(fmt.Errorf("collectives: %s on rank %d: %w", r.name, r.rank, err))
		return
	}
	if k := kind(st.Tag >> tagShift); k != r.kind {
		r.failf(comm.ErrInvalidArgument, "received a message of %v from rank %d during %v (ranks called collectives in different orders)", k, src, r.kind)
		return
	}
	if code := st.Tag & (1<<tagShift - 1); code != 0 {
		sentinel, ok := abortSentinels[code]
		if !ok {
			sentinel = errAborted
		}
		r.failf(sentinel, "rank %d abandoned the %s after an error", src, r.name)
		return
	}
	if err != nil || st.Bytes != len(buf) {
		r.failf(comm.ErrSizeMismatch, "received %d bytes from rank %d where %d were expected (counts differ between ranks)", st.Bytes, src, len(buf))
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
func combineLeft[T any](d opDef[T], left, inout, scratch []T) {
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
)

var algNames = [...]string{
	algAuto: "auto", algDissemination: "dissemination", algBinomial: "binomial",
	algScatterAllgather: "scatter-allgather", algRecursiveDoubling: "recursive-doubling",
	algRing: "ring", algRabenseifner: "rabenseifner", algBruck: "bruck", algPairwise: "pairwise",
	algLinear: "linear", algReduceScatterv: "reduce-scatterv",
}

func (a algorithm) String() string {
	if a >= 0 && int(a) < len(algNames) {
		return algNames[a]
	}
	return fmt.Sprintf("algorithm %d", int(a))
}

// checkComm rejects a nil communicator.
func checkComm(c *comm.Comm, name string) error {
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
func (r *run) native(c *comm.Comm, alg algorithm) backend.Native {
	if alg != algAuto {
		return nil
	}
	nat := commlink.Native(c)
	if nat == nil || r.err == nil {
		return nat
	}
	return failedNative{r.err}
}
