package engine

import (
	"context"
	"encoding/binary"
	"fmt"

	"github.com/gompi/gompi/internal/backend"
	"github.com/gompi/gompi/internal/trace"
)

// Tracing: when a recorder is attached (World.Trace), every point-to-point operation appends a
// trace.Event when it returns. The operations check Engine.tr once, and only when it is set
// take the *Traced variants below, which time the call, give eager messages an id, and time
// the waits (waitSpan). Off, the cost is that one check, plus one more per wake-up in a
// blocking wait.
//
// A message's id (trace.Event.Out on the send, In on the receive, with the sender's rank) is
// the ID field of the frame a receive matches: the rendezvous id of an RTS, which the engine
// always sets, or, for an eager message, a number the sender puts in the Eager frame's ID
// while it traces (eagerBit set, so that it never equals a rendezvous id; 0 otherwise, as
// before tracing existed). The wire format does not change: receivers never read that field.

// eagerBit marks the ids of eager messages, apart from rendezvous ids (counted from 1).
const eagerBit = 1 << 63

// Trace attaches rec to the engine: from now on every operation on every communicator of this
// world is recorded in it. Call it before the world is used (comm.Init does), at most once.
func (w *World) Trace(rec *trace.Recorder) { w.e.tr.Store(rec) }

// Tracing returns the recorder attached to c's engine (nil when not tracing) and c's context
// id, which trace events name communicators by. Package collectives records its calls with it.
func (c *Comm) Tracing() (*trace.Recorder, uint32) { return c.e.tr.Load(), c.ctx }

// msgID returns a new id for an eager message.
func (e *Engine) msgID() uint64 { return eagerBit | e.msgSeq.Add(1) }

// waitSpan collects the time a traced operation spends blocked: its first and last block, and
// the total.
type waitSpan struct {
	tr                 *trace.Recorder
	first, last, total int64
}

func (sp *waitSpan) add(from, to int64) {
	if sp.total == 0 && sp.first == 0 {
		sp.first = from
	}
	sp.last = to
	sp.total += to - from
}

// fill copies the span into e.
func (sp *waitSpan) fill(e *trace.Event) {
	if sp.last > 0 {
		e.WaitStart, e.WaitEnd, e.Wait = sp.first, sp.last, sp.total
	}
}

// timedToken is token, timed into sp when sp is not nil and the token is not there already.
func (r *request) timedToken(spin bool, ctxDone <-chan struct{}, sp *waitSpan) bool {
	if sp == nil {
		return r.token(spin, ctxDone)
	}
	if w := r.wake.Load(); w == wakeSignalled || w == wakeFinished {
		return true
	}
	t := sp.tr.Now()
	ok := r.token(spin, ctxDone)
	sp.add(t, sp.tr.Now())
	return ok
}

// event starts the record of an operation of c.
func (c *Comm) event(tr *trace.Recorder, op trace.Op) trace.Event {
	return trace.Event{Op: op, Start: tr.Now(), Dest: -1, Src: -1, Tag: -1, RTag: -1, Comm: c.ctx}
}

// event starts the record of an operation on r (which may belong to no communicator: the
// shared request of eager Isends).
func (r *request) event(tr *trace.Recorder, op trace.Op) trace.Event {
	if r.c != nil {
		return r.c.event(tr, op)
	}
	return trace.Event{Op: op, Start: tr.Now(), Dest: -1, Src: -1, Tag: -1, RTag: -1}
}

// received fills in what a receive got: its status and the message it matched.
func (c *Comm) received(ev *trace.Event, st backend.Status, err error, m matched) {
	switch {
	case m.src >= 0:
		ev.Src, ev.In = int32(m.src), m.id
	case err == nil && st.Source >= 0 && st.Source < len(c.group):
		ev.Src = int32(c.group[st.Source])
	}
	if ev.Src >= 0 {
		ev.RTag, ev.RBytes = int32(st.Tag), int64(st.Bytes)
	}
}

// record ends the record of an operation and adds it.
func record(tr *trace.Recorder, ev *trace.Event, sp *waitSpan, err error) {
	ev.End = tr.Now()
	sp.fill(ev)
	ev.Failed = err != nil
	tr.Add(ev)
}

func (c *Comm) sendTraced(ctx context.Context, tr *trace.Recorder, buf []byte, w, tag int) error {
	ev := c.event(tr, trace.OpSend)
	ev.Dest, ev.Tag, ev.Bytes = int32(w), int32(tag), int64(len(buf))
	sp := waitSpan{tr: tr}
	id, err := c.send(ctx, buf, w, tag, c.e.msgID(), &sp)
	ev.Out = id
	record(tr, &ev, &sp, err)
	return err
}

func (c *Comm) sendrecvTraced(ctx context.Context, tr *trace.Recorder, sbuf []byte, w, stag int, rbuf []byte, source, rtag int) (backend.Status, error, error) {
	ev := c.event(tr, trace.OpSendrecv)
	ev.Dest, ev.Tag, ev.Bytes = int32(w), int32(stag), int64(len(sbuf))
	sp := waitSpan{tr: tr}
	st, sendErr, recvErr, out, m := c.sendrecv(ctx, sbuf, w, stag, rbuf, source, rtag, c.e.msgID(), &sp)
	ev.Out = out
	c.received(&ev, st, recvErr, m)
	err := sendErr
	if err == nil {
		err = recvErr
	}
	record(tr, &ev, &sp, err)
	return st, sendErr, recvErr
}

