// Package engine is gompi's Go-native message engine: MPI matching (context, source, tag, with
// wildcards and non-overtaking order), the eager protocol for small messages and the rendezvous
// protocol (RTS, CTS, Data) for large ones, peer-failure propagation, and communicator creation.
// It runs over any transport.Transport (in-process or TCP) and implements backend.World, so the
// same engine serves every Go-native backend; package comm wraps it.
//
// Receives read straight into the posted buffer whenever the receive was posted before the
// payload arrived (always, for rendezvous messages); only eager messages that arrive before
// their receive are copied twice, through a pooled unexpected-message buffer.
package engine

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"

	"github.com/gompi/gompi/internal/backend"
	"github.com/gompi/gompi/internal/trace"
	"github.com/gompi/gompi/transport"
)

const (
	anySource = backend.AnySource
	anyTag    = backend.AnyTag
)

// queues holds the matching state of one context id.
type queues struct {
	posted     reqList // posted receives, in posting order
	probes     reqList // blocked probes
	unexpected msgList // messages nobody has asked for yet, in arrival order
}

// EnvStrict, set to 1, makes every send of a program (Send, Isend, Sendrecv on its
// communicators, any size) complete only when a matching receive has been posted, as a zero
// eager limit would: a program that relies on the library buffering its sends (two ranks that
// each Send before they Recv) then hangs at once on small data, where a hang report or a
// context deadline names the pair, instead of at scale. The collectives' and values' own
// messages keep their protocols. gompirun --strict sets it.
const EnvStrict = "GOMPI_STRICT"

// goneState is the first peer this rank saw go, and how (for blame: World.Origin).
type goneState struct {
	peer     int
	graceful bool
}

type peerState struct {
	gone     bool
	graceful bool  // it said Bye (finalized) rather than vanished
	err      error // why it is gone
	// told is where the peer said, in a Fail frame before it went, that its failure began;
	// nil when it said nothing (it went first, or knew no better).
	told *backend.Origin
}

// Engine is one rank's message engine over one transport. All its communicators share it.
//
// mu guards every field below it, and the state of every request and message. It is never held
// while calling into the transport (the in-process transport calls back into the peer's engine
// synchronously, and may call this engine again for self-delivery).
type Engine struct {
	t      transport.Transport
	rank   int
	size   int
	eager  int   // the largest eager limit: unexpected-message buffers up to it are pooled
	eagers []int // eager limit by world rank
	frags  []int // largest Data frame payload by world rank (transport.Fragmenter); 0: no limit
	// poller is t when its frames arrive by polling (shared memory); spinPeer says, by world
	// rank, whether a wait for that peer polls before it parks, and spinAny whether a wait for
	// any source does (every peer is polled).
	poller   transport.Poller
	spinPeer []bool
	spinAny  bool
	// hosts is the host of every world rank, when the transport knows (transport.HostMap).
	hosts []int

	mu        sync.Mutex
	queues    map[uint32]*queues
	lastCtx   uint32              // the context of lastQ: most traffic is on one communicator at a time
	lastQ     *queues             // queues[lastCtx], or nil
	sends     map[uint64]*request // rendezvous sends waiting for CTS, by send id
	rdvRecvs  map[uint64]*request // receives that sent CTS and wait for Data, by receive id
	nextID    uint64
	usedCtx   map[uint32]bool // context ids taken by (or reserved for) communicators on this rank
	peers     []peerState
	firstGone *goneState // the first peer seen to go, nil while none has (World.Origin)
	strict    bool       // GOMPI_STRICT=1: see EnvStrict
	closed    bool
	// troubled is set (under mu) once the world is closed or any peer is gone, so that
	// sends check those under mu only then.
	troubled atomic.Bool
	sent     *request // a finished request, for every eager send that succeeded (read only)

	// tr records this rank's operations when tracing (trace.go); nil otherwise, which every
	// operation checks once. msgSeq numbers the eager messages sent while tracing.
	tr     atomic.Pointer[trace.Recorder]
	msgSeq atomic.Uint64
}

