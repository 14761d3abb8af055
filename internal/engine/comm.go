package engine

import (
	"context"
	"sync/atomic"

	"github.com/gompi/gompi/internal/backend"
	"github.com/gompi/gompi/internal/waits"
	"github.com/gompi/gompi/transport"
)

// Context ids: the world uses 0 for point-to-point and 1 for its collectives; every communicator
// made later takes a fresh even id agreed by its members, and id+1 for its collectives. The
// parts of large Go values (package comm's SendValue) travel on id|partsBit, a context nothing
// else uses: agreed ids stay far below 2^31, so the bit never clashes with one.
const (
	worldCtx uint32 = 0
	partsBit uint32 = 1 << 31
)

// Comm is one communicator on one rank; it implements backend.Backend. Safe for concurrent use.
type Comm struct {
	e       *Engine
	ctx     uint32
	rank    int
	group   []int // communicator rank -> world rank
	toLocal []int // world rank -> communicator rank, or -1
	shadow  *Comm // same group, context ctx+1, for collectives
	hosts   *backend.Hosts
	parts   *Comm // same group, context ctx|partsBit, for the parts of values; nil on a shadow
	freed   atomic.Bool
	world   bool
	// strict: the program's sends on this communicator complete only when matched, whatever
	// their size (GOMPI_STRICT=1; never on the collective and values contexts, whose
	// protocols rely on eager sends)
	strict bool
	coll   atomic.Pointer[waits.Label] // the collective call in progress, for hang reports (waits.go)
}

func newComm(e *Engine, ctx uint32, group []int) *Comm {
	toLocal := make([]int, e.size)
	for i := range toLocal {
		toLocal[i] = -1
	}
	for i, w := range group {
		toLocal[w] = i
	}
	var hosts *backend.Hosts
	if e.hosts != nil {
		of := make([]int, len(group))
		for i, w := range group {
			of[i] = e.hosts[w]
		}
		hosts = backend.NewHosts(of)
	}
	c := &Comm{e: e, ctx: ctx, rank: toLocal[e.rank], group: group, toLocal: toLocal, hosts: hosts, strict: e.strict}
	c.shadow = &Comm{e: e, ctx: ctx + 1, rank: c.rank, group: group, toLocal: toLocal, hosts: hosts}
	c.shadow.shadow = c.shadow
	c.parts = &Comm{e: e, ctx: ctx | partsBit, rank: c.rank, group: group, toLocal: toLocal}
	c.parts.shadow = c.parts
	return c
}

// local converts a world rank to this communicator's numbering (anySource stays).
func (c *Comm) local(world int) int {
	if world < 0 || world >= len(c.toLocal) {
		return world
	}
	return c.toLocal[world]
}

// WorldOrder reports whether c's ranks are the world's, in the world's order (the world and
// its collective context, or a Dup of it), so that a world rank (an error's Origin) needs no
// "world" before it.
func (c *Comm) WorldOrder() bool {
	if len(c.group) != c.e.size {
		return false
	}
	for i, w := range c.group {
		if i != w {
			return false
		}
	}
	return true
}

func (c *Comm) localOrAny(world int) int {
	if world == anySource {
		return anySource
	}
	return c.local(world)
}

func (c *Comm) contains(world int) bool { return c.toLocal[world] >= 0 }

// Hosts implements backend.HostMap: how c's ranks sit on hosts, made with c; nil when the
// transport does not know.
func (c *Comm) Hosts() *backend.Hosts { return c.hosts }

// Rank implements backend.Backend.
func (c *Comm) Rank() int { return c.rank }

// Size implements backend.Backend.
func (c *Comm) Size() int { return len(c.group) }

// Collective implements backend.Backend.
func (c *Comm) Collective() backend.Backend { return c.shadow }

// ValueParts implements backend.ValueParts: the communicator's private context for the parts
// of large values, made with the communicator (so using it is never collective). A shadow has
// none.
func (c *Comm) ValueParts() backend.Backend {
	if c.parts == nil {
		return nil
	}
	return c.parts
}

// Native implements backend.Backend: the Go engine has no native collectives.
func (c *Comm) Native() backend.Native { return nil }

