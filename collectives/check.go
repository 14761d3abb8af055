package collectives

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"sync"

	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/internal/commlink"
)

// The collective checker (GOMPI_DEBUG=check, debug.go). MPI leaves a program undefined when its
// ranks disagree about a collective call, and gompi's algorithms catch only some disagreements,
// from the messages that arrive: a Bcast whose ranks pass different roots, or an Allreduce of
// float64 on some ranks and float32 on others with the same byte count, moves data and returns
// nil. With the checker on, each exported collective first has the communicator's ranks
// exchange a fingerprint of their arguments, and every rank compares all of them with the same
// code. So every rank finds the same first difference and fails with the same one-line error,
// wrapping ErrMismatch,
//
//	collectives: Bcast #3 on world: rank 1 passes root 1, ranks 0, 2 pass root 0
//
// before any data moves; the communicator stays usable (nothing of the call is in flight).
//
// The fingerprint of a call holds, compared in this order:
//   - the collective: the exported function's name (Bcast, GatherValue, ...);
//   - its sequence number: the collectives this rank has called on the communicator with the
//     checker on, counting from 1 (calls that fail before the exchange, with a nil context, do
//     not count);
//   - the root, or -1;
//   - the element type: a number's kind (a named type counts as its underlying number, as in
//     MPI's type signatures: []Celsius matches []float64) or else the type's name, and its size;
//   - the count that every rank passes alike (Bcast's len(buf), Allreduce's len(send), Scatter's
//     len(recv), ...), or -1;
//   - the op: its name (Sum, Max, ...; every NewOp is "user op", as functions cannot be compared
//     between processes) and whether it is commutative;
//   - for the v-collectives, the counts: the root's counts against each rank's own length
//     (Gatherv, Scatterv), every rank's recv.Counts alike and against each rank's len(send)
//     (Allgatherv), every rank's send.Counts alike (ReduceScatter), and rank i's
//     send.Counts[j] against rank j's recv.Counts[i] (Alltoallv).
//
// Counts vectors travel as hashes, so that a record has a fixed size whatever p: h(v) = Σᵢ
// mix(i, vᵢ), in which every position counts apart, so that sums over ranks can be compared
// (for Alltoallv, Σ over every rank's send row of mix(i, j, count) against the same over the
// recv rows). Only when a hash differs do the ranks exchange the vectors themselves, in a
// second allgather, to say where they differ. Two different vectors with equal hashes (64
// bits) would go unnoticed.
//
// Not compared: the communicator (the exchange runs on the call's own communicator, so ranks
// that call collectives on different communicators never meet: that still hangs, unless a
// context bounds it; the error names the communicator, "world" or its context id);
// displacements and the lengths a rank checks alone (recv at a root, say), which the call
// checks as before; user op functions; the types and values of the value collectives (gob
// decodes into compatible types), whose roots are compared. The ranks must all run with the
// checker on: a rank without it sends data where the others expect a fingerprint, and they
// fail (ranks called collectives in different orders), though not all in the same call.
//
// The exchange is an allgather of recordSize-byte records by Bruck's algorithm on the
// communicator's collective context, with a kind of its own (kindCheck), so that its messages
// never match a collective's: ⌈lg p⌉ α + (p-1)·recordSize β per call, before the collective's
// own cost. On a communicator with native collectives (OpenMPI) the exchange is the native
// Allgather, made as a native call: in one unit with the native call when the call goes
// native, just before gompi's algorithm when it does not (checkOrDefer). On one rank nothing
// is exchanged (nor counted).

// vecCheck says which counts vectors of a call must agree, and how.
type vecCheck uint8

const (
	vecNone          vecCheck = iota
	vecGatherv                // the root's recv.Counts[i] == rank i's len(send)
	vecScatterv               // the root's send.Counts[i] == rank i's len(recv)
	vecAllgatherv             // every rank's recv.Counts alike, [i] == rank i's len(send)
	vecReduceScatter          // every rank's send.Counts alike
	vecAlltoallv              // rank i's send.Counts[j] == rank j's recv.Counts[i]
)

// fingerprint is what one rank passes to one collective call, as far as the ranks must agree.
type fingerprint struct {
	call        string // the exported name: "Bcast", "GatherValue", ...
	root        int    // -1: none
	elem        string // the element type (elemName), "" when none
	esize       int
	count       int // the length every rank passes alike, -1 when none
	op          string
	commutative bool
	vec         vecCheck
	mine        int   // Gatherv, Allgatherv: len(send); Scatterv: len(recv)
	a, b        []int // the counts (Alltoallv: send.Counts, recv.Counts)
}

// callFP returns the fingerprint of a call of collective call on elements of type T, with root
// (or -1) and count (or -1).
func callFP[T any](call string, root, count int) fingerprint {
	elem, size := elemName[T]()
	return fingerprint{call: call, root: root, count: count, elem: elem, esize: size}
}

// reduceFP is callFP for a reduction with op.
func reduceFP[T any](call string, root, count int, op Op[T]) fingerprint {
	return opFP(callFP[T](call, root, count), op)
}

