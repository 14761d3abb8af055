package engine

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gompi/gompi/internal/backend"
	"github.com/gompi/gompi/internal/waits"
	"github.com/gompi/gompi/transport"
)

type todo uint8

const (
	todoNone todo = iota
	todoCTS
	todoData
)

type reqKind uint8

const (
	kindSend reqKind = iota
	kindRecv
	kindProbe
)

// reqState says where a request is; it changes only under Engine.mu.
type reqState uint8

const (
	stateNew     reqState = iota
	statePosted           // in a queue's posted or probes list: cancellable
	stateWaitCTS          // a rendezvous send in Engine.sends: cancellable
	stateMatched          // matched, payload under way: a send stops between fragments (abort), a receive ends in bounded time
	stateDone             // finished; st and err are final
)

// request is one send, receive or probe. Blocking calls take one from a pool and return it when
// done (so steady-state Send/Recv allocate nothing); nonblocking calls hand it to the user.
type request struct {
	e      *Engine
	c      *Comm
	kind   reqKind
	user   bool // owned by a user Request: done is closed, not signalled, and it is never pooled
	op     string
	peer   int // world rank asked for, or anySource
	src    int // world rank actually matched (receives)
	tag    int
	buf    []byte
	alloc  bool   // receive allocates a buffer the size of the message
	id     uint64 // rendezvous id: send id for sends, receive id for receives
	sendID uint64 // for a receive matched to an RTS: the sender's id
	msgID  uint64 // a matched receive: the id its message's frame carried (Eager ID, RTS ID)
	got    int64  // a rendezvous receive: payload bytes placed so far (fragments)
	abort  error  // a rendezvous send whose payload is under way: stop at the next fragment

	state reqState
	st    backend.Status
	err   error
	done  chan struct{}

	// Work handed to the goroutine blocked in wait (pooled requests only), so that a blocking
	// rendezvous needs no goroutine of its own: send a CTS, or send the payload.
	todo     todo
	todoHdr  transport.Header
	todoPeer int

	// wake is how the owner learns that r finished or has work for it (a token). The owner
	// moves it from wakeIdle to wakeSpinning while it polls a polling transport, or to
	// wakeParked before it blocks on done; notify moves any of these to wakeSignalled, and
	// sends on done only for a parked owner, so a polling owner needs no channel at all. Only
	// the owner takes the token (back to wakeIdle, under Engine.mu).
	wake atomic.Uint32
	// owner, when set, is the request whose owner also drives this one (Sendrecv): every
	// notification of this request goes to owner's wake and done instead.
	owner *request
	// pair, on the send of a Sendrecv while its owner waits, is the receive driven with it (for
	// the hang report only: blockWait).
	pair *request
	// parkedAt is when the owner parked on r, while it is registered for hang reports
	parkedAt time.Time
	// flowTaken says that a traced Wait or Test has recorded this user receive's message
	// (trace.go), so that later ones do not record it again.
	flowTaken atomic.Bool

	next, prev *request
}

const (
	wakeIdle uint32 = iota
	wakeSpinning
	wakeParked
	wakeSignalled // a token: look at todo and state under Engine.mu
	wakeFinished  // a token, and r is done: st and err are final, no lock needed
)

var reqPool = sync.Pool{New: func() any { return &request{done: make(chan struct{}, 1)} }}

func (e *Engine) getReq(c *Comm, kind reqKind, op string) *request {
	r := reqPool.Get().(*request)
	r.e, r.c, r.kind, r.op = e, c, kind, op
	return r
}

func putReq(r *request) {
	done := r.done
	*r = request{done: done}
	reqPool.Put(r)
}

// newUserReq makes the request of a nonblocking call. Its done channel is made only when
// somebody needs one (doneChan): a wait that polls, or Test, needs none.
func (e *Engine) newUserReq(c *Comm, kind reqKind, op string) *request {
	return &request{e: e, c: c, kind: kind, op: op, user: true, src: -1}
}

// doneChan returns user request r's done channel, made on first use, closed once r finishes.
func (r *request) doneChan() chan struct{} {
	e := r.e
	e.mu.Lock()
	defer e.mu.Unlock()
	if r.done == nil {
		r.done = make(chan struct{})
		if r.state == stateDone {
			close(r.done)
		}
	}
	return r.done
}

// finish completes r with its current st and err. Caller holds e.mu. Signalling never blocks
// (a closed channel, or at most one token in a channel of capacity one), so it is done under
// the lock. The caller must not touch r afterwards: its owner may already have reused it.
func (e *Engine) finish(r *request) {
	if r.state == stateDone {
		return
	}
	r.state = stateDone
	r.todo = todoNone
	// After the token the owner of a pooled request may return it to the pool without the
	// lock (wakeFinished): nothing may touch r after notifyAs.
	done := r.done
	user := r.user
	e.notifyAs(r, wakeFinished)
	if user && done != nil {
		close(done) // for Done and every parked waiter
	}
}

// notify gives the owner of r a token (see request.wake). Caller holds e.mu.
func (e *Engine) notify(r *request) { e.notifyAs(r, wakeSignalled) }

