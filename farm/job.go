package farm

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"iter"
	"time"

	"github.com/gompi/gompi/comm"
)

// Result is one task's result, as MapUnordered yields it.
type Result[R any] struct {
	Index int // the index of the task's argument in the slice given to MapUnordered
	Value R   // the task's result; the zero value if it failed
	Rank  int // the rank that ran it
}

// Map runs t on every element of args, spread over the farm's workers as they become free, and
// returns the results in the order of args (like multiprocessing.Pool.map).
//
// It returns at the first failure, with a nil slice: a task's error or panic (*TaskError), a
// worker's death (*DeathError, unless Options.Retries lets its tasks run elsewhere), or the end
// of ctx. The map's other tasks are then dropped, and those running are cancelled through
// their context; their results, when they come, are thrown away.
func Map[A, R any](ctx context.Context, f *Farm, t *Task[A, R], args []A) ([]R, error) {
	out := make([]R, len(args))
	for r, err := range MapUnordered(ctx, f, t, args) {
		if err != nil {
			return nil, err
		}
		out[r.Index] = r.Value
	}
	return out, nil
}

// MapUnordered runs t on every element of args like Map and yields each result as it arrives,
// in no particular order (like multiprocessing.Pool.imap_unordered):
//
//	for r, err := range farm.MapUnordered(ctx, f, task, args) {
//		if err != nil {
//			return err
//		}
//		fmt.Println(r.Index, r.Value, "from rank", r.Rank)
//	}
//
// A task that fails is yielded with its *TaskError (r.Index and r.Rank say which task and
// where), and the other tasks go on. A failure of the map itself (a worker's death without
// retries, the end of ctx, a farm that is closed) is yielded once, with r.Index -1, and ends
// the sequence. Breaking out of the loop ends the map as a failure does: its other tasks are
// dropped or cancelled.
func MapUnordered[A, R any](ctx context.Context, f *Farm, t *Task[A, R], args []A) iter.Seq2[Result[R], error] {
	return func(yield func(Result[R], error) bool) {
		j, err := start(ctx, f, t, args)
		if err != nil {
			yield(Result[R]{Index: -1, Rank: -1}, err)
			return
		}
		defer j.end()
		var got []delivered[R]
		for {
			var done bool
			got, done, err = j.wait(ctx, got[:0])
			for _, d := range got {
				var err error
				if d.err != nil {
					err = d.err
				}
				if !yield(d.r, err) {
					return
				}
			}
			if err != nil {
				yield(Result[R]{Index: -1, Rank: -1}, err)
				return
			}
			if done {
				return
			}
		}
	}
}

// job is a map in progress, its types erased, as the coordinator's goroutines see it. The
// methods marked "f.mu" are called with the farm's lock held.
type job interface {
	id() uint64
	name() string
	ended() bool                           // f.mu
	hasWork() bool                         // f.mu: tasks wait to be handed out
	take(workers int) span                 // f.mu: the next batch for a worker
	fail(err error)                        // f.mu: end the map with err
	lost(spans []span, d *DeathError) bool // f.mu: these tasks' worker died; retried?
	deliver(s span, rank int, rep any) int // f.mu: a worker's reply (dropped once the map failed); returns the tasks done
	send(c *comm.Comm, dest, tag int, s span) error
	recv(ctx context.Context, c *comm.Comm, src int, st comm.Status, s span) (any, error)
	runLocal(s span, rank int)
	progressed(n int)
}

// delivered is a task's result or error, waiting for the map's caller.
type delivered[R any] struct {
	r   Result[R]
	err *TaskError
}

// mapJob is one call of Map or MapUnordered.
type mapJob[A, R any] struct {
	f      *Farm
	mapID  uint64
	t      *Task[A, R]
	args   []A
	ctx    context.Context // ends with the map: local tasks watch it
	cancel context.CancelFunc
	bar    *bar
	wake   chan struct{} // capacity 1: the caller has something to look at

	// Guarded by f.mu.
	next     int         // the first task never handed out
	redo     []span      // tasks to hand out again (their worker died)
	tries    map[int]int // how often each task's worker died under it
	done     int
	isEnded  bool
	err      error
	queue    []delivered[R]
	ranTasks int           // tasks whose time is in ranTime
	ranTime  time.Duration // time the workers spent on them
}