// Free implements backend.Backend.
func (c *Comm) Free() error {
	if c.world {
		return backend.Errorf("Free", backend.NoDirection, backend.NoPeer, -1, backend.ErrInvalidArgument, "the world communicator cannot be freed; call comm.Finalize")
	}
	if c.freed.Swap(true) {
		return nil
	}
	c.shadow.freed.Store(true)
	if c.parts != nil {
		c.parts.freed.Store(true)
	}
	e := c.e
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, ctx := range []uint32{c.ctx, c.ctx + 1, c.ctx | partsBit} {
		q := e.queues[ctx]
		if q == nil {
			continue
		}
		for _, l := range []*reqList{&q.posted, &q.probes} {
			for r := l.head; r != nil; {
				next := r.next
				l.remove(r)
				e.fail(r, &backend.Error{Op: r.op, Dir: r.dir(), Peer: c.localOrAny(r.peer), Tag: tagOrNone(r.tag), Size: -1, Limit: -1, Msg: "communicator freed", Err: backend.ErrClosed})
				r = next
			}
		}
	}
	return nil
}

// checkPeer validates the rank and tag of a send (wild false) or receive (wild true).
func (c *Comm) check(op string, peer, tag int, wild bool) error {
	if c.freed.Load() {
		return backend.Errorf(op, backend.NoDirection, backend.NoPeer, -1, backend.ErrClosed, "communicator was freed")
	}
	if peer < 0 || peer >= len(c.group) {
		if !(wild && peer == anySource) {
			return &backend.Error{Op: op, Peer: backend.NoPeer, Tag: -1, Size: -1, Limit: -1, Err: backend.ErrInvalidRank,
				Msg: sprintf("rank %d is not in the communicator (size %d)", peer, len(c.group))}
		}
	}
	if tag < 0 || tag > backend.MaxTag {
		if !(wild && tag == anyTag) {
			return &backend.Error{Op: op, Peer: backend.NoPeer, Tag: -1, Size: -1, Limit: -1, Err: backend.ErrInvalidTag,
				Msg: sprintf("tag %d is outside 0..%d", tag, backend.MaxTag)}
		}
	}
	return nil
}

// worldPeer converts a validated communicator rank (or anySource) to a world rank.
func (c *Comm) worldPeer(peer int) int {
	if peer == anySource {
		return anySource
	}
	return c.group[peer]
}

// Send implements backend.Backend.
func (c *Comm) Send(ctx context.Context, buf []byte, dest, tag int) error {
	if err := c.check("Send", dest, tag, false); err != nil {
		return err
	}
	if tr := c.e.tr.Load(); tr != nil {
		return c.sendTraced(ctx, tr, buf, c.group[dest], tag)
	}
	_, err := c.send(ctx, buf, c.group[dest], tag, 0, nil)
	return err
}

// send sends buf to world rank w and returns the message's id: id, which an eager frame
// carries (0 when not tracing), or the rendezvous id. When tracing, sp (else nil) collects the
// time it blocks.
func (c *Comm) send(ctx context.Context, buf []byte, w, tag int, id uint64, sp *waitSpan) (uint64, error) {
	e := c.e
	if w == e.rank || len(buf) <= e.eagers[w] && !c.strict {
		return id, c.sendEager("Send", buf, w, tag, id)
	}
	r := e.getReq(c, kindSend, "Send")
	c.startRendezvous(r, buf, w, tag)
	_, err := r.wait(ctx, sp)
	id = r.id
	putReq(r)
	return id, err
}

// Sendrecv implements backend.Sendrecver: it sends sbuf to dest with stag while it receives
// from source with rtag into rbuf, both with pooled requests that the calling goroutine drives
// (waitPair), so that it allocates nothing, and two ranks exchanging large messages cannot
// deadlock. If the send fails, the receive is withdrawn unless it has matched.
func (c *Comm) Sendrecv(ctx context.Context, sbuf []byte, dest, stag int, rbuf []byte, source, rtag int) (backend.Status, error, error) {
	if err := c.check("Sendrecv", dest, stag, false); err != nil {
		return backend.Status{}, err, err
	}
	if err := c.check("Sendrecv", source, rtag, true); err != nil {
		return backend.Status{}, err, err
	}
	if tr := c.e.tr.Load(); tr != nil {
		return c.sendrecvTraced(ctx, tr, sbuf, c.group[dest], stag, rbuf, source, rtag)
	}
	st, sendErr, recvErr, _, _ := c.sendrecv(ctx, sbuf, c.group[dest], stag, rbuf, source, rtag, 0, nil)
	return st, sendErr, recvErr
}

