package engine

import (
	"fmt"
	"time"

	"github.com/gompi/gompi/internal/waits"
	"github.com/gompi/gompi/transport"
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

// Origin returns where the failures on this rank began, as far as it knows: the world rank
// that went first and whether it finalized (left) rather than died; ok is false while every
// peer is there. It is the first peer this rank saw go, unless that peer said (in a Fail
// frame) that its own failure began at another rank: then that rank. comm's Main reports it
// to gompirun (blame.RANK), which names it (launcher/blame.go).
func (w *World) Origin() (rank int, left, ok bool) {
	e := w.e
	e.mu.Lock()
	defer e.mu.Unlock()
	o := e.origin()
	if o == nil {
		return -1, false, false
	}
	return o.Rank, o.Left, true
}

// TellOrigin tells every peer still there that this rank is about to end because of a
// failure that began elsewhere, and where (Origin), in a Fail frame: their errors, when this
// rank's going fails their operations, then name that rank and not only this one. It does
// nothing while no peer has gone. It waits at most a second for the frames to leave (a peer
// that reads nothing must not hold up the exit of a rank that is failing anyway). The caller
// then ends the rank without finalizing (an abort, or the process's exit).
func (w *World) TellOrigin() {
	e := w.e
	e.mu.Lock()
	o := e.origin()
	var to []int
	if o != nil {
		for p := range e.peers {
			if p != e.rank && p != o.Rank && !e.peers[p].gone {
				to = append(to, p)
			}
		}
	}
	e.mu.Unlock()
	if len(to) == 0 {
		return
	}
	h := transport.Header{Kind: transport.Fail, Aux: uint64(o.Rank)}
	if o.Left {
		h.Flags = transport.FlagLeft
	}
	done := make(chan struct{}, len(to))
	for _, p := range to {
		go func() {
			e.t.Send(p, h, nil) // a peer gone meanwhile needs no telling
			done <- struct{}{}
		}()
	}
	t := time.NewTimer(time.Second)
	defer t.Stop()
	for range to {
		select {
		case <-done:
		case <-t.C:
			return
		}
	}
}