// start checks t, waits for the map before it to end, and makes t's map the farm's current one.
func start[A, R any](ctx context.Context, f *Farm, t *Task[A, R], args []A) (*mapJob[A, R], error) {
	if f == nil || t == nil {
		return nil, errors.New("farm: Map needs a farm and a task (got nil)")
	}
	if e := f.tasks.lookup(t.name); e == nil || e.handle != any(t) {
		return nil, fmt.Errorf("farm: task %q: %w in the Tasks given to Run", t.name, ErrNotRegistered)
	}
	select {
	case f.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("farm: %s: waiting for the map before it: %w", t.name, ctx.Err())
	}
	j := &mapJob[A, R]{f: f, t: t, args: args, wake: make(chan struct{}, 1)}
	j.ctx, j.cancel = context.WithCancel(ctx)
	f.mu.Lock()
	var err error
	switch {
	case f.closing:
		err = fmt.Errorf("farm: %s: %w (Map after Run's body returned)", t.name, ErrClosed)
	case len(args) > 0 && f.workersLocked() == 0:
		err = fmt.Errorf("farm: %s: %w (every worker died and the coordinator does not run tasks; see Options.RootWorks)", t.name, ErrNoWorkers)
	}
	if err == nil {
		f.nextMap++
		j.mapID = f.nextMap
		j.bar = f.shown.start(t.name, len(args)) // before anyone can deliver
		if len(args) > 0 {
			f.job = j
			f.cond.Broadcast()
		}
	}
	f.mu.Unlock()
	if err != nil {
		j.cancel()
		<-f.sem
		return nil, err
	}
	return j, nil
}

// end ends the map, finished or not: workers still holding its batches are told to cancel
// them, local tasks see the map's context end, and the next map may start.
func (j *mapJob[A, R]) end() {
	f := j.f
	f.mu.Lock()
	complete := j.err == nil && j.done == len(j.args)
	j.isEnded = true
	if f.job == job(j) {
		f.job = nil
	}
	for _, w := range f.remotes {
		for _, s := range w.out {
			if s.j == job(j) && !w.dead {
				w.cancels = append(w.cancels, j.mapID)
				break
			}
		}
	}
	f.cond.Broadcast()
	f.mu.Unlock()
	j.cancel()
	j.bar.finish(complete)
	<-f.sem
}

// wait appends to buf the results that have arrived, waiting for some if there are none; done
// is true once every task has delivered or the map has failed (err).
func (j *mapJob[A, R]) wait(ctx context.Context, buf []delivered[R]) (_ []delivered[R], done bool, err error) {
	f := j.f
	for {
		f.mu.Lock()
		switch {
		case len(j.queue) > 0:
			buf = append(buf, j.queue...)
			clear(j.queue)
			j.queue = j.queue[:0]
			f.mu.Unlock()
			return buf, false, nil
		case j.err != nil:
			err := j.err
			f.mu.Unlock()
			return buf, true, err
		case j.done == len(j.args):
			f.mu.Unlock()
			return buf, true, nil
		}
		done := j.done
		f.mu.Unlock()
		select {
		case <-j.wake:
		case <-ctx.Done():
			return buf, true, fmt.Errorf("farm: %s: %d of %d tasks done when the context ended: %w", j.t.name, done, len(j.args), ctx.Err())
		}
	}
}

// signal wakes the map's caller. Caller holds f.mu.
func (j *mapJob[A, R]) signal() {
	select {
	case j.wake <- struct{}{}:
	default:
	}
}

func (j *mapJob[A, R]) id() uint64   { return j.mapID }
func (j *mapJob[A, R]) name() string { return j.t.name }
func (j *mapJob[A, R]) ended() bool  { return j.isEnded }