// notifyAs gives the owner of r the token tok: wakeSignalled, or wakeFinished when r is done.
// Caller holds e.mu.
func (e *Engine) notifyAs(r *request, tok uint32) {
	if r.owner != nil {
		r, tok = r.owner, wakeSignalled // the owner looks at both requests under e.mu
	}
	for {
		w := r.wake.Load()
		if w == tok || w == wakeFinished {
			return
		}
		if r.wake.CompareAndSwap(w, tok) {
			if w == wakeParked && !r.user {
				r.done <- struct{}{}
			}
			return
		}
	}
}

// handOff gives the owner of pooled request r a message to send on its behalf. Caller holds e.mu.
func (e *Engine) handOff(r *request, t todo, peer int, h transport.Header) {
	r.todo, r.todoPeer, r.todoHdr = t, peer, h
	e.notify(r)
}

// fail completes r with err unless it already finished. Caller holds e.mu.
func (e *Engine) fail(r *request, err error) {
	if r.state == stateDone {
		return
	}
	if r.err == nil {
		r.err = err
	}
	e.finish(r)
}

// wait blocks until r is done. If ctx ends while r can still be withdrawn, r is withdrawn and
// finishes with an error wrapping ctx.Err().
// The owner of a pooled request also does the work handed to it (handOff) while it waits.
// When tracing, sp (else nil) collects the time it spends blocked.
//
// Over a transport that delivers by polling (shared memory), it first polls for a while (the
// transport's wait policy) when the peer it waits for is one of those, then parks.
func (r *request) wait(ctx context.Context, sp *waitSpan) (backend.Status, error) {
	e := r.e
	ctxDone := ctx.Done()
	spin := e.spinsFor(r.peer)
	for {
		if !r.timedToken(spin, ctxDone, sp) {
			e.cancel(r, ctx.Err())
			ctxDone = nil
			continue
		}
		if r.user || r.wake.Load() == wakeFinished {
			return r.st, r.err // final since finish, which the token follows
		}
		e.mu.Lock()
		r.wake.Store(wakeIdle)
		t, peer, h := r.todo, r.todoPeer, r.todoHdr
		r.todo = todoNone
		done := r.state == stateDone
		e.mu.Unlock()
		if done {
			return r.st, r.err
		}
		switch t {
		case todoCTS:
			e.sendCTS(peer, h)
		case todoData:
			e.sendData(ctx, r, h.Aux)
		}
	}
}

// spinsFor reports whether a wait for world rank peer (or anySource) polls before it parks.
func (e *Engine) spinsFor(peer int) bool {
	return e.poller != nil && (peer == anySource && e.spinAny || peer >= 0 && peer < len(e.spinPeer) && e.spinPeer[peer])
}

// waitPair blocks until send request s and receive request r, both pooled, are done, doing
// the work handed to either (a CTS for r, the payload for s) as wait does for one. r's
// notifications go to s (r.owner), so one token wakes the owner for either. If s fails while r
// can still be withdrawn, r is withdrawn (with context.Canceled as its cause), as it is when
// ctx ends (then with ctx.Err(), and s too). When tracing, sp (else nil) collects the time it
// spends blocked.
func waitPair(ctx context.Context, s, r *request, sp *waitSpan) {
	e := s.e
	ctxDone := ctx.Done()
	spin := e.spinsFor(s.peer) || e.spinsFor(r.peer)
	s.pair = r
	defer func() { s.pair = nil }()
	withdrawn := false
	for {
		e.mu.Lock()
		s.wake.Store(wakeIdle) // every state below is read after this, under the lock
		st, sh := s.todo, s.todoHdr
		rt, rh, rp := r.todo, r.todoHdr, r.todoPeer
		s.todo, r.todo = todoNone, todoNone
		sDone, rDone := s.state == stateDone, r.state == stateDone
		sFailed := sDone && s.err != nil
		e.mu.Unlock()
		if rt == todoCTS {
			e.sendCTS(rp, rh)
		}
		if st == todoData {
			e.sendData(ctx, s, sh.Aux)
			continue
		}
		if sDone && rDone {
			return
		}
		if sFailed && !withdrawn {
			withdrawn = true
			e.cancel(r, context.Canceled)
			continue
		}
		if rt != todoNone {
			continue
		}
		if !s.timedToken(spin, ctxDone, sp) {
			e.cancel(s, ctx.Err())
			e.cancel(r, ctx.Err())
			ctxDone = nil
		}
	}
}