func (c *Comm) isendTraced(tr *trace.Recorder, buf []byte, w, tag int) (backend.Request, error) {
	ev := c.event(tr, trace.OpIsend)
	ev.Dest, ev.Tag, ev.Bytes = int32(w), int32(tag), int64(len(buf))
	req, id := c.isend(buf, w, tag, c.e.msgID())
	ev.Out = id
	record(tr, &ev, &waitSpan{}, nil)
	return req, nil
}

func (c *Comm) recvTraced(ctx context.Context, tr *trace.Recorder, buf []byte, alloc bool, source, tag int) ([]byte, backend.Status, error) {
	ev := c.event(tr, trace.OpRecv)
	sp := waitSpan{tr: tr}
	buf, st, err, m := c.recv(ctx, buf, alloc, source, tag, &sp)
	c.received(&ev, st, err, m)
	record(tr, &ev, &sp, err)
	return buf, st, err
}

func (c *Comm) irecvTraced(tr *trace.Recorder, buf []byte, source, tag int) backend.Request {
	ev := c.event(tr, trace.OpIrecv)
	r := c.e.newUserReq(c, kindRecv, "Irecv")
	r.buf = buf
	c.post(r, source, tag)
	record(tr, &ev, &waitSpan{}, nil)
	return userRequest{r}
}

func (c *Comm) probeTraced(ctx context.Context, tr *trace.Recorder, source, tag int) (backend.Status, error) {
	ev := c.event(tr, trace.OpProbe)
	sp := waitSpan{tr: tr}
	st, err := c.probe(ctx, source, tag, &sp)
	c.received(&ev, st, err, matched{src: -1})
	ev.RBytes = 0 // probed, not received
	record(tr, &ev, &sp, err)
	return st, err
}

// waitTraced is Wait on a user request, recorded as a Wait; a receive's first Wait or Test
// that sees it complete records its message.
func (u userRequest) waitTraced(ctx context.Context, tr *trace.Recorder) (backend.Status, error) {
	r := u.r
	ev := r.event(tr, trace.OpWait)
	sp := waitSpan{tr: tr}
	st, err := r.wait(ctx, &sp)
	u.traceCompletion(&ev, st, err)
	record(tr, &ev, &sp, err)
	return st, err
}

// traceTest records a Test that found its request complete.
func (u userRequest) traceTest(tr *trace.Recorder) {
	ev := u.r.event(tr, trace.OpTest)
	u.traceCompletion(&ev, u.r.st, u.r.err)
	record(tr, &ev, &waitSpan{}, u.r.err)
}

// traceCompletion fills in what a completed receive got, the first time only.
func (u userRequest) traceCompletion(ev *trace.Event, st backend.Status, err error) {
	r := u.r
	if r.kind != kindRecv || !r.flowTaken.CompareAndSwap(false, true) {
		return
	}
	r.c.received(ev, st, err, matched{r.msgID, r.src})
}

// syncCtx is the context of the clock exchange (SyncClock): the parts context of the world's
// collective shadow, which does not exist (shadows carry no parts context), so nothing else
// ever uses it.
const syncCtx = partsBit | 1

// SyncClock estimates the offset of this rank's wall clock to world rank 0's: each other rank
// sends rank 0 rounds pings in turn, rank 0 answers each with its wall-clock time, and the
// sample with the shortest round trip is kept (half the round trip bounds its error). Every
// rank of the world must call it with the same rounds (comm.Init and comm.Finalize do, when
// tracing); ctx bounds it. Its messages are not recorded. Rank 0 returns an estimate of 0.
func (w *World) SyncClock(ctx context.Context, rec *trace.Recorder, rounds int) (trace.Clock, error) {
	e := w.e
	if e.size == 1 || rounds <= 0 {
		return trace.Clock{At: rec.Now()}, nil
	}
	sc := &Comm{e: e, ctx: syncCtx, rank: w.rank, group: w.group, toLocal: w.toLocal}
	sc.shadow = sc
	var buf [8]byte
	if e.rank == 0 {
		for range (e.size - 1) * rounds {
			_, st, err, _ := sc.recv(ctx, nil, false, backend.AnySource, 0, nil)
			if err != nil {
				return trace.Clock{}, fmt.Errorf("clock exchange: %w", err)
			}
			binary.LittleEndian.PutUint64(buf[:], uint64(rec.Wall(rec.Now())))
			if _, err := sc.send(ctx, buf[:], st.Source, 0, 0, nil); err != nil {
				return trace.Clock{}, fmt.Errorf("clock exchange: %w", err)
			}
		}
		return trace.Clock{At: rec.Now()}, nil
	}
	var best trace.Clock
	for range rounds {
		t1 := rec.Now()
		if _, err := sc.send(ctx, nil, 0, 0, 0, nil); err != nil {
			return trace.Clock{}, fmt.Errorf("clock exchange: %w", err)
		}
		if _, _, err, _ := sc.recv(ctx, buf[:], false, 0, 0, nil); err != nil {
			return trace.Clock{}, fmt.Errorf("clock exchange: %w", err)
		}
		t3 := rec.Now()
		t2 := int64(binary.LittleEndian.Uint64(buf[:]))
		if rtt := max(t3-t1, 1); best.RTT == 0 || rtt < best.RTT {
			mid := t1 + (t3-t1)/2
			best = trace.Clock{At: mid, Offset: rec.Wall(mid) - t2, RTT: rtt}
		}
	}
	return best, nil
}
