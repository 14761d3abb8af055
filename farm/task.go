package farm

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"reflect"
	"runtime/debug"
	"slices"
	"sync"
	"unsafe"

	"github.com/gompi/gompi/comm"
)

// Tasks is a registry of task functions by name. The coordinator sends a task's name and its
// arguments, never code, so every rank must register the same tasks under the same names before
// Run (Run checks that they did). Register them in main before the farm starts, or in an init
// function, on every rank alike.
//
// The zero value is an empty registry, ready to use. Register may be called from several
// goroutines at once; a registry may be given to several farms.
type Tasks struct {
	mu     sync.Mutex // guards byName and err
	byName map[string]*entry
	err    error // the first bad registration, which Run reports
}

// entry is one registered task, its types erased for the worker's loop.
type entry struct {
	name   string
	sig    string // "argument type -> result type", for Run's check that ranks agree
	handle any    // the *Task[A, R] that Register returned
	// recv receives the batch of arguments for this task that st describes.
	recv func(c *comm.Comm, root int, st comm.Status) (workBatch, error)
}

// Task is a registered task function taking an A and returning an R, as Register returns it.
// Map and MapUnordered take it, so that arguments and results are typed at compile time.
// A Task is immutable and safe for concurrent use.
type Task[A, R any] struct {
	name       string
	tasks      *Tasks
	fn         func(context.Context, A) (R, error)
	rawA, rawR bool // A, R are pointer-free: they travel as memory (codec.go)
	// A, R are slices of pointer-free elements of these sizes: they travel as lengths and
	// memory (codec.go)
	sliceA, sliceR bool
	esA, esR       int
}

// Name returns the name the task was registered under.
func (t *Task[A, R]) Name() string { return t.name }

// Register adds fn to ts under name and returns the task to give to Map. fn is called with
// the context of the map (it ends when the map is cancelled or fails, so long tasks should
// watch it) and one argument; it must not modify the argument, which on the coordinator is the
// caller's own element of the slice given to Map. An error or a panic in fn becomes the task's
// *TaskError.
//
// A and R travel between ranks as Go values (comm's SendValue): anything encoding/gob can
// encode. Plain memory (numbers, and arrays and structs of them) and slices of it (a []float64
// argument or result) travel raw, a batch at a time, without encoding.
//
// Registering an empty name, a nil function or a name twice is an error, which Run returns.
func Register[A, R any](ts *Tasks, name string, fn func(ctx context.Context, arg A) (R, error)) *Task[A, R] {
	t := &Task[A, R]{name: name, tasks: ts, fn: fn, rawA: pointerFree(reflect.TypeFor[A]()), rawR: pointerFree(reflect.TypeFor[R]())}
	t.esA, t.sliceA = plainSlice(reflect.TypeFor[A]())
	t.esR, t.sliceR = plainSlice(reflect.TypeFor[R]())
	e := &entry{
		name:   name,
		sig:    fmt.Sprintf("%v -> %v", reflect.TypeFor[A](), reflect.TypeFor[R]()),
		handle: t,
		recv: func(c *comm.Comm, root int, st comm.Status) (workBatch, error) {
			return recvBatch(t, c, root, st)
		},
	}
	var bad error
	switch {
	case name == "":
		bad = fmt.Errorf("farm: Register: empty task name")
	case fn == nil:
		bad = fmt.Errorf("farm: Register %q: nil function", name)
	}
	ts.add(e, bad)
	return t
}

// RegisterFunc is Register for a function that needs no context and cannot fail.
func RegisterFunc[A, R any](ts *Tasks, name string, fn func(arg A) R) *Task[A, R] {
	var wrapped func(context.Context, A) (R, error)
	if fn != nil {
		wrapped = func(_ context.Context, a A) (R, error) { return fn(a), nil }
	}
	return Register(ts, name, wrapped)
}

func (ts *Tasks) add(e *entry, bad error) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if bad == nil && ts.byName[e.name] != nil {
		bad = fmt.Errorf("farm: Register: task %q registered twice", e.name)
	}
	if bad != nil {
		if ts.err == nil {
			ts.err = bad
		}
		return
	}
	if ts.byName == nil {
		ts.byName = map[string]*entry{}
	}
	ts.byName[e.name] = e
}

// lookup returns the entry registered under name, or nil.
func (ts *Tasks) lookup(name string) *entry {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.byName[name]
}

// check returns the first bad registration, and a fingerprint of the names and types
// registered, equal on two ranks when they registered the same tasks.
func (ts *Tasks) check() (uint64, error) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	names := make([]string, 0, len(ts.byName))
	for name := range ts.byName {
		names = append(names, name)
	}
	slices.Sort(names)
	h := fnv.New64a()
	for _, name := range names {
		fmt.Fprintf(h, "%s\x00%s\x00", name, ts.byName[name].sig)
	}
	return h.Sum64(), ts.err
}

