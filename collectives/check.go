package collectives

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
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

// A record is a fingerprint on the wire: recordSize bytes, little-endian, at these offsets.
// The bytes before recShared hold what every rank must pass alike, those from it what differs
// by rank. The collective's and the op's names fit their fields (a test checks); the element
// type's is cut at elemField-1 bytes, its last byte then 1 (it is compared by its hash).
const (
	recSeq         = 0  // uint64
	recRoot        = 8  // int64
	recCount       = 16 // int64
	recESize       = 24 // int64
	recElemH       = 32 // uint64: FNV-1a of the element type's name
	recCommutative = 40 // byte: 1 if the op commutes
	recVec         = 41 // byte: the vecCheck
	recCall        = 42 // callField bytes: the collective's name
	recOp          = 56 // opField bytes: the op's name
	recElem        = 64 // elemField bytes: the element type's name
	recShared      = 96
	recMine        = 96  // int64
	recVecA        = 104 // uint64: hash of the counts (of the send counts for Alltoallv)
	recVecB        = 112 // uint64: hash of Alltoallv's recv counts
	recValid       = 120 // byte: 1 if the counts are well formed (else the call's own checks fail)
	recordSize     = 128

	callField = recOp - recCall
	opField   = recElem - recOp
	elemField = recShared - recElem
)

// checkRecord is a decoded fingerprint.
type checkRecord struct {
	seq                  uint64
	root, count, mine    int
	esize                int
	elemHash, vecA, vecB uint64
	commutative, valid   bool
	vec                  vecCheck
	call, op, elem       string
}

// encode writes f into b (recordSize bytes) for call number seq of rank me of p.
func (f *fingerprint) encode(b []byte, seq uint64, me, p int) {
	clear(b)
	le := binary.LittleEndian
	le.PutUint64(b[recSeq:], seq)
	le.PutUint64(b[recRoot:], uint64(int64(f.root)))
	le.PutUint64(b[recCount:], uint64(int64(f.count)))
	le.PutUint64(b[recMine:], uint64(int64(f.mine)))
	le.PutUint64(b[recESize:], uint64(int64(f.esize)))
	le.PutUint64(b[recElemH:], fnv(f.elem))
	if f.commutative {
		b[recCommutative] = 1
	}
	if f.vecValid(me, p) {
		b[recValid] = 1
		var a, bb uint64
		switch f.vec {
		case vecGatherv, vecScatterv:
			if me == f.root {
				a = hashCounts(f.a)
			}
		case vecAllgatherv, vecReduceScatter:
			a = hashCounts(f.a)
		case vecAlltoallv:
			for j, n := range f.a {
				a += mix(me, j, n)
			}
			for i, n := range f.b {
				bb += mix(i, me, n)
			}
		}
		le.PutUint64(b[recVecA:], a)
		le.PutUint64(b[recVecB:], bb)
	}
	b[recVec] = byte(f.vec)
	copy(b[recCall:recCall+callField], f.call)
	copy(b[recOp:recOp+opField], f.op)
	if copy(b[recElem:recElem+elemField-1], f.elem) < len(f.elem) {
		b[recElem+elemField-1] = 1 // cut
	}
}

// vecValid reports whether f's counts vectors are well formed for rank me of p: p counts, none
// negative, where the call reads them. A malformed one is an argument error the call reports
// on that rank as without the checker; the checker leaves the counts alone then.
func (f *fingerprint) vecValid(me, p int) bool {
	ok := func(v []int) bool {
		return len(v) == p && !slices.ContainsFunc(v, func(n int) bool { return n < 0 })
	}
	switch f.vec {
	case vecGatherv, vecScatterv:
		return me != f.root || ok(f.a)
	case vecAllgatherv, vecReduceScatter:
		return ok(f.a)
	case vecAlltoallv:
		return ok(f.a) && ok(f.b)
	}
	return true
}

// vecLen is the length of each rank's vectors in the second exchange.
func vecLen(v vecCheck, p int) int {
	if v == vecAlltoallv {
		return 2 * p
	}
	return p
}