// newEngine makes an engine and starts its transport.
func newEngine(t transport.Transport) *Engine {
	e := &Engine{
		t:        t,
		rank:     t.Rank(),
		size:     t.Size(),
		eager:    t.EagerLimit(),
		queues:   make(map[uint32]*queues),
		sends:    make(map[uint64]*request),
		rdvRecvs: make(map[uint64]*request),
		nextID:   1,
		usedCtx:  map[uint32]bool{worldCtx: true},
		peers:    make([]peerState, t.Size()),
		strict:   os.Getenv(EnvStrict) == "1",
	}
	e.sent = &request{e: e, user: true, state: stateDone, done: make(chan struct{})}
	e.sent.wake.Store(wakeFinished)
	close(e.sent.done)
	e.eagers = make([]int, e.size)
	pe, perPeer := t.(transport.PeerEager)
	for w := range e.eagers {
		e.eagers[w] = e.eager
		if perPeer && w != e.rank {
			e.eagers[w] = pe.PeerEagerLimit(w)
			e.eager = max(e.eager, e.eagers[w])
		}
	}
	e.frags = make([]int, e.size)
	if f, ok := t.(transport.Fragmenter); ok {
		for w := range e.frags {
			if w != e.rank {
				e.frags[w] = max(f.FragmentSize(w), 0)
			}
		}
	}
	if hm, ok := t.(transport.HostMap); ok {
		if h := hm.Hosts(); len(h) == e.size {
			e.hosts = h
		}
	}
	if p, ok := t.(transport.Poller); ok {
		e.poller = p
		e.spinPeer = make([]bool, e.size)
		e.spinAny = true
		for w := range e.spinPeer {
			if w != e.rank {
				e.spinPeer[w] = p.Polls(w)
				e.spinAny = e.spinAny && e.spinPeer[w]
			}
		}
	}
	t.Start(e)
	return e
}

// queue returns the matching state of context ctx, creating it: messages for a communicator may
// arrive before this rank has finished creating it. Caller holds e.mu.
func (e *Engine) queue(ctx uint32) *queues {
	if e.lastQ != nil && e.lastCtx == ctx {
		return e.lastQ
	}
	q := e.queues[ctx]
	if q == nil {
		q = new(queues)
		e.queues[ctx] = q
	}
	e.lastCtx, e.lastQ = ctx, q
	return q
}

// Arrive implements transport.Handler.
func (e *Engine) Arrive(h transport.Header) ([]byte, any) {
	switch h.Kind {
	case transport.Eager:
		return e.arriveEager(h)
	case transport.RTS:
		e.arriveRTS(h)
	case transport.CTS:
		e.arriveCTS(h)
	case transport.Data:
		return e.arriveData(h)
	case transport.Cancel:
		e.arriveCancel(h)
	case transport.Fail:
		e.arriveFail(h)
	}
	return nil, nil
}