func (j *mapJob[A, R]) hasWork() bool {
	return !j.isEnded && j.err == nil && (len(j.redo) > 0 || j.next < len(j.args))
}

func (j *mapJob[A, R]) take(workers int) span {
	var s span
	if len(j.redo) > 0 {
		s = j.redo[0]
		j.redo = j.redo[1:]
	} else {
		s = span{start: j.next, n: j.batchSize(len(j.args)-j.next, workers)}
		j.next += s.n
	}
	if j.f.onTake != nil {
		j.f.onTake(s)
	}
	return s
}

// batchSize is the size of the next batch when rest tasks remain for workers ranks: Batch if
// set; else one task until some have run, then as many as take batchTarget at the mean time
// per task so far, capped at a quarter of each worker's share of the rest.
func (j *mapJob[A, R]) batchSize(rest, workers int) int {
	if b := j.f.opt.Batch; b > 0 {
		return min(b, rest)
	}
	if j.ranTasks == 0 {
		return 1
	}
	n := rest
	if per := j.ranTime / time.Duration(j.ranTasks); per > 0 {
		n = int(min(batchTarget/per, time.Duration(rest)))
	}
	n = min(n, rest/(4*max(workers, 1)))
	return max(n, 1)
}

func (j *mapJob[A, R]) fail(err error) {
	if j.err == nil && !j.isEnded && j.done < len(j.args) {
		j.err = err
		j.signal()
	}
}

func (j *mapJob[A, R]) lost(spans []span, d *DeathError) bool {
	for _, s := range spans {
		for i := s.start; i < s.start+s.n; i++ {
			if j.tries[i] >= j.f.opt.Retries {
				j.fail(d)
				return false
			}
		}
	}
	if j.tries == nil {
		j.tries = map[int]int{}
	}
	for _, s := range spans {
		for i := s.start; i < s.start+s.n; i++ {
			j.tries[i]++
		}
	}
	j.redo = append(append([]span(nil), spans...), j.redo...)
	return true
}

func (j *mapJob[A, R]) send(c *comm.Comm, dest, seq int, s span) error {
	args := j.args[s.start : s.start+s.n]
	if j.t.rawA {
		return comm.Send(c, packBatch(s.start, args), dest, seq)
	}
	if j.t.sliceA {
		hdr := binary.LittleEndian.AppendUint64(nil, uint64(s.start))
		return comm.Send(c, packSlices(binary.LittleEndian.AppendUint64(hdr, uint64(s.n)), args, j.t.esA), dest, seq)
	}
	msg := batchMsg[A]{Hdr: batchHdr{Start: s.start, N: s.n}}
	if s.n == 1 {
		msg.One = args[0]
	} else {
		msg.Args = args
	}
	return c.SendValue(&msg, dest, seq|valueBit)
}

// reply is a worker's reply to a batch, as received.
type reply[R any] struct {
	hdr     replyHdr
	results []R // nil when the batch failed as a whole (Unknown, Fail, Dropped)
}

func (j *mapJob[A, R]) recv(ctx context.Context, c *comm.Comm, src int, st comm.Status, s span) (any, error) {
	var rep reply[R]
	if st.Tag&valueBit == 0 {
		buf := make([]byte, st.Bytes)
		if _, err := comm.RecvContext(ctx, c, buf, src, st.Tag); err != nil {
			return nil, err
		}
		if !(j.t.rawR || j.t.sliceR) || len(buf) < rawReplyHdr {
			return nil, fmt.Errorf("farm: a raw reply of %d bytes for a result type that is not plain memory", len(buf))
		}
		rep.hdr.Elapsed = time.Duration(binary.LittleEndian.Uint64(buf))
		var err error
		if j.t.sliceR {
			rep.results, err = unpackSlices[R](buf[rawReplyHdr:], s.n, j.t.esR)
		} else {
			rep.results, err = fromMemory[R](buf[rawReplyHdr:], s.n)
		}
		return &rep, err
	}
	var m replyMsg[R]
	if _, err := c.RecvValueContext(ctx, &m, src, st.Tag); err != nil {
		return nil, err
	}
	rep.hdr = m.Hdr
	switch {
	case m.Hdr.Unknown || m.Hdr.Fail != "" || m.Hdr.Dropped:
	case j.t.rawR:
		var err error
		if rep.results, err = fromMemory[R](m.Raw, s.n); err != nil {
			return nil, err
		}
	case s.n == 1 && len(m.Results) == 0:
		rep.results = []R{m.One}
	default:
		rep.results = m.Results
	}
	return &rep, nil
}

