package engine

import (
	"context"
	"sync"

	"github.com/gompi/gompi/backend"
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
	stateMatched          // matched, payload under way: not cancellable, ends in bounded time
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

	state reqState
	st    backend.Status
	err   error
	done  chan struct{}

	// Work handed to the goroutine blocked in wait (pooled requests only), so that a blocking
	// rendezvous needs no goroutine of its own: send a CTS, or send the payload.
	todo      todo
	todoHdr   transport.Header
	todoPeer  int
	signalled bool // a token is in done and the owner has not taken it yet

	next, prev *request
}

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

func (e *Engine) newUserReq(c *Comm, kind reqKind, op string) *request {
	return &request{e: e, c: c, kind: kind, op: op, user: true, done: make(chan struct{})}
}

// finish completes r with its current st and err. Caller holds e.mu. Signalling never blocks
// (a closed channel, or at most one token in a channel of capacity one), so it is done under
// the lock.
func (e *Engine) finish(r *request) {
	if r.state == stateDone {
		return
	}
	r.state = stateDone
	r.todo = todoNone
	if r.user {
		close(r.done)
	} else {
		e.notify(r)
	}
}

// notify wakes the owner of pooled request r. Caller holds e.mu.
func (e *Engine) notify(r *request) {
	if !r.signalled {
		r.signalled = true
		r.done <- struct{}{}
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
//
// Over a transport that delivers by polling (shared memory), it first polls for a while (the
// transport's wait policy) when the peer it waits for is one of those, then parks.
func (r *request) wait(ctx context.Context) (backend.Status, error) {
	e := r.e
	ctxDone := ctx.Done()
	spin := e.poller != nil && (r.peer == anySource && e.spinAny || r.peer >= 0 && r.peer < len(e.spinPeer) && e.spinPeer[r.peer])
	for {
		if !spin || !e.poller.Spin(r.done) {
			select {
			case <-r.done:
			case <-ctxDone:
				e.cancel(r, ctx.Err())
				ctxDone = nil
				continue
			}
		}
		if r.user {
			return r.st, r.err
		}
		e.mu.Lock()
		r.signalled = false
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
			e.sendData(r, h.Aux)
		}
	}
}

// cancel withdraws r if it has not matched yet.
func (e *Engine) cancel(r *request, cause error) {
	e.mu.Lock()
	var bye *transport.Header
	switch r.state {
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
	return &backend.Error{Op: r.op, Peer: r.c.localOrAny(r.peer), Tag: tagOrNone(r.tag), Size: -1, Limit: -1,
		Msg: "withdrawn before a peer matched it", Err: cause}
}

// userRequest adapts a request to backend.Request.
type userRequest struct{ r *request }

func (u userRequest) Wait(ctx context.Context) (backend.Status, error) { return u.r.wait(ctx) }

func (u userRequest) Test() (backend.Status, bool, error) {
	select {
	case <-u.r.done:
		return u.r.st, true, u.r.err
	default:
		return backend.Status{}, false, nil
	}
}

func (u userRequest) Done() <-chan struct{} { return u.r.done }

// doneRequest is a request that completed at once (an eager send, or a failed start).
func (e *Engine) doneRequest(c *Comm, op string, st backend.Status, err error) backend.Request {
	r := e.newUserReq(c, kindSend, op)
	r.st, r.err, r.state = st, err, stateDone
	close(r.done)
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