// Deliver implements transport.Deliverer: a whole Eager frame whose payload the transport
// holds in memory is matched and copied in one step, under one lock. Other frames take the
// Arrive and Complete steps.
func (e *Engine) Deliver(h transport.Header, payload []byte) {
	if h.Kind != transport.Eager {
		dst, cookie := e.Arrive(h)
		copy(dst, payload)
		e.Complete(h, cookie, nil)
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	dst, cookie := e.matchEager(h)
	copy(dst, payload)
	switch c := cookie.(type) {
	case *request:
		e.finish(c)
	case *message:
		c.complete = true
	}
}

func (e *Engine) arriveEager(h transport.Header) ([]byte, any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.matchEager(h)
}

// matchEager matches the Eager frame h with the first posted receive it fits, or queues it as
// an unexpected message, and returns where its payload goes and the request or message it
// completes. Caller holds e.mu.
func (e *Engine) matchEager(h transport.Header) ([]byte, any) {
	n := int(h.Length)
	q := e.queue(h.Context)
	if r := q.posted.find(h.Source, h.Tag); r != nil {
		q.posted.remove(r)
		r.state = stateMatched
		r.msgID = h.ID
		return e.claim(r, h.Source, h.Tag, n), r
	}
	m := e.newMessage(h, n)
	q.unexpected.push(m)
	e.wakeProbes(q, m)
	return m.buf, m
}

// claim records that receive r matched a message of n bytes from world rank src and returns
// where the payload goes: r's buffer, a new one (alloc), or nil (truncation: discard it).
// Caller holds e.mu.
func (e *Engine) claim(r *request, src, tag, n int) []byte {
	r.src = src
	r.st = backend.Status{Source: r.c.local(src), Tag: tag, Bytes: n}
	switch {
	case r.alloc:
		r.buf = make([]byte, n)
	case n > len(r.buf):
		r.err = &backend.Error{Op: r.op, Dir: backend.FromPeer, Peer: r.st.Source, Tag: tag, Size: n, Limit: len(r.buf), Err: backend.ErrTruncated}
		return nil
	}
	return r.buf[:n]
}

func (e *Engine) arriveRTS(h transport.Header) {
	e.mu.Lock()
	q := e.queue(h.Context)
	r := q.posted.find(h.Source, h.Tag)
	if r == nil {
		m := e.newMessage(h, 0)
		m.complete = true
		q.unexpected.push(m)
		e.wakeProbes(q, m)
		e.mu.Unlock()
		return
	}
	q.posted.remove(r)
	cts := e.matchRTS(r, h)
	// Never write from the transport's delivery path: the reader of a TCP connection that
	// blocks on a write can deadlock with its peer doing the same. A blocked receiver sends the
	// CTS itself; otherwise a goroutine does.
	if cts.Flags&transport.FlagReject == 0 && !r.user { // (a rejected r is finished: not to be touched)
		e.handOff(r, todoCTS, h.Source, cts)
		e.mu.Unlock()
		return
	}
	e.mu.Unlock()
	go e.sendCTS(h.Source, cts)
}

// matchRTS matches receive r with the announced message h and returns the CTS to send back.
// Caller holds e.mu.
func (e *Engine) matchRTS(r *request, h transport.Header) transport.Header {
	cts := transport.Header{Kind: transport.CTS, Context: h.Context, Tag: h.Tag, ID: h.ID}
	r.msgID = h.ID
	if e.claim(r, h.Source, h.Tag, int(h.Length)) == nil && h.Length > 0 {
		cts.Flags = transport.FlagReject
		e.finish(r) // truncated: claim set the error
		return cts
	}
	r.id = e.nextID
	e.nextID++
	r.sendID = h.ID
	r.state = stateMatched
	cts.Aux = r.id
	e.rdvRecvs[r.id] = r
	return cts
}

// sendCTS answers an RTS from world rank peer; if the sender is unreachable, the receive that
// waits for the payload fails. (A rejecting CTS belongs to a receive that already finished,
// and which may already be reused: only the id in the header identifies it.)
func (e *Engine) sendCTS(peer int, cts transport.Header) {
	if err := e.t.Send(peer, cts, nil); err != nil && cts.Flags&transport.FlagReject == 0 {
		e.mu.Lock()
		if r := e.rdvRecvs[cts.Aux]; r != nil {
			delete(e.rdvRecvs, cts.Aux)
			e.fail(r, e.peerErr(r, peer, err))
		}
		e.mu.Unlock()
	}
}

func (e *Engine) arriveCTS(h transport.Header) {
	e.mu.Lock()
	r := e.sends[h.ID]
	if r == nil || r.peer != h.Source {
		e.mu.Unlock() // the send was withdrawn; the receiver has been told
		return
	}
	delete(e.sends, h.ID)
	if h.Flags&transport.FlagReject != 0 {
		e.finish(r) // the receiver reported truncation on its side; the send is complete
		e.mu.Unlock()
		return
	}
	r.state = stateMatched
	if !r.user {
		e.handOff(r, todoData, r.peer, h) // the blocked sender sends its payload itself
		e.mu.Unlock()
		return
	}
	e.mu.Unlock()
	go e.sendData(context.Background(), r, h.Aux) // Wait(ctx) stops it through r.abort
}

// testHookFragmentSent, when set (by tests, before any engine starts), is called by the
// goroutine sending a fragmented payload after each fragment but the last, with the sending
// rank, the world rank it goes to, the message's tag, and the bytes sent so far.
var testHookFragmentSent func(rank, peer, tag, sent int)

// testHookAbort, when set (by tests, before any engine starts), is called with Engine.mu held
// when cancel asks the goroutine sending a payload to stop at its next fragment.
var testHookAbort func(rank, peer, tag int)

// sendData sends the payload of a rendezvous send once the receiver is ready for it: in one
// Data frame, or in fragments of the transport's FragmentSize, each sent with its own
// Transport.Send, so that other frames to the peer pass between them. Before each fragment it
// checks whether the send is to stop (ctx ended, or cancel set r.abort): then it withdraws the
// message with a Cancel frame, as a sender does before the CTS, and the receiver's receive
// fails with ErrCanceled.
func (e *Engine) sendData(ctx context.Context, r *request, recvID uint64) {
	n := len(r.buf)
	k := n
	if f := e.frags[r.peer]; f > 0 && f < n {
		k = f
	}
	h := transport.Header{Kind: transport.Data, Context: r.c.ctx, Tag: r.tag, Aux: recvID}
	var err error
	for off := 0; ; {
		if cause := e.stopped(ctx, r); cause != nil {
			e.withdrawData(r, off, cause)
			return
		}
		end := min(off+k, n)
		h.Offset, h.Length = int64(off), int64(end-off)
		if err = e.t.Send(r.peer, h, r.buf[off:end]); err != nil || end == n {
			break
		}
		off = end
		if hook := testHookFragmentSent; hook != nil {
			hook(e.rank, r.peer, r.tag, off)
		}
	}
	e.mu.Lock()
	if err != nil {
		e.fail(r, e.peerErr(r, r.peer, err))
	} else {
		e.finish(r)
	}
	e.mu.Unlock()
}

// stopped says why the rendezvous send r, whose payload is under way, must stop before its
// next fragment, or nil.
func (e *Engine) stopped(ctx context.Context, r *request) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return r.abort
}

