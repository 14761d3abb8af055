// Package inproc is the in-process transport: every rank is a set of goroutines in one process,
// and a frame moves by handing it to the receiving rank's engine, which copies the payload
// straight into the posted receive buffer when there is one. Run starts N such ranks and calls a
// function on each, which is how most tests and teaching snippets use gompi.
package inproc

import (
	"errors"
	"fmt"
	"sync"

	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/internal/commlink"
	"github.com/gompi/gompi/internal/engine"
	"github.com/gompi/gompi/transport"
)

// DefaultEagerLimit is the largest message sent in one step. Larger ones wait for their receive
// (rendezvous), so a sender far ahead of its receivers cannot fill memory with copies.
const DefaultEagerLimit = 64 << 10

// network connects the ends of one in-process job.
type network struct {
	ends  []*end
	hosts []int // the pretended host of every rank (RunOnHosts), or nil
}

// end is one rank's transport. It is safe for concurrent use.
type end struct {
	net   *network
	rank  int
	eager int

	mu      sync.Mutex // guards h, leaving and closed
	h       transport.Handler
	leaving bool // leave has begun
	closed  bool // leave has told every peer: frames to this rank fail
}

// NewTransports returns the transports of an in-process job of n ranks, with the given eager
// limit (0 means DefaultEagerLimit).
func NewTransports(n, eagerLimit int) []transport.Transport {
	if eagerLimit <= 0 {
		eagerLimit = DefaultEagerLimit
	}
	nw := &network{ends: make([]*end, n)}
	ts := make([]transport.Transport, n)
	for i := range nw.ends {
		nw.ends[i] = &end{net: nw, rank: i, eager: eagerLimit}
		ts[i] = nw.ends[i]
	}
	return ts
}

// Hosts implements transport.HostMap: the hosts given to RunOnHosts, else nil.
func (t *end) Hosts() []int { return t.net.hosts }

func (t *end) Rank() int       { return t.rank }
func (t *end) Size() int       { return len(t.net.ends) }
func (t *end) EagerLimit() int { return t.eager }

func (t *end) Start(h transport.Handler) {
	t.mu.Lock()
	t.h = h
	t.mu.Unlock()
}

func (t *end) handler() (transport.Handler, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.h, !t.closed
}

// Send delivers the frame synchronously into the peer's engine.
func (t *end) Send(peer int, h transport.Header, payload []byte) error {
	if peer < 0 || peer >= len(t.net.ends) || peer == t.rank {
		return fmt.Errorf("inproc: rank %d cannot send to rank %d", t.rank, peer)
	}
	if _, open := t.handler(); !open {
		return errors.New("inproc: transport closed")
	}
	dst, open := t.net.ends[peer].handler()
	if !open || dst == nil {
		return fmt.Errorf("inproc: rank %d is gone", peer)
	}
	h.Source = t.rank
	buf, cookie := dst.Arrive(h)
	copy(buf, payload[:len(buf)])
	dst.Complete(h, cookie, nil)
	return nil
}

// Close tells every peer that this rank leaves on purpose.
func (t *end) Close() error { t.leave(true, nil); return nil }

// fail tells every peer that this rank died.
func (t *end) fail(err error) { t.leave(false, err) }

// leave tells every peer that this rank is gone, and how, before it refuses their frames: a
// peer whose send finds it closed has been told already, so its error says how this rank
// went (finalized and left, or failed) rather than only that it is gone.
func (t *end) leave(graceful bool, err error) {
	t.mu.Lock()
	if t.leaving {
		t.mu.Unlock()
		return
	}
	t.leaving = true
	t.mu.Unlock()
	for _, p := range t.net.ends {
		if p == t {
			continue
		}
		if h, open := p.handler(); open && h != nil {
			h.PeerFailed(t.rank, graceful, err)
		}
	}
	t.mu.Lock()
	t.closed = true
	t.mu.Unlock()
}

// Run runs f on n in-process ranks, each with its own world communicator, and waits for all of
// them. It returns the errors of the ranks that failed, joined, each prefixed with its rank. A
// rank whose f returns an error (or panics) counts as failed: its peers' pending and later
// operations with it fail with comm.ErrPeerFailed instead of hanging.
func Run(n int, f func(c *comm.Comm) error) error {
	return RunWithEagerLimit(n, 0, f)
}

// RunWithEagerLimit is Run with a chosen eager limit (bytes), so tests can exercise the
// rendezvous protocol with small messages.
func RunWithEagerLimit(n, eagerLimit int, f func(c *comm.Comm) error) error {
	return run(n, eagerLimit, nil, f)
}

// RunOnHosts is Run on len(hosts) ranks that pretend to be spread over several hosts: rank i
// on host hosts[i] (any integers; ranks with equal numbers share a host). The ranks still
// reach each other in-process; what changes is what gompi's collectives believe, so that
// tests can check their node-aware algorithms (an intra-host phase, then one between a
// leader per host) on one machine, with any layout, uneven ones included.
func RunOnHosts(hosts []int, f func(c *comm.Comm) error) error {
	number := map[int]int{}
	norm := make([]int, len(hosts))
	for i, h := range hosts {
		if _, ok := number[h]; !ok {
			number[h] = len(number)
		}
		norm[i] = number[h]
	}
	return run(len(hosts), 0, norm, f)
}

func run(n, eagerLimit int, hosts []int, f func(c *comm.Comm) error) error {
	if n < 1 {
		return fmt.Errorf("inproc: need at least one rank, got %d", n)
	}
	ts := NewTransports(n, eagerLimit)
	if hosts != nil {
		ts[0].(*end).net.hosts = hosts
	}
	worlds := make([]*engine.World, n)
	for i, t := range ts {
		worlds[i] = engine.NewWorld(t)
	}
	return engine.RunRanks(worlds,
		func(w *engine.World) error { return f(commlink.New[*comm.Comm](w)) },
		func(rank int, err error) { ts[rank].(*end).fail(err) })
}