// sendrecv is Sendrecv to world rank w. It also returns the id of the message sent (as send
// does; id is the one an eager frame carries) and what the receive matched; when tracing, sp
// (else nil) collects the time it blocks.
func (c *Comm) sendrecv(ctx context.Context, sbuf []byte, w, stag int, rbuf []byte, source, rtag int, id uint64, sp *waitSpan) (st backend.Status, sendErr, recvErr error, out uint64, in matched) {
	e := c.e
	s := e.getReq(c, kindSend, "Sendrecv")
	s.peer = w
	r := e.getReq(c, kindRecv, "Sendrecv")
	r.owner = s
	r.buf = rbuf
	r.src = -1
	c.post(r, source, rtag)
	if w == e.rank || len(sbuf) <= e.eagers[w] && !c.strict {
		s.err = c.sendEager("Sendrecv", sbuf, w, stag, id)
		s.state = stateDone // never registered anywhere: nobody else sees s
	} else {
		c.startRendezvous(s, sbuf, w, stag)
		id = s.id
	}
	waitPair(ctx, s, r, sp)
	st, sendErr, recvErr, in = r.st, s.err, r.err, matched{r.msgID, r.src}
	putReq(r)
	putReq(s)
	return st, sendErr, recvErr, id, in
}

// sendEager sends a whole message at once: to a peer in one frame, to oneself by delivering it
// straight to this engine's own matching (self-sends never wait for the receiver). id goes in
// the frame's ID: the message's trace id, or 0 when not tracing.
func (c *Comm) sendEager(op string, buf []byte, w, tag int, id uint64) error {
	e := c.e
	h := transport.Header{Kind: transport.Eager, Context: c.ctx, Source: e.rank, Tag: tag, Length: int64(len(buf)), ID: id}
	if w == e.rank {
		if err := e.usable(c, op, w, tag); err != nil {
			return err
		}
		dst, cookie := e.Arrive(h)
		copy(dst, buf)
		e.Complete(h, cookie, nil)
		return nil
	}
	if err := e.usable(c, op, w, tag); err != nil {
		return err
	}
	if err := e.t.Send(w, h, buf); err != nil {
		return c.sendErr(op, w, tag, err)
	}
	return nil
}

// usable reports why a new operation with world rank w cannot start: world finalized, or w gone.
func (e *Engine) usable(c *Comm, op string, w, tag int) error {
	if !e.troubled.Load() {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return backend.Errorf(op, backend.ToPeer, c.localOrAny(w), tagOrNone(tag), backend.ErrClosed, "world finalized")
	}
	if w >= 0 && e.peers[w].gone {
		r := request{c: c, kind: kindSend, op: op, peer: w, tag: tag}
		return e.peerErr(&r, w, nil)
	}
	return nil
}

func (c *Comm) sendErr(op string, w, tag int, cause error) error {
	e := c.e
	e.mu.Lock()
	defer e.mu.Unlock()
	r := request{c: c, kind: kindSend, op: op, peer: w, tag: tag}
	return e.peerErr(&r, w, cause)
}