// withdrawData withdraws the rendezvous send r after sent of its bytes went out: the receiver
// learns it from a Cancel frame (and drops what it got), and r fails with cause.
func (e *Engine) withdrawData(r *request, sent int, cause error) {
	// Tell the receiver first; if the peer is gone there is nobody to tell.
	_ = e.t.Send(r.peer, transport.Header{Kind: transport.Cancel, Context: r.c.ctx, Tag: r.tag, ID: r.id}, nil)
	e.mu.Lock()
	e.fail(r, &backend.Error{Op: r.op, Dir: backend.ToPeer, Peer: r.c.local(r.peer), Tag: r.tag, Size: len(r.buf), Limit: -1,
		Msg: fmt.Sprintf("withdrawn after %d of its %d bytes were sent", sent, len(r.buf)), Err: cause})
	e.mu.Unlock()
}

// arriveData places one Data frame: the whole payload of a rendezvous message, or its next
// fragment. Fragments of one message come in order (one sender, one connection), so each must
// start where the last ended.
func (e *Engine) arriveData(h transport.Header) ([]byte, any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	r := e.rdvRecvs[h.Aux]
	if r == nil || r.src != h.Source {
		return nil, nil // the receive failed meanwhile; drop the payload
	}
	delete(e.rdvRecvs, h.Aux)
	if h.Offset != r.got || h.Length > int64(r.st.Bytes)-h.Offset || (h.Length == 0 && r.st.Bytes > 0) {
		e.fail(r, e.peerErr(r, h.Source, fmt.Errorf("Data frame for bytes %d..%d of a %d-byte message that has %d",
			h.Offset, h.Offset+h.Length, r.st.Bytes, r.got)))
		return nil, nil
	}
	// Until Complete, r is in no table, so nothing else finishes it (and hands its buffer back
	// to its owner) while the transport writes into it.
	return r.buf[h.Offset : h.Offset+h.Length], r
}

