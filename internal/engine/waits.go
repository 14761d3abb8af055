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
	waits.Block(r, w)
	return true
}

// describe returns r as a waits.Wait, since now.
func (r *request) describe() waits.Wait {
	w := waits.Wait{Op: r.op, Send: r.kind == kindSend, Peer: r.peer, Tag: r.tag, Bytes: len(r.buf), From: -2, Since: time.Now()}
	if r.peer < 0 {
		w.Peer = -1
	}
	if r.tag < 0 {
		w.Tag = -1
	}
	if r.c != nil {
		w.Comm = r.c.describe()
		w.Internal = r.c.shadow == r.c
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

// Describe names the communicator for reports: "world", "communicator 4 (3 ranks)".
func (c *Comm) Describe() string { return c.describe() }