// startRendezvous registers r as a send waiting for CTS and sends the RTS.
func (c *Comm) startRendezvous(r *request, buf []byte, w, tag int) {
	e := c.e
	r.peer, r.tag, r.buf = w, tag, buf
	e.mu.Lock()
	if e.closed {
		e.fail(r, backend.Errorf(r.op, backend.ToPeer, c.local(w), tag, backend.ErrClosed, "world finalized"))
		e.mu.Unlock()
		return
	}
	if e.peers[w].gone {
		e.fail(r, e.peerErr(r, w, nil))
		e.mu.Unlock()
		return
	}
	r.id = e.nextID
	e.nextID++
	r.state = stateWaitCTS
	e.sends[r.id] = r
	e.mu.Unlock()
	err := e.t.Send(w, transport.Header{Kind: transport.RTS, Context: c.ctx, Tag: tag, Length: int64(len(buf)), ID: r.id}, nil)
	if err != nil {
		e.mu.Lock()
		if e.sends[r.id] == r {
			delete(e.sends, r.id)
			e.fail(r, e.peerErr(r, w, err))
		}
		e.mu.Unlock()
	}
}

// Isend implements backend.Backend.
func (c *Comm) Isend(buf []byte, dest, tag int) (backend.Request, error) {
	if err := c.check("Isend", dest, tag, false); err != nil {
		return nil, err
	}
	if tr := c.e.tr.Load(); tr != nil {
		return c.isendTraced(tr, buf, c.group[dest], tag)
	}
	req, _ := c.isend(buf, c.group[dest], tag, 0)
	return req, nil
}

// isend starts a send to world rank w and returns its request and the message's id (as send
// does: id is the one an eager frame carries).
func (c *Comm) isend(buf []byte, w, tag int, id uint64) (backend.Request, uint64) {
	if w == c.e.rank || len(buf) <= c.e.eagers[w] && !c.strict {
		err := c.sendEager("Isend", buf, w, tag, id)
		return c.e.doneRequest(c, "Isend", backend.Status{}, err), id
	}
	r := c.e.newUserReq(c, kindSend, "Isend")
	c.startRendezvous(r, buf, w, tag)
	return userRequest{r}, r.id
}

// Recv implements backend.Backend.
func (c *Comm) Recv(ctx context.Context, buf []byte, source, tag int) (backend.Status, error) {
	if err := c.check("Recv", source, tag, true); err != nil {
		return backend.Status{}, err
	}
	if tr := c.e.tr.Load(); tr != nil {
		_, st, err := c.recvTraced(ctx, tr, buf, false, source, tag)
		return st, err
	}
	_, st, err, _ := c.recv(ctx, buf, false, source, tag, nil)
	return st, err
}

// RecvAlloc implements backend.Backend.
func (c *Comm) RecvAlloc(ctx context.Context, source, tag int) ([]byte, backend.Status, error) {
	if err := c.check("Recv", source, tag, true); err != nil {
		return nil, backend.Status{}, err
	}
	if tr := c.e.tr.Load(); tr != nil {
		return c.recvTraced(ctx, tr, nil, true, source, tag)
	}
	buf, st, err, _ := c.recv(ctx, nil, true, source, tag, nil)
	return buf, st, err
}

// matched is what a receive matched, for tracing: the id its message's frame carried, and the
// sender's world rank (-1 when it matched nothing).
type matched struct {
	id  uint64
	src int
}

// recv receives into buf, or into a new buffer of the message's length (alloc), and returns
// the buffer and what it matched. When tracing, sp (else nil) collects the time it blocks.
func (c *Comm) recv(ctx context.Context, buf []byte, alloc bool, source, tag int, sp *waitSpan) ([]byte, backend.Status, error, matched) {
	r := c.e.getReq(c, kindRecv, "Recv")
	r.buf, r.alloc, r.src = buf, alloc, -1
	c.post(r, source, tag)
	st, err := r.wait(ctx, sp)
	buf, m := r.buf, matched{r.msgID, r.src}
	putReq(r)
	return buf, st, err, m
}

// Irecv implements backend.Backend.
func (c *Comm) Irecv(buf []byte, source, tag int) (backend.Request, error) {
	if err := c.check("Irecv", source, tag, true); err != nil {
		return nil, err
	}
	if tr := c.e.tr.Load(); tr != nil {
		return c.irecvTraced(tr, buf, source, tag), nil
	}
	r := c.e.newUserReq(c, kindRecv, "Irecv")
	r.buf = buf
	c.post(r, source, tag)
	return userRequest{r}, nil
}