// vectors encodes f's counts for the second exchange: vecLen entries (zeros where a rank has
// none: Gatherv's and Scatterv's ranks other than the root).
func (f *fingerprint) vectors(me, p int) []byte {
	n := vecLen(f.vec, p)
	b := make([]byte, n*8)
	v := f.a
	if (f.vec == vecGatherv || f.vec == vecScatterv) && me != f.root {
		v = nil
	}
	if f.vec == vecAlltoallv {
		v = append(slices.Clone(f.a), f.b...)
	}
	for i, x := range v {
		if i < n {
			binary.LittleEndian.PutUint64(b[i*8:], uint64(int64(x)))
		}
	}
	return b
}

func decodeRecord(b []byte) checkRecord {
	le := binary.LittleEndian
	i64 := func(off int) int { return int(int64(le.Uint64(b[off:]))) }
	str := func(off, n int) string {
		s := b[off : off+n]
		if i := slices.Index(s, 0); i >= 0 {
			return string(s[:i])
		}
		return string(s)
	}
	elem := str(recElem, elemField-1)
	if b[recElem+elemField-1] != 0 {
		elem += "…"
	}
	return checkRecord{
		seq: le.Uint64(b[recSeq:]), root: i64(recRoot), count: i64(recCount), mine: i64(recMine),
		esize: i64(recESize), elemHash: le.Uint64(b[recElemH:]),
		vecA: le.Uint64(b[recVecA:]), vecB: le.Uint64(b[recVecB:]),
		commutative: b[recCommutative] != 0, valid: b[recValid] != 0,
		vec: vecCheck(b[recVec]), call: str(recCall, callField), op: str(recOp, opField), elem: elem,
	}
}