// token waits until r.wake says signalled: polling first when spin (the transport's wait
// policy), then parked on done. It returns false, with no token, if ctxDone fires first.
//
// Over a polling transport every parked wait is announced (Poller.Park, or a false Spin), so
// that the transport keeps delivering while nobody polls: the frame this goroutine waits for
// may come from any peer on it, and peers blocked on a full ring to this rank need it too.
func (r *request) token(spin bool, ctxDone <-chan struct{}) bool {
	if w := r.wake.Load(); w == wakeSignalled || w == wakeFinished {
		return true
	}
	p := r.e.poller
	if p != nil {
		if spin && r.wake.CompareAndSwap(wakeIdle, wakeSpinning) {
			if p.Spin(&r.wake) {
				return true // signalled
			}
			// Spin counted this goroutine as parked.
			if !r.wake.CompareAndSwap(wakeSpinning, wakeIdle) {
				p.Unpark()
				return true // signalled just now
			}
		} else {
			p.Park()
		}
		defer p.Unpark()
	}
	if r.blockWait() {
		defer waits.Unblock(r)
	}

	if r.user {
		// Any number of goroutines may wait for a user request; done is closed for all.
		select {
		case <-r.doneChan():
			return true
		case <-ctxDone:
			return false
		}
	}
	if !r.wake.CompareAndSwap(wakeIdle, wakeParked) {
		return true // signalled meanwhile
	}
	select {
	case <-r.done:
		return true
	case <-ctxDone:
		if r.wake.CompareAndSwap(wakeParked, wakeIdle) {
			return false
		}
		<-r.done // notify is sending it
		return true
	}
}

// dir is the direction of r's data: to its peer for a send, from it for a receive or probe.
func (r *request) dir() backend.Direction {
	if r.kind == kindSend {
		return backend.ToPeer
	}
	return backend.FromPeer
}

// cancel withdraws r if it has not matched yet, or, for a send whose payload is under way,
// asks the goroutine sending it to stop at the next fragment (sendData).
func (e *Engine) cancel(r *request, cause error) {
	e.mu.Lock()
	var bye *transport.Header
	switch r.state {
	case stateMatched:
		if r.kind == kindSend && r.abort == nil {
			r.abort = cause
			if hook := testHookAbort; hook != nil {
				hook(e.rank, r.peer, r.tag)
			}
		}
	case statePosted:
		q := e.queue(r.c.ctx)
		if r.kind == kindProbe {
			q.probes.remove(r)
		} else {
			q.posted.remove(r)
		}
		e.fail(r, e.cancelErr(r, cause))
	case stateWaitCTS:
		delete(e.sends, r.id)
		e.fail(r, e.cancelErr(r, cause))
		bye = &transport.Header{Kind: transport.Cancel, Context: r.c.ctx, Tag: r.tag, ID: r.id}
	}
	e.mu.Unlock()
	if bye != nil {
		// Tell the receiver to drop the RTS; if the peer is gone there is nobody to tell.
		_ = e.t.Send(r.peer, *bye, nil)
	}
}

func (e *Engine) cancelErr(r *request, cause error) error {
	return &backend.Error{Op: r.op, Dir: r.dir(), Peer: r.c.localOrAny(r.peer), Tag: tagOrNone(r.tag), Size: -1, Limit: -1,
		Msg: "withdrawn before a peer matched it", Err: cause}
}

// userRequest adapts a request to backend.Request.
type userRequest struct{ r *request }

func (u userRequest) Wait(ctx context.Context) (backend.Status, error) {
	if tr := u.r.e.tr.Load(); tr != nil {
		return u.waitTraced(ctx, tr)
	}
	return u.r.wait(ctx, nil)
}

func (u userRequest) Test() (backend.Status, bool, error) {
	if p := u.r.e.poller; p != nil {
		p.Poll() // like MPI_Test, make progress
	}
	if u.r.wake.Load() == wakeFinished {
		if tr := u.r.e.tr.Load(); tr != nil {
			u.traceTest(tr)
		}
		return u.r.st, true, u.r.err // final since finish, which the token follows
	}
	return backend.Status{}, false, nil
}

func (u userRequest) Done() <-chan struct{} {
	if p := u.r.e.poller; p != nil {
		p.Watch() // whoever selects on it does not poll
	}
	return u.r.doneChan()
}

// doneRequest is a request that completed at once (an eager send, or a failed start). The
// successful ones are all the same, so they share one (a window of eager Isends allocates
// nothing).
func (e *Engine) doneRequest(c *Comm, op string, st backend.Status, err error) backend.Request {
	if err == nil && st == (backend.Status{}) {
		return userRequest{e.sent}
	}
	r := e.newUserReq(c, kindSend, op)
	r.st, r.err, r.state = st, err, stateDone
	r.wake.Store(wakeFinished)
	return userRequest{r}
}

// message is an unexpected message: it arrived before any receive matched it.
type message struct {
	h          transport.Header // Source is a world rank
	buf        []byte           // eager payload (len h.Length); nil for an RTS
	complete   bool             // payload fully arrived
	failed     error            // the payload could not be read
	recv       *request         // receive that claimed it before it was complete
	next, prev *message
}

var msgPool = sync.Pool{New: func() any { return new(message) }}

func (e *Engine) newMessage(h transport.Header, n int) *message {
	m := msgPool.Get().(*message)
	m.h = h
	if cap(m.buf) >= n {
		m.buf = m.buf[:n]
	} else {
		m.buf = make([]byte, n)
	}
	return m
}

func (e *Engine) releaseMessage(m *message) {
	buf := m.buf[:0]
	if cap(buf) > e.eager {
		buf = nil // keep only eager-sized buffers around
	}
	*m = message{buf: buf}
	msgPool.Put(m)
}
