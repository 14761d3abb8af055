package farm

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/gompi/gompi/comm"
)

// A worker runs two goroutines: a receiver, the only one that receives from the coordinator
// (it probes with AnyTag and takes messages in the order they were sent), and an executor,
// the only one that sends to it, which runs the batches the receiver queues, one at a time,
// and replies to each. The queue holds at most Options.InFlight batches, since the
// coordinator sends no more before replies come back.

// server is a worker's state.
type server struct {
	c       *comm.Comm
	root    int
	tasks   *Tasks
	sendCtx context.Context // the executor's sends; ends when the worker quits

	mu      sync.Mutex // guards the fields below
	cond    *sync.Cond // on mu: the queue or the state changed
	queue   []item
	stopped bool    // the coordinator said stop: drop the queue, say bye after the batch running
	quit    bool    // the coordinator is gone or our context ended: send nothing more
	cur     *mapRun // the map of the last begin
}

// mapRun is a map as a worker sees it.
type mapRun struct {
	id        uint64
	e         *entry // nil when this rank has no task by that name
	ctx       context.Context
	cancel    context.CancelFunc
	cancelled bool // guarded by server.mu
}

// item is a batch waiting to run.
type item struct {
	m   *mapRun
	seq int
	b   workBatch // nil when it cannot run (unknown task, or bad says why)
	bad string
}

// serve is Run on a worker: it runs what the coordinator sends until told to stop.
func serve(ctx context.Context, c *comm.Comm, root int, tasks *Tasks) error {
	// Sends end with ctx: a worker leaving the farm sends nothing more, not even the results
	// of the tasks its leaving cancelled.
	sendCtx, cancelSends := context.WithCancel(ctx)
	defer cancelSends()
	s := &server{c: c, root: root, tasks: tasks, sendCtx: sendCtx}
	s.cond = sync.NewCond(&s.mu)
	executed := make(chan struct{})
	go func() {
		defer close(executed)
		s.execute()
	}()
	err := s.receive(ctx)
	if err != nil {
		s.mu.Lock()
		s.quit = true
		if s.cur != nil {
			s.cur.cancel()
		}
		s.cond.Broadcast()
		s.mu.Unlock()
		cancelSends()
	}
	<-executed
	if s.cur != nil {
		s.cur.cancel()
	}
	switch {
	case err == nil:
		return nil
	case errors.Is(err, comm.ErrPeerFailed) || errors.Is(err, comm.ErrClosed):
		return fmt.Errorf("farm: rank %d: serving the coordinator (rank %d): %w", c.Rank(), root, err)
	}
	// Our own context ended (or the coordinator sent what we cannot take): tell it, so that
	// it does not wait for us.
	_ = comm.Send(c, []byte(nil), root, tagLeave)
	return fmt.Errorf("farm: rank %d left the farm: %w", c.Rank(), err)
}

// receive takes the coordinator's messages until stop (nil) or a failure.
func (s *server) receive(ctx context.Context) error {
	for {
		st, err := s.c.ProbeContext(ctx, s.root, comm.AnyTag)
		if err != nil {
			return err
		}
		switch {
		case st.Tag == tagBegin:
			var b beginMsg
			if _, err := s.c.RecvValueContext(ctx, &b, s.root, tagBegin); err != nil {
				return err
			}
			m := &mapRun{id: b.Map, e: s.tasks.lookup(b.Task)}
			m.ctx, m.cancel = context.WithCancel(ctx)
			s.mu.Lock()
			if s.cur != nil {
				s.cur.cancel() // a new map starts only after the last one ended
			}
			s.cur = m
			s.mu.Unlock()
		case st.Tag == tagCancel:
			id := []uint64{0}
			if _, err := comm.RecvContext(ctx, s.c, id, s.root, tagCancel); err != nil {
				return err
			}
			s.mu.Lock()
			if m := s.cur; m != nil && m.id == id[0] {
				m.cancelled = true
				m.cancel()
			}
			s.mu.Unlock()
		case st.Tag == tagStop:
			if _, err := comm.RecvContext(ctx, s.c, []byte(nil), s.root, tagStop); err != nil {
				return err
			}
			s.mu.Lock()
			s.stopped = true
			if s.cur != nil {
				s.cur.cancel()
			}
			s.cond.Broadcast()
			s.mu.Unlock()
			return nil
		case st.Tag < ctlBase:
			it, err := s.recvBatch(st)
			if err != nil {
				return err
			}
			if it == nil {
				continue
			}
			s.mu.Lock()
			s.queue = append(s.queue, *it)
			s.cond.Broadcast()
			s.mu.Unlock()
		default:
			return fmt.Errorf("farm: unexpected message from the coordinator (tag %d, %d bytes)", st.Tag, st.Bytes)
		}
	}
}

