package farm

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/gompi/gompi/comm"
)

// The coordinator runs two goroutines per worker: a sender, the only one that sends to that
// worker (so the worker sees begin, batches, cancels and stop in the order they were decided),
// and a receiver, the only one that receives from it (probing with AnyTag, so replies come in
// the order they were sent, then taking what the probe found). A worker's death shows up as
// an ErrPeerFailed from either; lost then settles its outstanding batches. Everything they
// share is guarded by Farm.mu, and they wait for work on Farm.cond.

// remote is the coordinator's state of one worker. Guarded by Farm.mu.
type remote struct {
	rank      int
	ctx       context.Context // ends when the worker is lost: its receiver stops waiting
	cancel    context.CancelFunc
	dead      bool
	seq       int      // tag of the next batch
	out       []*sent  // batches sent and not yet answered, in the order sent
	announced uint64   // the map last begun on the worker
	cancels   []uint64 // maps to cancel on the worker
	// stopLost: the worker was given up for a reason other than its death or departure (a
	// message that made no sense): it may still be serving, so the sender tells it to stop.
	stopLost bool
}

// sent is a batch sent to a worker and not yet answered.
type sent struct {
	tag int
	j   job
	s   span
}

// span is a run of tasks, by index in the map's arguments.
type span struct{ start, n int }

func (s span) indices() []int {
	idx := make([]int, s.n)
	for i := range idx {
		idx[i] = s.start + i
	}
	return idx
}

// action is what a sender does next.
type action struct {
	kind  int // actBatch, actCancel, actStop
	begin bool
	j     job
	s     span
	tag   int
	mapID uint64
}

const (
	actBatch = iota
	actCancel
	actStop
)

// next waits until there is something to send to w: a cancel it owes, a stop once the farm
// closes, or a batch of the current map when w has room for one. ok is false once w is dead.
func (f *Farm) next(w *remote) (a action, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for {
		switch {
		case w.dead && w.stopLost:
			w.stopLost = false
			return action{kind: actStop}, true
		case w.dead:
			return a, false
		case len(w.cancels) > 0:
			a = action{kind: actCancel, mapID: w.cancels[0]}
			w.cancels = w.cancels[1:]
			return a, true
		case f.closing:
			return action{kind: actStop}, true
		}
		if j := f.job; j != nil && len(w.out) < f.opt.InFlight && j.hasWork() {
			a = action{kind: actBatch, j: j, s: j.take(f.workersLocked()), tag: w.seq}
			w.seq = (w.seq + 1) & seqMask
			w.out = append(w.out, &sent{tag: a.tag, j: j, s: a.s})
			a.begin = w.announced != j.id()
			w.announced = j.id()
			return a, true
		}
		f.cond.Wait()
	}
}

// sender sends w its batches and control messages until it is told to stop or dies.
func (f *Farm) sender(w *remote) {
	defer f.wg.Done()
	for {
		a, ok := f.next(w)
		if !ok {
			return
		}
		var err error
		switch a.kind {
		case actCancel:
			err = comm.Send(f.c, []uint64{a.mapID}, w.rank, tagCancel)
		case actStop:
			err = comm.Send(f.c, []byte(nil), w.rank, tagStop)
		case actBatch:
			if a.begin {
				err = f.c.SendValue(&beginMsg{Map: a.j.id(), Task: a.j.name()}, w.rank, tagBegin)
			}
			if err == nil {
				err = a.j.send(f.c, w.rank, a.tag, a.s)
			}
			if err != nil && !errors.Is(err, comm.ErrPeerFailed) {
				// The arguments could not be sent (gob cannot encode them): no reply will come.
				f.unsent(w, a, err)
				continue
			}
		}
		if err != nil {
			f.lost(w, err)
			return
		}
		if a.kind == actStop {
			return
		}
	}
}

// unsent withdraws a batch that could not be sent and fails its map.
func (f *Farm) unsent(w *remote, a action, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	w.forget(a.tag)
	if !a.j.ended() {
		a.j.fail(fmt.Errorf("farm: sending tasks %s[%s] to rank %d: %w", a.j.name(), spans(a.s.indices()), w.rank, err))
	}
	f.cond.Broadcast()
}

// forget removes the outstanding batch with tag and returns it (nil if there is none).
func (w *remote) forget(tag int) *sent {
	for i, s := range w.out {
		if s.tag == tag {
			w.out = append(w.out[:i], w.out[i+1:]...)
			return s
		}
	}
	return nil
}

// errLeft is how the coordinator sees a worker that left the farm on its own (its context
// ended).
var errLeft = errors.New("the worker left the farm")