// opFP returns f with op.
func opFP[T any](f fingerprint, op Op[T]) fingerprint {
	f.op, f.commutative = "nil", false
	if op != nil {
		d := op()
		f.op, f.commutative = d.name, d.commutative
	}
	return f
}

// vecFP is callFP for a v-collective: the rank's own length mine and the counts a, b.
func vecFP[T any](call string, root int, v vecCheck, mine int, a, b []int) fingerprint {
	f := callFP[T](call, root, -1)
	f.vec, f.mine, f.a, f.b = v, mine, a, b
	return f
}

// valueFP is the fingerprint of a value collective (no element type, no count).
func valueFP(call string, root int) fingerprint {
	return fingerprint{call: call, root: root, count: -1}
}

// valueReduceFP is the fingerprint of a value reduction with function f: only whether f is
// nil is compared.
func valueReduceFP[T any](call string, root int, f func(a, b T) T) fingerprint {
	fp := valueFP(call, root)
	fp.op = "func"
	if f == nil {
		fp.op = "nil func"
	}
	return fp
}

// elemName returns how the checker names T, and T's size: the kind of a number (float64 for
// any type whose underlying type is float64), the type's name otherwise.
func elemName[T any]() (string, int) {
	t := reflect.TypeFor[T]()
	if k := t.Kind(); k >= reflect.Bool && k <= reflect.Complex128 {
		return k.String(), int(t.Size())
	}
	return t.String(), int(t.Size())
}

// checkArgs runs the checker for one call on c: it exchanges f with the other ranks and
// returns the mismatch every rank finds, nil when they agree, or the exchange's own error (a
// context that ended, a failed peer, a communicator whose collectives are broken), which
// breaks the communicator's collectives as any failed collective does. A nil context or
// communicator is the error the call itself would return. The value collectives, which never
// go native, call it; the others call checkOrDefer.
//
// On a communicator with native collectives the exchange is the native Allgather (see
// checkOrDefer), made as a native call: if ctx ends first it goes on in the background, and
// checkArgs returns nil, so that the collective runs and fails on the ended context as it
// would have without the checker, walking its schedule so that no peer waits for this rank.
func checkArgs(ctx context.Context, c *comm.Comm, f fingerprint) error {
	if err := checkCall(ctx, c, f.call); err != nil {
		return err
	}
	if c.Size() == 1 {
		return nil
	}
	if commlink.Native(c) != nil {
		r := newRun(ctx, c, f.call, kindCheck)
		defer r.free()
		pending := f // not &f, which would move every call's f to the heap
		r.pending = &pending
		if err := r.checkNative(); errors.Is(err, ErrMismatch) {
			return err
		}
		return nil
	}
	return checkExchange(ctx, c, f)
}

// pendingCheckKey is the context key under which checkOrDefer leaves a call's fingerprint to
// the call (newRun takes it into run.pending).
type pendingCheckKey struct{}

// checkOrDefer is checkArgs for a collective that may go native. On a communicator with native
// collectives (OpenMPI) the check is left to the call, in the ctx it returns: a native call
// cannot be interrupted, and when ctx ends first it goes on in the background and the
// communicator stays usable (see callNative); a check made before it with gompi's
// point-to-point could be abandoned by one rank while another, through it, waits in the native
// call for that rank forever. So the check runs in the same callNative unit as the native call
// (nativeChecked), or, when the call goes gompi's way, just before its algorithm
// (run.checkPending). Either way, and for the value collectives too, the exchange is the native
// Allgather, so that ranks whose calls take different ways (Sum on one, a user op on another)
// still meet in it and see their mismatch.
func checkOrDefer(ctx context.Context, c *comm.Comm, f fingerprint) (context.Context, error) {
	if err := checkCall(ctx, c, f.call); err != nil {
		return ctx, err
	}
	if c.Size() == 1 {
		return ctx, nil
	}
	if commlink.Native(c) != nil {
		pending := new(fingerprint) // not &f, which would move every call's f to the heap
		*pending = f
		return context.WithValue(ctx, pendingCheckKey{}, pending), nil
	}
	return ctx, checkExchange(ctx, c, f)
}

// checkPending runs the check that checkOrDefer left to this call, if any, when the call runs
// gompi's algorithm. On a mismatch the caller returns it at once (every rank does). Any other
// failure of the exchange (ctx ended first: the exchange goes on in the background) becomes
// the run's: the caller's walk then sends aborts in place of data, as after any failure.
func (r *run) checkPending() error {
	if r.pending == nil {
		return nil
	}
	err := r.checkNative()
	if errors.Is(err, ErrMismatch) {
		return err
	}
	if err != nil {
		r.quit = r.quit || isCtxErr(err)
		r.fail(err)
	}
	return nil
}

// checkNative makes the pending check alone as a native call (nativeChecked with nothing after
// it) and returns its outcome.
func (r *run) checkNative() error {
	err, _ := r.callNative(nil, nil, func(_, _ []byte) error { return nil })
	return err
}