// recvBatch receives the batch st describes. It returns a nil item when the coordinator
// withdrew it, and an error only when the coordinator is gone.
func (s *server) recvBatch(st comm.Status) (*item, error) {
	s.mu.Lock()
	m := s.cur
	s.mu.Unlock()
	it := &item{m: m, seq: st.Tag & seqMask}
	var err error
	switch {
	case m != nil && m.e != nil:
		it.b, err = m.e.recv(s.c, s.root, st)
	case st.Tag&valueBit != 0:
		var h batchHdrOnly
		_, err = s.c.RecvValue(&h, s.root, st.Tag)
	default:
		_, err = comm.Recv(s.c, make([]byte, st.Bytes), s.root, st.Tag)
	}
	switch {
	case errors.Is(err, comm.ErrPeerFailed) || errors.Is(err, comm.ErrClosed):
		return nil, err
	case errors.Is(err, comm.ErrCanceled):
		return nil, nil // the coordinator could not send it all and expects no reply
	case err != nil:
		it.b, it.bad = nil, fmt.Sprintf("rank %d could not take the batch: %v", s.c.Rank(), err)
	case m == nil:
		it.bad = fmt.Sprintf("rank %d got a batch before any map began", s.c.Rank())
	}
	return it, nil
}

// execute runs the queued batches and replies to each, until stop (then it says bye) or quit.
func (s *server) execute() {
	for {
		s.mu.Lock()
		for len(s.queue) == 0 && !s.stopped && !s.quit {
			s.cond.Wait()
		}
		if s.quit {
			s.mu.Unlock()
			return
		}
		if s.stopped {
			s.queue = nil
			s.mu.Unlock()
			_ = comm.SendContext(s.sendCtx, s.c, []byte(nil), s.root, tagBye)
			return
		}
		it := s.queue[0]
		s.queue = s.queue[1:]
		cancelled := it.m != nil && it.m.cancelled
		s.mu.Unlock()
		if err := s.run(it, cancelled); err != nil {
			return
		}
	}
}

// run runs one batch and sends its reply; an error means the coordinator is gone.
func (s *server) run(it item, cancelled bool) error {
	var h replyHdr
	switch {
	case cancelled:
		h.Dropped = true
	case it.bad != "":
		h.Fail = it.bad
	case it.m.e == nil:
		h.Unknown = true
	default:
		t0 := time.Now()
		h.Errs = it.b.run(it.m.ctx)
		h.Elapsed = time.Since(t0)
		err := it.b.reply(s.sendCtx, s.c, s.root, it.seq, h)
		if err == nil || errors.Is(err, comm.ErrPeerFailed) || s.sendCtx.Err() != nil {
			return err
		}
		// The results could not be sent (gob cannot encode them): say so instead.
		h = replyHdr{Fail: fmt.Sprintf("rank %d could not send the results: %v", s.c.Rank(), err)}
	}
	return s.c.SendValueContext(s.sendCtx, &replyHdrOnly{Hdr: h}, s.root, it.seq|valueBit)
}