// fnv is the 64-bit FNV-1a hash of s.
func fnv(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// mix hashes count n at position (i, j) of a counts matrix (j = -1 for a vector): a sum of
// mixes over positions changes when any count does (but with probability 2⁻⁶⁴).
func mix(i, j, n int) uint64 {
	h := fmix(uint64(i) + 0x9e3779b97f4a7c15)
	h = fmix(h ^ uint64(j))
	return fmix(h ^ uint64(n))
}

// fmix is MurmurHash3's 64-bit finalizer, a bijection that spreads every input bit.
func fmix(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

// hashCounts hashes a counts vector (see mix).
func hashCounts(v []int) uint64 {
	var h uint64
	for i, n := range v {
		h += mix(i, -1, n)
	}
	return h
}

// mismatch is what every rank finds: where the ranks differ, said the same way on each.
type mismatch struct {
	call     string // "" when the collectives themselves differ
	seq      uint64 // 0 when the sequence numbers differ
	msg      string
	sentinel error
}

// err is the mismatch's error on communicator c.
func (m *mismatch) err(c *comm.Comm) error {
	call := m.call
	if call == "" {
		call = "collective"
	}
	if m.seq != 0 {
		call += " #" + strconv.FormatUint(m.seq, 10)
	}
	return &mismatchError{msg: fmt.Sprintf("collectives: %s on %s: %s", call, commName(c), m.msg), sentinel: m.sentinel}
}

// firstMismatch compares the records field by field and describes the first field that
// differs, or returns nil.
func firstMismatch(recs []checkRecord) *mismatch {
	r0 := recs[0]
	m := &mismatch{call: r0.call, seq: r0.seq, sentinel: comm.ErrInvalidArgument}
	// field describes the field whose value (a comparable key) is key(r) if the ranks differ
	// in it, with say giving a rank's value after "rank i" and "ranks i, j".
	field := func(key func(r *checkRecord) any, say func(r *checkRecord) (one, many string)) bool {
		for i := range recs {
			if key(&recs[i]) != key(&r0) {
				m.msg = groups(len(recs), func(i int) any { return key(&recs[i]) }, func(i int) (string, string) { return say(&recs[i]) })
				return true
			}
		}
		return false
	}
	passes := func(s string) (string, string) { return "passes " + s, "pass " + s }
	switch {
	case field(func(r *checkRecord) any { return r.call }, func(r *checkRecord) (string, string) {
		return "calls " + r.call, "call " + r.call
	}):
		m.call = ""
	case field(func(r *checkRecord) any { return r.seq }, func(r *checkRecord) (string, string) {
		return fmt.Sprintf("is at collective #%d", r.seq), fmt.Sprintf("are at collective #%d", r.seq)
	}):
		m.seq = 0
	case field(func(r *checkRecord) any { return r.root }, func(r *checkRecord) (string, string) {
		return passes(fmt.Sprintf("root %d", r.root))
	}):
		m.sentinel = comm.ErrInvalidRoot
	case field(func(r *checkRecord) any { return [2]uint64{r.elemHash, uint64(r.esize)} }, func(r *checkRecord) (string, string) {
		return passes(fmt.Sprintf("%s (%d bytes)", r.elem, r.esize))
	}):
	case field(func(r *checkRecord) any { return r.count }, func(r *checkRecord) (string, string) {
		return passes(elements(r.count))
	}):
		m.sentinel = comm.ErrSizeMismatch
	case field(func(r *checkRecord) any { return opKey{r.op, r.commutative} }, func(r *checkRecord) (string, string) {
		return passes(opKey{r.op, r.commutative}.String())
	}):
	default:
		return nil
	}
	return m
}

// opKey is an operation as the checker compares it.
type opKey struct {
	name        string
	commutative bool
}

func (o opKey) String() string {
	switch {
	case o.name == "nil":
		return "a nil Op"
	case o.name == "func":
		return "a function"
	case o.name == "nil func":
		return "a nil function"
	case o.name != "user op":
		return "op " + o.name
	case o.commutative:
		return "a commutative user op"
	}
	return "a non-commutative user op"
}

// elements says "1 element" or "n elements".
func elements(n int) string {
	if n == 1 {
		return "1 element"
	}
	return strconv.Itoa(n) + " elements"
}

// maxGroups bounds the groups of ranks a message lists; maxRanks the ranks it names per group.
const (
	maxGroups = 3
	maxRanks  = 8
)

// groups says how the ranks' values of one field differ: ranks 0..p-1 grouped by key(i), the
// smallest groups first (the odd ones out), ties in order of their lowest rank, each as
// "rank 1 passes root 1" or "ranks 0, 2 pass root 0" (say(i) gives the words after "rank i" and
// after "ranks i, j" for a rank of the group); beyond maxGroups+1 groups, the first maxGroups
// and how many ranks and values are left.
func groups(p int, key func(i int) any, say func(i int) (one, many string)) string {
	var order []any
	members := map[any][]int{}
	for i := range p {
		k := key(i)
		if _, ok := members[k]; !ok {
			order = append(order, k)
		}
		members[k] = append(members[k], i)
	}
	slices.SortStableFunc(order, func(a, b any) int { return len(members[a]) - len(members[b]) })
	shown := len(order)
	if shown > maxGroups+1 { // the last line would name one group: name it instead
		shown = maxGroups
	}
	var parts []string
	rest := 0
	for n, k := range order {
		ranks := members[k]
		if n >= shown {
			rest += len(ranks)
			continue
		}
		one, many := say(ranks[0])
		if len(ranks) == 1 {
			parts = append(parts, rankList(ranks)+" "+one)
		} else {
			parts = append(parts, rankList(ranks)+" "+many)
		}
	}
	if rest > 0 {
		parts = append(parts, fmt.Sprintf("and %d more ranks pass %d other values", rest, len(order)-shown))
	}
	return strings.Join(parts, ", ")
}

// rankList names ranks (ascending): "rank 3", "ranks 0, 2", "ranks 0-4, 7"; runs of three or
// more as ranges, at most maxRanks items, then how many ranks in all.
func rankList(ranks []int) string {
	if len(ranks) == 1 {
		return "rank " + strconv.Itoa(ranks[0])
	}
	var items []string
	for i := 0; i < len(ranks); {
		j := i
		for j+1 < len(ranks) && ranks[j+1] == ranks[j]+1 {
			j++
		}
		switch {
		case j-i >= 2:
			items = append(items, fmt.Sprintf("%d-%d", ranks[i], ranks[j]))
		case j > i:
			items = append(items, strconv.Itoa(ranks[i]), strconv.Itoa(ranks[j]))
		default:
			items = append(items, strconv.Itoa(ranks[i]))
		}
		i = j + 1
	}
	if len(items) > maxRanks {
		return fmt.Sprintf("ranks %s, … (%d ranks)", strings.Join(items[:maxRanks], ", "), len(ranks))
	}
	return "ranks " + strings.Join(items, ", ")
}

// vectorsDiffer reports whether the hashes of the counts in recs show a mismatch. Every rank
// decides alike, from the same records, whether to exchange the vectors themselves.
func vectorsDiffer(recs []checkRecord) bool {
	p := len(recs)
	for i := range recs {
		if !recs[i].valid {
			return false // a malformed vector: the call itself fails on that rank
		}
	}
	var mines uint64
	for i := range recs {
		mines += mix(i, -1, recs[i].mine)
	}
	switch recs[0].vec {
	case vecGatherv, vecScatterv:
		root := recs[0].root
		return root >= 0 && root < p && recs[root].vecA != mines
	case vecAllgatherv:
		return slices.ContainsFunc(recs, func(r checkRecord) bool { return r.vecA != mines })
	case vecReduceScatter:
		return slices.ContainsFunc(recs, func(r checkRecord) bool { return r.vecA != recs[0].vecA })
	case vecAlltoallv:
		var a, b uint64
		for _, r := range recs {
			a += r.vecA
			b += r.vecB
		}
		return a != b
	}
	return false
}

// vectorMismatch describes the first difference in the counts vecs[i] of every rank i (see
// fingerprint.vectors).
func vectorMismatch(recs []checkRecord, vecs [][]int) *mismatch {
	p := len(recs)
	r0 := recs[0]
	m := &mismatch{call: r0.call, seq: r0.seq, sentinel: comm.ErrSizeMismatch}
	more := func(n int, what string) string {
		if n == 0 {
			return ""
		}
		return fmt.Sprintf(" (and %d more %s)", n, what)
	}
	// alike describes the first position at which the ranks' vectors differ, or returns "".
	alike := func(what string) string {
		for k := range p {
			if slices.ContainsFunc(vecs, func(v []int) bool { return v[k] != vecs[0][k] }) {
				return groups(p, func(i int) any { return vecs[i][k] }, func(i int) (string, string) {
					s := fmt.Sprintf("%s[%d] = %d", what, k, vecs[i][k])
					return "passes " + s, "pass " + s
				})
			}
		}
		return ""
	}
	switch r0.vec {
	case vecGatherv, vecScatterv:
		root := r0.root
		var first, n int
		for i := range p {
			if vecs[root][i] != recs[i].mine {
				if n == 0 {
					first = i
				}
				n++
			}
		}
		if n > 0 {
			i, want := first, vecs[root][first]
			if r0.vec == vecGatherv {
				m.msg = fmt.Sprintf("rank %d sends %s, root %d expects %d (recv.Counts[%d])%s", i, elements(recs[i].mine), root, want, i, more(n-1, "ranks"))
			} else {
				m.msg = fmt.Sprintf("root %d sends %s to rank %d (send.Counts[%d]), rank %d expects %d (len(recv))%s", root, elements(want), i, i, i, recs[i].mine, more(n-1, "ranks"))
			}
			return m
		}
	case vecAllgatherv:
		if m.msg = alike("recv.Counts"); m.msg != "" {
			return m
		}
		for i := range p {
			if vecs[0][i] != recs[i].mine {
				m.msg = fmt.Sprintf("rank %d sends %s, every rank's recv.Counts[%d] = %d", i, elements(recs[i].mine), i, vecs[0][i])
				return m
			}
		}
	case vecReduceScatter:
		if m.msg = alike("send.Counts"); m.msg != "" {
			return m
		}
	case vecAlltoallv:
		var fi, fj, n int
		for i := range p {
			for j := range p {
				if vecs[i][j] != vecs[j][p+i] {
					if n == 0 {
						fi, fj = i, j
					}
					n++
				}
			}
		}
		if n > 0 {
			m.msg = fmt.Sprintf("rank %d sends %s to rank %d (send.Counts[%d]), rank %d expects %d (recv.Counts[%d])%s",
				fi, elements(vecs[fi][fj]), fj, fj, fj, vecs[fj][p+fi], fi, more(n-1, "pairs"))
			return m
		}
	}
	// The hashes differed and the vectors do not: cannot happen, but fail alike everywhere.
	m.msg = "the counts differ between ranks"
	return m
}