func (j *mapJob[A, R]) deliver(s span, rank int, r any) int {
	if j.err != nil {
		return 0 // the map has failed: nothing more reaches its caller
	}
	rep := r.(*reply[R])
	h := rep.hdr
	if h.Dropped { // only batches of maps that were cancelled are dropped; hand it out again
		j.redo = append(j.redo, s)
		return 0
	}
	taskErr := func(off int) *TaskError {
		return &TaskError{Task: j.t.name, Index: s.start + off, Rank: rank}
	}
	errs := map[int]*TaskError{}
	switch {
	case h.Unknown:
		for off := range s.n {
			e := taskErr(off)
			e.Err = fmt.Errorf("%w on rank %d", ErrNotRegistered, rank)
			errs[off] = e
		}
	case h.Fail != "":
		for off := range s.n {
			e := taskErr(off)
			e.Err = errors.New(h.Fail)
			errs[off] = e
		}
	default:
		for _, we := range h.Errs {
			if we.Offset < 0 || we.Offset >= s.n {
				j.fail(fmt.Errorf("farm: rank %d reported an error for task %d of a batch of %d", rank, we.Offset, s.n))
				return 0
			}
			e := taskErr(we.Offset)
			e.Err, e.Panicked, e.Stack = errors.New(we.Msg), we.Panic, we.Stack
			errs[we.Offset] = e
		}
		if len(rep.results) != s.n {
			j.fail(fmt.Errorf("farm: rank %d sent %d results for a batch of %d tasks", rank, len(rep.results), s.n))
			return 0
		}
		j.ranTasks += s.n
		j.ranTime += h.Elapsed
	}
	for off := range s.n {
		d := delivered[R]{r: Result[R]{Index: s.start + off, Rank: rank}, err: errs[off]}
		if d.err == nil {
			d.r.Value = rep.results[off]
		}
		j.queue = append(j.queue, d)
	}
	j.done += s.n
	j.signal()
	return s.n
}

// runLocal runs the tasks of s on the coordinator and delivers their results. It stops early,
// delivering nothing, when the map ends meanwhile.
func (j *mapJob[A, R]) runLocal(s span, rank int) {
	t0 := time.Now()
	last := t0
	out := make([]delivered[R], 0, s.n)
	for i := s.start; i < s.start+s.n; i++ {
		if j.ctx.Err() != nil {
			return
		}
		if now := time.Now(); now.Sub(last) > localYield {
			j.f.yield()
			last = now
		}
		v, bad := call(j.ctx, j.t.fn, j.args[i])
		d := delivered[R]{r: Result[R]{Index: i, Value: v, Rank: rank}}
		if bad != nil {
			var zero R
			d.r.Value = zero
			d.err = &TaskError{Task: j.t.name, Index: i, Rank: rank, Err: bad.err, Panicked: bad.panicked, Stack: bad.stack}
		}
		out = append(out, d)
	}
	elapsed := time.Since(t0)
	f := j.f
	n := 0
	f.mu.Lock()
	if !j.isEnded && j.err == nil {
		j.queue = append(j.queue, out...)
		j.done += s.n
		j.ranTasks += s.n
		j.ranTime += elapsed
		n = s.n
		j.signal()
	}
	f.cond.Broadcast()
	f.mu.Unlock()
	j.progressed(n)
}

func (j *mapJob[A, R]) progressed(n int) {
	if n > 0 {
		j.bar.add(n)
	}
}