func (e *Engine) arriveCancel(h transport.Header) {
	e.mu.Lock()
	defer e.mu.Unlock()
	q := e.queue(h.Context)
	for m := q.unexpected.head; m != nil; m = m.next {
		if m.h.Kind == transport.RTS && m.h.Source == h.Source && m.h.ID == h.ID {
			q.unexpected.remove(m)
			e.releaseMessage(m)
			return
		}
	}
	for id, r := range e.rdvRecvs {
		if r.src == h.Source && r.sendID == h.ID {
			delete(e.rdvRecvs, id)
			e.fail(r, &backend.Error{Op: r.op, Dir: backend.FromPeer, Peer: r.st.Source, Tag: r.st.Tag, Size: r.st.Bytes, Limit: -1,
				Msg: "the sender withdrew the message", Err: backend.ErrCanceled})
			return
		}
	}
}

// Complete implements transport.Handler.
func (e *Engine) Complete(h transport.Header, cookie any, err error) {
	switch c := cookie.(type) {
	case *request:
		e.mu.Lock()
		switch {
		case err != nil:
			e.fail(c, e.peerErr(c, h.Source, err))
		case h.Kind == transport.Data && h.Offset+h.Length < int64(c.st.Bytes):
			c.got = h.Offset + h.Length // more fragments to come
			e.rdvRecvs[c.id] = c
		default:
			e.finish(c)
		}
		e.mu.Unlock()
	case *message:
		e.mu.Lock()
		c.complete = true
		c.failed = err
		if r := c.recv; r != nil {
			e.deliver(c, r)
		} else if err != nil {
			e.queue(c.h.Context).unexpected.remove(c)
			e.releaseMessage(c)
		}
		e.mu.Unlock()
	}
}

// deliver hands the complete eager message m to receive r, which already claimed it, and
// finishes r. Caller holds e.mu.
func (e *Engine) deliver(m *message, r *request) {
	if m.failed != nil {
		e.fail(r, e.peerErr(r, m.h.Source, m.failed))
	} else {
		if r.err == nil {
			copy(r.buf, m.buf)
		}
		e.finish(r)
	}
	e.releaseMessage(m)
}

// wakeProbes finishes the blocked probes that message m matches. Caller holds e.mu.
func (e *Engine) wakeProbes(q *queues, m *message) {
	for r := q.probes.head; r != nil; {
		next := r.next
		if matches(r.peer, r.tag, m.h.Source, m.h.Tag) {
			q.probes.remove(r)
			r.st = backend.Status{Source: r.c.local(m.h.Source), Tag: m.h.Tag, Bytes: int(m.h.Length)}
			e.finish(r)
		}
		r = next
	}
}

// PeerFailed implements transport.Handler: every operation that waits on peer fails. Receives
// and probes from any source fail too when the peer vanished (it might have been the sender),
// but not when it finalized on purpose.
func (e *Engine) PeerFailed(peer int, graceful bool, cause error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.peers[peer].gone {
		return
	}
	p := &e.peers[peer]
	p.gone, p.graceful, p.err = true, graceful, cause
	if e.firstGone == nil {
		e.firstGone = &goneState{peer: peer, graceful: graceful}
	}
	e.troubled.Store(true)
	hit := func(r *request) bool {
		if r.peer == peer {
			return true
		}
		return r.peer == anySource && !graceful && r.c.contains(peer)
	}
	for _, q := range e.queues {
		for _, l := range []*reqList{&q.posted, &q.probes} {
			for r := l.head; r != nil; {
				next := r.next
				if hit(r) {
					l.remove(r)
					e.fail(r, e.peerErr(r, peer, nil))
				}
				r = next
			}
		}
	}
	for id, r := range e.sends {
		if r.peer == peer {
			delete(e.sends, id)
			e.fail(r, e.peerErr(r, peer, nil))
		}
	}
	for id, r := range e.rdvRecvs {
		if r.src == peer {
			delete(e.rdvRecvs, id)
			e.fail(r, e.peerErr(r, peer, nil))
		}
	}
}