// post matches receive r against the unexpected messages, or queues it.
func (c *Comm) post(r *request, source, tag int) {
	e := c.e
	r.peer, r.tag = c.worldPeer(source), tag
	e.mu.Lock()
	if err := e.blocked(c, r); err != nil {
		e.fail(r, err)
		e.mu.Unlock()
		return
	}
	q := e.queue(c.ctx)
	m := q.unexpected.find(r.peer, r.tag)
	if m == nil {
		r.state = statePosted
		q.posted.push(r)
		e.mu.Unlock()
		return
	}
	q.unexpected.remove(m)
	r.msgID = m.h.ID
	if m.h.Kind == transport.RTS {
		cts := e.matchRTS(r, m.h)
		src := m.h.Source
		e.releaseMessage(m)
		e.mu.Unlock()
		e.sendCTS(src, cts)
		return
	}
	r.state = stateMatched
	e.claim(r, m.h.Source, m.h.Tag, int(m.h.Length))
	if m.complete {
		e.deliver(m, r)
	} else {
		m.recv = r // the payload is still arriving; Complete delivers it
	}
	e.mu.Unlock()
}

// blocked reports why receive or probe r cannot wait: the world is closed, or the only rank
// that could send is gone. A wildcard receive only fails if a member vanished (not finalized)
// and no queued message matches; the caller checks the queue first for specific sources too,
// since messages that arrived before a failure can still be received. Caller holds e.mu.
func (e *Engine) blocked(c *Comm, r *request) error {
	if e.closed {
		return backend.Errorf(r.op, backend.FromPeer, c.localOrAny(r.peer), tagOrNone(r.tag), backend.ErrClosed, "world finalized")
	}
	if e.queue(c.ctx).unexpected.find(r.peer, r.tag) != nil {
		return nil
	}
	if r.peer >= 0 {
		if e.peers[r.peer].gone {
			return e.peerErr(r, r.peer, nil)
		}
		return nil
	}
	for _, w := range c.group {
		if p := e.peers[w]; p.gone && !p.graceful {
			return e.peerErr(r, w, nil)
		}
	}
	return nil
}

// Probe implements backend.Backend.
func (c *Comm) Probe(ctx context.Context, source, tag int) (backend.Status, error) {
	if err := c.check("Probe", source, tag, true); err != nil {
		return backend.Status{}, err
	}
	if tr := c.e.tr.Load(); tr != nil {
		return c.probeTraced(ctx, tr, source, tag)
	}
	return c.probe(ctx, source, tag, nil)
}

// probe is Probe; when tracing, sp (else nil) collects the time it blocks.
func (c *Comm) probe(ctx context.Context, source, tag int, sp *waitSpan) (backend.Status, error) {
	e := c.e
	r := e.getReq(c, kindProbe, "Probe")
	r.peer, r.tag = c.worldPeer(source), tag
	e.mu.Lock()
	q := e.queue(c.ctx)
	if m := q.unexpected.find(r.peer, r.tag); m != nil {
		st := backend.Status{Source: c.local(m.h.Source), Tag: m.h.Tag, Bytes: int(m.h.Length)}
		e.mu.Unlock()
		putReq(r)
		return st, nil
	}
	if err := e.blocked(c, r); err != nil {
		e.mu.Unlock()
		putReq(r)
		return backend.Status{}, err
	}
	r.state = statePosted
	q.probes.push(r)
	e.mu.Unlock()
	st, err := r.wait(ctx, sp)
	putReq(r)
	return st, err
}

// Iprobe implements backend.Backend.
func (c *Comm) Iprobe(source, tag int) (backend.Status, bool, error) {
	if err := c.check("Iprobe", source, tag, true); err != nil {
		return backend.Status{}, false, err
	}
	e := c.e
	peer := c.worldPeer(source)
	e.mu.Lock()
	defer e.mu.Unlock()
	if m := e.queue(c.ctx).unexpected.find(peer, tag); m != nil {
		return backend.Status{Source: c.local(m.h.Source), Tag: m.h.Tag, Bytes: int(m.h.Length)}, true, nil
	}
	r := request{c: c, kind: kindProbe, op: "Iprobe", peer: peer, tag: tag}
	return backend.Status{}, false, e.blocked(c, &r)
}