// outcome is how one task call ended, when it did not return normally.
type outcome struct {
	err      error
	panicked bool
	stack    string
}

// call runs fn on a, turning a panic into an outcome.
func call[A, R any](ctx context.Context, fn func(context.Context, A) (R, error), a A) (r R, bad *outcome) {
	defer func() {
		if p := recover(); p != nil {
			bad = &outcome{err: fmt.Errorf("%v", p), panicked: true, stack: string(debug.Stack())}
		}
	}()
	r, err := fn(ctx, a)
	if err != nil {
		return r, &outcome{err: err}
	}
	return r, nil
}

// workBatch is a batch of tasks received by a worker, its types erased.
type workBatch interface {
	// run runs the tasks in order and returns the failures, by offset in the batch.
	run(ctx context.Context) []wireErr
	// reply sends the results (zero where a task failed) with h to the coordinator, as the
	// reply to batch seq.
	reply(ctx context.Context, c *comm.Comm, root, seq int, h replyHdr) error
}

// remoteBatch is a batch of arguments of type A for task t, received from the coordinator.
type remoteBatch[A, R any] struct {
	t        *Task[A, R]
	start, n int
	args     []A
	results  []R
}

// recvBatch receives the batch st describes, raw or as a value (its tag says which).
func recvBatch[A, R any](t *Task[A, R], c *comm.Comm, root int, st comm.Status) (workBatch, error) {
	b := &remoteBatch[A, R]{t: t}
	if st.Tag&valueBit == 0 {
		buf := make([]byte, st.Bytes)
		if _, err := comm.Recv(c, buf, root, st.Tag); err != nil {
			return nil, err
		}
		var err error
		switch {
		case t.rawA:
			if b.start, b.n, err = unpackBatchHdr(buf, int(unsafe.Sizeof(*new(A)))); err != nil {
				return nil, fmt.Errorf("farm: task %q: %w", t.name, err)
			}
			b.args, err = fromMemory[A](buf[rawBatchHdr:], b.n)
		case t.sliceA:
			if b.start, b.n, err = unpackBatchHdr(buf, -1); err != nil {
				return nil, fmt.Errorf("farm: task %q: %w", t.name, err)
			}
			if b.args, err = unpackSlices[A](buf[rawBatchHdr:], b.n, t.esA); err != nil {
				err = fmt.Errorf("farm: a batch of task %q: %w", t.name, err)
			}
		default:
			return nil, fmt.Errorf("farm: a raw batch for task %q, whose arguments are not plain memory", t.name)
		}
		return b, err
	}
	var m batchMsg[A]
	if _, err := c.RecvValue(&m, root, st.Tag); err != nil {
		return nil, err
	}
	b.start, b.n, b.args = m.Hdr.Start, m.Hdr.N, m.Args
	if b.n == 1 && len(m.Args) == 0 {
		b.args = []A{m.One}
	}
	if b.n < 1 || b.start < 0 || len(b.args) != b.n {
		return nil, fmt.Errorf("farm: batch of task %q: %d tasks from %d with %d arguments", t.name, m.Hdr.N, m.Hdr.Start, len(m.Args))
	}
	return b, nil
}

func (b *remoteBatch[A, R]) run(ctx context.Context) []wireErr {
	b.results = make([]R, b.n)
	var errs []wireErr
	for i, a := range b.args {
		r, bad := call(ctx, b.t.fn, a)
		if bad != nil {
			errs = append(errs, wireErr{Offset: i, Msg: bad.err.Error(), Panic: bad.panicked, Stack: bad.stack})
			continue
		}
		b.results[i] = r
	}
	return errs
}

func (b *remoteBatch[A, R]) reply(ctx context.Context, c *comm.Comm, root, seq int, h replyHdr) error {
	if b.t.sliceR && len(h.Errs) == 0 {
		buf := packSlices(binary.LittleEndian.AppendUint64(nil, uint64(h.Elapsed)), b.results, b.t.esR)
		return comm.SendContext(ctx, c, buf, root, seq)
	}
	if b.t.rawR && len(h.Errs) == 0 {
		m := memory(b.results)
		buf := make([]byte, rawReplyHdr+len(m))
		binary.LittleEndian.PutUint64(buf, uint64(h.Elapsed))
		copy(buf[rawReplyHdr:], m)
		return comm.SendContext(ctx, c, buf, root, seq)
	}
	msg := replyMsg[R]{Hdr: h}
	switch {
	case b.t.rawR:
		msg.Raw = memory(b.results)
	case len(b.results) == 1:
		msg.One = b.results[0]
	default:
		msg.Results = b.results
	}
	return c.SendValueContext(ctx, &msg, root, seq|valueBit)
}
