package join

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/gompi/gompi/transport"
)

// mux is the transport of a rank that reaches some peers through one transport (shared
// memory, on its host) and the others through another (TCP): the engine sees one transport,
// and each frame goes through the one that reaches its peer.
type mux struct {
	rank, size int
	parts      []transport.Transport
	by         []transport.Transport // by world rank; nil for this rank
	poller     transport.Poller      // the part that delivers by polling, if any
	hosts      []int                 // the host of every world rank (transport.HostMap)
}

// Hosts implements transport.HostMap.
func (m *mux) Hosts() []int { return m.hosts }

func newMux(rank, size int, parts ...transport.Transport) (*mux, error) {
	m := &mux{rank: rank, size: size, parts: parts, by: make([]transport.Transport, size)}
	for _, p := range parts {
		if pl, ok := p.(transport.Poller); ok {
			m.poller = pl
		}
	}
	return m, nil
}

// route says that peer is reached through t.
func (m *mux) route(peer int, t transport.Transport) { m.by[peer] = t }

func (m *mux) Rank() int { return m.rank }
func (m *mux) Size() int { return m.size }

// EagerLimit is the smallest of the parts' limits; PeerEagerLimit gives each peer its own.
func (m *mux) EagerLimit() int {
	l := 0
	for i, p := range m.parts {
		if i == 0 || p.EagerLimit() < l {
			l = p.EagerLimit()
		}
	}
	return l
}

func (m *mux) PeerEagerLimit(peer int) int {
	if t := m.by[peer]; t != nil {
		return t.EagerLimit()
	}
	return m.EagerLimit()
}

// FragmentSize is the fragment size of the part that reaches peer, if it fragments.
func (m *mux) FragmentSize(peer int) int {
	if f, ok := m.by[peer].(transport.Fragmenter); ok {
		return f.FragmentSize(peer)
	}
	return 0
}

func (m *mux) Start(h transport.Handler) {
	for _, p := range m.parts {
		p.Start(h)
	}
}

func (m *mux) Send(peer int, h transport.Header, payload []byte) error {
	if peer < 0 || peer >= m.size || m.by[peer] == nil {
		return fmt.Errorf("join: no transport to rank %d", peer)
	}
	return m.by[peer].Send(peer, h, payload)
}

// Close closes the parts at once: each waits for its peers' goodbyes, and a peer says goodbye
// on all its transports before it waits.
func (m *mux) Close() error {
	errs := make([]error, len(m.parts))
	var wg sync.WaitGroup
	for i, p := range m.parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = p.Close()
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (m *mux) Polls(peer int) bool {
	return m.poller != nil && m.by[peer] == m.poller.(transport.Transport) && m.poller.Polls(peer)
}

func (m *mux) Spin(w *atomic.Uint32) bool { return m.poller.Spin(w) }
func (m *mux) Park()                      { m.poller.Park() }
func (m *mux) Unpark()                    { m.poller.Unpark() }
func (m *mux) Poll() bool                 { return m.poller.Poll() }
func (m *mux) Watch()                     { m.poller.Watch() }

var (
	_ transport.Transport  = (*mux)(nil)
	_ transport.Poller     = (*mux)(nil)
	_ transport.PeerEager  = (*mux)(nil)
	_ transport.Fragmenter = (*mux)(nil)
)