// receiver takes w's replies until w says bye or dies.
func (f *Farm) receiver(w *remote) {
	defer f.wg.Done()
	for {
		st, err := f.c.ProbeContext(w.ctx, w.rank, comm.AnyTag)
		if err != nil {
			f.lost(w, err)
			return
		}
		switch st.Tag {
		case tagBye, tagLeave:
			if _, err := comm.RecvContext(w.ctx, f.c, []byte(nil), w.rank, st.Tag); err != nil {
				f.lost(w, err)
			} else if st.Tag == tagLeave {
				f.lost(w, errLeft)
			}
			return
		}
		f.mu.Lock()
		var s *sent
		for _, o := range w.out {
			if st.Tag < ctlBase && o.tag == st.Tag&seqMask {
				s = o
			}
		}
		f.mu.Unlock()
		if s == nil {
			f.lost(w, fmt.Errorf("farm: rank %d sent a message with tag %d, which answers no batch", w.rank, st.Tag))
			return
		}
		rep, err := s.j.recv(w.ctx, f.c, w.rank, st, s.s)
		if errors.Is(err, comm.ErrPeerFailed) || w.ctx.Err() != nil {
			f.lost(w, err)
			return
		}
		f.mu.Lock()
		w.forget(s.tag)
		var n int
		if !s.j.ended() {
			if err != nil {
				s.j.fail(fmt.Errorf("farm: receiving the results of tasks %s[%s] from rank %d: %w", s.j.name(), spans(s.s.indices()), w.rank, err))
			} else {
				n = s.j.deliver(s.s, w.rank, rep)
			}
		}
		f.cond.Broadcast()
		f.mu.Unlock()
		s.j.progressed(n)
	}
}

// lost settles the death (or departure) of worker w: its batches of the current map run again
// elsewhere if Options.Retries allows, else the map fails with a *DeathError. Its batches of
// maps that have ended are forgotten.
func (f *Farm) lost(w *remote, err error) {
	f.mu.Lock()
	if w.dead {
		f.mu.Unlock()
		return
	}
	w.dead = true
	w.stopLost = !errors.Is(err, comm.ErrPeerFailed) && err != errLeft
	d := &DeathError{Rank: w.rank, Err: err}
	j := f.job
	var mine []span
	for _, s := range w.out {
		if s.j == j && !j.ended() {
			mine = append(mine, s.s)
		}
	}
	w.out, w.cancels = nil, nil
	if len(mine) > 0 {
		d.Task = j.name()
		d.Running = mine[0].indices()
		for _, s := range mine[1:] {
			d.Queued = append(d.Queued, s.indices()...)
		}
	}
	switch {
	case j == nil || j.ended():
	case f.workersLocked() == 0:
		j.fail(fmt.Errorf("%w to run the rest of %s (the coordinator does not run tasks; see Options.RootWorks): %w", ErrNoWorkers, j.name(), d))
	case len(mine) > 0:
		d.Retried = j.lost(mine, d)
	}
	f.deaths = append(f.deaths, d)
	closing := f.closing
	f.cond.Broadcast()
	f.mu.Unlock()
	w.cancel()
	if d.Retried || (d.Task == "" && !closing) {
		f.shown.notice(d.Error())
	}
}

// workersLocked counts the ranks that can run tasks: live workers, and the coordinator if it
// works. Caller holds f.mu.
func (f *Farm) workersLocked() int {
	n := 0
	if f.opt.RootWorks {
		n++
	}
	for _, w := range f.remotes {
		if !w.dead {
			n++
		}
	}
	return n
}

// localWorker runs batches on the coordinator itself (Options.RootWorks), one at a time.
func (f *Farm) localWorker() {
	defer f.wg.Done()
	for {
		f.mu.Lock()
		for !f.closing && (f.job == nil || !f.job.hasWork()) {
			f.cond.Wait()
		}
		if f.closing {
			f.mu.Unlock()
			return
		}
		j := f.job
		s := j.take(f.workersLocked())
		f.mu.Unlock()
		j.runLocal(s, f.opt.Root)
	}
}

// localYield is how long the coordinator's own tasks run before it lets its goroutines that
// talk to the workers run. A rank placed on one core has GOMAXPROCS 1, and Go preempts a
// running goroutine only every 10 ms: without yielding, a worker's reply would wait that long.
const localYield = 100 * time.Microsecond

// yield lets the coordinator's other goroutines run: it asks the transport for what has
// arrived (a polling transport, like shared memory, delivers only when asked; see
// docs/ARCHITECTURE.md), which readies the receivers it was for, then lets them run.
func (f *Farm) yield() {
	_, _, _ = f.c.Iprobe(comm.AnySource, comm.AnyTag)
	runtime.Gosched()
}