// arriveFail records where the failure that is about to end peer h.Source began, as it says
// (a Fail frame): the errors that peer's going causes here will name that rank too.
func (e *Engine) arriveFail(h transport.Header) {
	if h.Aux >= uint64(e.size) || h.Source < 0 || h.Source >= e.size {
		return // not a rank of this job: nothing to name
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if p := &e.peers[h.Source]; !p.gone && p.told == nil {
		p.told = &backend.Origin{Rank: int(h.Aux), Left: h.Flags&transport.FlagLeft != 0}
	}
}

// origin returns where the failures on this rank began, as far as it knows: where the first
// peer to go said its failure began, or else that peer itself; nil while no peer has gone.
// Caller holds e.mu.
func (e *Engine) origin() *backend.Origin {
	g := e.firstGone
	if g == nil {
		return nil
	}
	if t := e.peers[g.peer].told; t != nil {
		return t
	}
	return &backend.Origin{Rank: g.peer, Left: g.graceful}
}

// originOf returns where the failure that made world rank peer go began: where peer said it
// began, or else where this rank's own failures began (usually peer itself). Caller holds
// e.mu.
func (e *Engine) originOf(peer int) *backend.Origin {
	if peer < 0 || peer >= len(e.peers) {
		return nil
	}
	if t := e.peers[peer].told; t != nil {
		return t
	}
	if o := e.origin(); o != nil {
		return o
	}
	return &backend.Origin{Rank: peer, Left: e.peers[peer].graceful}
}

// peerErr describes the failure of r because world rank peer is gone, naming the rank where
// the failure began when that is another: "rank 2 failed (rank 3 finalized and left first)".
// Caller holds e.mu.
func (e *Engine) peerErr(r *request, peer int, cause error) error {
	local := r.c.local(peer)
	if cause == nil && peer >= 0 && peer < len(e.peers) {
		cause = e.peers[peer].err
	}
	what := fmt.Sprintf("rank %d failed", local)
	if peer >= 0 && peer < len(e.peers) && e.peers[peer].graceful {
		what = fmt.Sprintf("rank %d finalized and left", local)
	}
	o := e.originOf(peer)
	if o != nil && o.Rank != peer {
		first := o.String()
		if !r.c.WorldOrder() {
			first = "world " + first
		}
		what += " (" + first + " first)"
	}
	return &backend.Error{Op: r.op, Dir: r.dir(), Peer: r.c.localOrAny(r.peer), Tag: tagOrNone(r.tag), Size: -1, Limit: -1,
		Msg: what, Err: backend.ErrPeerFailed, Cause: cause, Origin: o}
}

func tagOrNone(tag int) int {
	if tag < 0 {
		return -1
	}
	return tag
}

// Finalize implements backend.World.
func (e *Engine) finalize() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	e.troubled.Store(true)
	closed := func(r *request) error {
		return &backend.Error{Op: r.op, Dir: r.dir(), Peer: r.c.localOrAny(r.peer), Tag: tagOrNone(r.tag), Size: -1, Limit: -1, Msg: "world finalized", Err: backend.ErrClosed}
	}
	for _, q := range e.queues {
		for _, l := range []*reqList{&q.posted, &q.probes} {
			for r := l.head; r != nil; {
				next := r.next
				l.remove(r)
				e.fail(r, closed(r))
				r = next
			}
		}
	}
	for id, r := range e.sends {
		delete(e.sends, id)
		e.fail(r, closed(r))
	}
	e.mu.Unlock()
	return e.t.Close()
}
