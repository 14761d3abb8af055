package engine

import (
	"fmt"
	"time"

	"github.com/gompi/gompi/internal/waits"
)

// Waits for the hang report (package waits): a goroutine about to park on a request (after any
// polling) registers what it waits for, and removes it when it wakes. Parking costs a
// wake-up anyway; a wait that polls and finishes registers nothing.

// blockWait registers r's wait if registering is on, and returns whether it did.
func (r *request) blockWait() bool {
	if !waits.Enabled() {
		return false
	}
	r.parkedAt = time.Now()
	if r.c != nil {
		if l := r.c.coll.Load(); l != nil && l.Since.IsZero() {
			// The collective's first park: the label's goroutine is this one (a collective
			// call runs on one goroutine), and the registry's lock orders it for reports.
			l.Since = r.parkedAt
		}
	}
	waits.Block(r)
	return true
}

// Wait describes r for a hang report (waits.Waiter): called under the registry's lock while r's
// owner is parked on it, so r does not change meanwhile.
func (r *request) Wait() waits.Wait {
	w := r.describe()
	if p := r.pair; p != nil {
		// Name only the half still under way: an eager send is done at once, and then the
		// Sendrecv waits for its receive alone.
		r.e.mu.Lock()
		sendDone, recvDone := r.state == stateDone, p.state == stateDone
		r.e.mu.Unlock()
		switch {
		case sendDone:
			w = p.describe()
		case !recvDone:
			w.From = p.describe().Peer
		}
		w.Op = "Sendrecv"
	}
	w.Since = r.parkedAt
	return w
}

// describe returns r as a waits.Wait.
func (r *request) describe() waits.Wait {
	w := waits.Wait{Op: r.op, Send: r.kind == kindSend, Peer: r.peer, Tag: r.tag, Bytes: len(r.buf), From: -2}
	if r.peer < 0 {
		w.Peer = -1
	}
	if r.tag < 0 {
		w.Tag = -1
	}
	if r.c != nil {
		w.Comm = r.c.describe()
		w.Internal = r.c.shadow == r.c
		if l := r.c.coll.Load(); l != nil {
			w.Collective, w.CollSince = l.Name, l.Since
		}
	}
	return w
}

// describe names c for a report: "world", "world (collectives)", "communicator 4 (3 ranks)",
// "... (values)" for the context of values' parts.
func (c *Comm) describe() string {
	ctx := c.ctx &^ partsBit
	suffix := ""
	switch {
	case c.ctx&partsBit != 0:
		suffix = " (values)"
	case c.shadow == c:
		ctx--
		suffix = " (collectives)"
	}
	if ctx == worldCtx {
		return "world" + suffix
	}
	return fmt.Sprintf("communicator %d (%d ranks)%s", ctx, len(c.group), suffix)
}

// SetCollective labels the collective call c (a collective context) is in, for the waits
// registered meanwhile; nil when the call is over. The collectives call it only while
// registering is on (waits.Enabled).
func (c *Comm) SetCollective(l *waits.Label) { c.coll.Store(l) }

// FirstGone returns the first world rank this rank saw go (its connection ended), and whether
// it said goodbye (finalized) rather than vanished; ok is false while every peer is there.
// When a rank fails because a peer went, that peer is usually where the failure began: comm's
// Main reports it to gompirun, which names it (launcher/blame.go).
func (w *World) FirstGone() (peer int, graceful, ok bool) {
	e := w.e
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.firstGone == nil {
		return -1, false, false
	}
	return e.firstGone.peer, e.firstGone.graceful, true
}