// nativeChecked returns native, the native call of a run whose check checkOrDefer deferred,
// preceded by that check over the backend's native Allgather: one unit for callNative, so that
// when ctx ends both go on in the background, and the call is made only if every rank agrees.
// The records are encoded here, as the caller's counts are free once callNative returns.
func (r *run) nativeChecked(native func(in, out []byte) error) func(in, out []byte) error {
	f := *r.pending
	r.pending = nil
	c, nat, p := r.c, commlink.Native(r.c), r.size
	mine := make([]byte, recordSize)
	f.encode(mine, nextSeq(c), r.me, p)
	var vectors []byte
	if f.vec != vecNone {
		vectors = f.vectors(r.me, p)
	}
	name := f.call
	return func(in, out []byte) error {
		all := make([]byte, p*recordSize)
		if err := nat.Allgather(mine, all); err != nil {
			return fmt.Errorf("collectives: %s check: %w", name, err)
		}
		err := judge(c, all, func(vall []byte) error {
			if err := nat.Allgather(vectors, vall); err != nil {
				return fmt.Errorf("collectives: %s check: %w", name, err)
			}
			return nil
		})
		if err != nil {
			return err
		}
		return native(in, out)
	}
}

// checkExchange runs the check of f on c (p > 1) with point-to-point on the collective context.
func checkExchange(ctx context.Context, c *comm.Comm, f fingerprint) error {
	p, me := c.Size(), c.Rank()
	bp := checkBufs.Get().(*[]byte)
	if cap(*bp) < (p+1)*recordSize {
		*bp = make([]byte, (p+1)*recordSize)
	}
	mine, all := (*bp)[:recordSize], (*bp)[recordSize:(p+1)*recordSize]
	f.encode(mine, nextSeq(c), me, p)
	if err := exchangeChecks(ctx, c, f.call, mine, all); err != nil {
		return err // *bp is dropped: a failed exchange may leave a receive into it
	}
	defer checkBufs.Put(bp)
	return judge(c, all, func(vall []byte) error { return exchangeChecks(ctx, c, f.call, f.vectors(me, p), vall) })
}

// judge compares every rank's record, in all, and returns the mismatch every rank finds, or
// nil. When the counts' hashes differ, gather fills vall with every rank's counts (a second
// exchange, which every rank makes alike) to say where.
func judge(c *comm.Comm, all []byte, gather func(vall []byte) error) error {
	p := c.Size()
	same := sameRecords(all, p)
	if same && vecCheck(all[recVec]) == vecNone {
		return nil
	}
	recs := make([]checkRecord, p)
	for i := range recs {
		recs[i] = decodeRecord(all[i*recordSize:][:recordSize])
	}
	if !same {
		if m := firstMismatch(recs); m != nil {
			return m.err(c)
		}
	}
	if !vectorsDiffer(recs) {
		return nil
	}
	n := vecLen(recs[0].vec, p)
	vall := make([]byte, p*n*8)
	if err := gather(vall); err != nil {
		return err
	}
	vecs := make([][]int, p)
	for i := range vecs {
		vecs[i] = make([]int, n)
		for j := range n {
			vecs[i][j] = int(int64(binary.LittleEndian.Uint64(vall[(i*n+j)*8:])))
		}
	}
	return vectorMismatch(recs, vecs).err(c)
}

// checkBufs holds the buffers of checkExchange: a rank's record, then every rank's.
var checkBufs = sync.Pool{New: func() any { return new([]byte) }}

// sameRecords reports whether the p records in all are equal in what every rank must pass
// alike (their first recShared bytes).
func sameRecords(all []byte, p int) bool {
	for i := 1; i < p; i++ {
		if string(all[i*recordSize:][:recShared]) != string(all[:recShared]) {
			return false
		}
	}
	return true
}

// exchangeChecks gathers every rank's mine into all, in rank order, on c's collective context.
func exchangeChecks(ctx context.Context, c *comm.Comm, call string, mine, all []byte) error {
	name, ok := checkNames[call]
	if !ok {
		name = call + " check"
	}
	r := newRun(ctx, c, name, kindCheck)
	defer r.free()
	r.begin()
	r.alg = algBruck
	allgatherBruck(r, mine, all)
	return r.end()
}

// checkNames are the names of the exchanges in errors and traces ("Bcast check"), made once.
var checkNames = func() map[string]string {
	m := map[string]string{}
	for _, n := range append(kindNames[1:], "BcastValue", "ScatterValue", "GatherValue", "AllgatherValue", "AllreduceValue", "ReduceValue", "ScanValue") {
		m[n] = n + " check"
	}
	return m
}()

// nextSeq returns the sequence number of a checked call on c: 1 for the first.
func nextSeq(c *comm.Comm) uint64 {
	st := stateOf(c, true)
	st.mu.Lock()
	defer st.mu.Unlock()
	st.seq++
	return st.seq
}

// commName names c in the checker's errors: "world", or its size and context id, which every
// rank shares (the Go engine's; a backend without one, OpenMPI, gets the size alone).
func commName(c *comm.Comm) string {
	if t, ok := commlink.Backend(c).(tracer); ok {
		_, id := t.Tracing()
		if id == 0 {
			return "world"
		}
		return fmt.Sprintf("a communicator of %d ranks (context %d)", c.Size(), id)
	}
	return fmt.Sprintf("a communicator of %d ranks", c.Size())
}
