// Package tcp is gompi's default transport: ranks are processes, joined by one TCP connection
// per pair. At startup each rank listens on an ephemeral port (loopback only unless the launcher
// says otherwise), publishes its address in the launcher's bootstrap store, and connects to
// every lower rank while accepting every higher one; each connection begins with a handshake
// that proves both sides know the job secret (internal/peerauth). Then one reader goroutine per
// connection decodes frames (frame.go) and hands them to the engine, reading each payload
// straight into the buffer the engine names; senders write header and payload with one
// vectored write. Large payloads leave in fragments (Config.FragmentSize), one frame at a time
// under the connection's write lock, so other frames to the same peer pass between them.
package tcp

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/gompi/gompi/bootstrap"
	"github.com/gompi/gompi/internal/acceptloop"
	"github.com/gompi/gompi/internal/peerauth"
	"github.com/gompi/gompi/transport"
)

// DefaultEagerLimit is the largest message sent eagerly; larger ones use the rendezvous
// protocol (RTS, CTS, Data) so that their payload lands directly in the receive buffer and a
// sender cannot flood a receiver's memory. OpenMPI's TCP path switches at 64 KiB too
// (../shared/PERF-NOTES.md); docs/PROTOCOL.md has our measurement.
const DefaultEagerLimit = 64 << 10

// DefaultFragmentSize is the largest payload of one Data frame: a larger rendezvous payload
// leaves in fragments, and the connection is free for other frames between them (a small
// message waits for at most one fragment, not for a whole large one), and a sender whose
// context ends stops at the next fragment. docs/PROTOCOL.md has the measurement behind it.
const DefaultFragmentSize = 512 << 10

// Config configures a Transport. Zero values take the documented defaults.
type Config struct {
	Rank, Size int
	JobID      []byte          // 16 bytes naming the job; other lengths are cut or padded with zeros to 16
	Secret     []byte          // the job secret; must not be empty
	Store      bootstrap.Store // where ranks publish and look up addresses
	// Host is the address to listen on. Default "127.0.0.1": single-host jobs never listen
	// beyond loopback.
	Host string
	// Iface names Host's network interface in messages (bootstrap.ListenAddr); may be empty.
	Iface string
	// EagerLimit is DefaultEagerLimit when zero. All ranks must use the same value.
	EagerLimit int
	// FragmentSize is the largest payload of one Data frame this rank sends: DefaultFragmentSize
	// when zero; negative sends every payload in one frame. Ranks may differ.
	FragmentSize int
	// ConnectTimeout bounds how long New waits for all peers (default 60s).
	ConnectTimeout time.Duration
	// HandshakeTimeout bounds one handshake (default 10s), so a silent stranger cannot stall a rank.
	HandshakeTimeout time.Duration
	// FinalizeTimeout bounds how long Close waits for peers to close their side (default 30s).
	FinalizeTimeout time.Duration
	// Logf reports refused connections (the first few of every 10 s, then how many more:
	// acceptloop.Refusals); default: a line on standard error.
	Logf func(format string, args ...any)
	// SpinWait is how long a connection's reader keeps trying nonblocking reads before it
	// parks: 0 (the default) parks at once. Spinning cuts small-message latency several-fold
	// when every rank has a core to itself, and costs far more than it gains when ranks share
	// cores; ranks started by gompirun take it from their placement (placement.Plan.TCPSpin).
	SpinWait time.Duration
	// Peers are the world ranks to connect to; nil means every other rank. In a job that also
	// uses shared memory they are the ranks on other hosts. Every rank must agree: rank a
	// lists b exactly when b lists a.
	Peers []int
}

func (c *Config) setDefaults() error {
	if c.Size < 1 || c.Rank < 0 || c.Rank >= c.Size {
		return fmt.Errorf("tcp: rank %d of %d is invalid", c.Rank, c.Size)
	}
	if len(c.Secret) == 0 {
		return errors.New("tcp: empty job secret")
	}
	if c.Peers == nil {
		for p := range c.Size {
			if p != c.Rank {
				c.Peers = append(c.Peers, p)
			}
		}
	}
	for _, p := range c.Peers {
		if p < 0 || p >= c.Size || p == c.Rank {
			return fmt.Errorf("tcp: rank %d of %d cannot connect to rank %d", c.Rank, c.Size, p)
		}
	}
	if c.Store == nil && len(c.Peers) > 0 {
		return errors.New("tcp: no bootstrap store")
	}
	c.JobID = peerauth.JobID(c.JobID)
	if c.Host == "" {
		c.Host = "127.0.0.1"
	}
	if c.EagerLimit <= 0 {
		c.EagerLimit = DefaultEagerLimit
	}
	if c.FragmentSize == 0 {
		c.FragmentSize = DefaultFragmentSize
	}
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = 60 * time.Second
	}
	if c.HandshakeTimeout <= 0 {
		c.HandshakeTimeout = 10 * time.Second
	}
	if c.FinalizeTimeout <= 0 {
		c.FinalizeTimeout = 30 * time.Second
	}
	if c.Logf == nil {
		rank := c.Rank
		c.Logf = func(format string, args ...any) {
			fmt.Fprintf(os.Stderr, "gompi: rank %d: "+format+"\n", append([]any{rank}, args...)...)
		}
	}
	return nil
}

// Transport is one rank's set of TCP connections. It implements transport.Transport and is safe
// for concurrent use.
type Transport struct {
	cfg   Config
	conns []*conn // by peer rank; nil at the own rank
	ln    net.Listener
	wg    sync.WaitGroup // reader goroutines

	closeOnce sync.Once
}

// conn is the connection to one peer.
type conn struct {
	peer int
	c    *net.TCPConn
	r    *bufio.Reader

	wmu  sync.Mutex // guards the fields below and serializes writes (one frame at a time)
	hdr  [headerSize]byte
	bufs [2][]byte
	nb   net.Buffers
	bye  bool // we said Bye; no more frames

	gotBye bool // set by the reader only
}

func addrKey(rank int) string { return "gompi/addr/" + strconv.Itoa(rank) }

// New listens, publishes its address, and connects to every peer. It returns when all
// connections are up, or with an error naming the ranks it could not reach.
func New(ctx context.Context, cfg Config) (*Transport, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	t := &Transport{cfg: cfg, conns: make([]*conn, cfg.Size)}
	if len(cfg.Peers) == 0 {
		return t, nil
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.ConnectTimeout)
	defer cancel()
	ln, err := net.Listen("tcp", net.JoinHostPort(cfg.Host, "0"))
	if err != nil {
		return nil, fmt.Errorf("tcp: rank %d: listen on %s: %w", cfg.Rank, cfg.Host, err)
	}
	t.ln = ln
	if err := cfg.Store.Set(ctx, addrKey(cfg.Rank), []byte(ln.Addr().String())); err != nil {
		ln.Close()
		return nil, fmt.Errorf("tcp: rank %d: publish address: %w", cfg.Rank, err)
	}

	type result struct {
		peer int
		c    *net.TCPConn
		err  error
	}
	results := make(chan result, cfg.Size)
	higher := map[int]bool{}
	var lower []int
	var keys []string
	for _, p := range cfg.Peers {
		if p > cfg.Rank {
			higher[p] = true
		} else {
			lower = append(lower, p)
			keys = append(keys, addrKey(p))
		}
	}
	refusals := &acceptloop.Refusals{Logf: cfg.Logf}
	go t.acceptLoop(ctx, higher, refusals, func(peer int, c *net.TCPConn) { results <- result{peer: peer, c: c} })
	// The lower ranks' addresses, in one request to the store.
	addrs, err := bootstrap.GetMany(ctx, cfg.Store, keys)
	if err != nil {
		ln.Close()
		refusals.Close()
		return nil, fmt.Errorf("tcp: rank %d: look up the addresses of ranks %v: %w", cfg.Rank, lower, err)
	}
	for i, p := range lower {
		go func() {
			c, err := t.dial(ctx, p, string(addrs[i]))
			results <- result{peer: p, c: c, err: err}
		}()
	}
	// A higher rank that ends before it publishes its address will never connect: the store
	// says so (bootstrap.ErrRankGone, once gompirun marks it gone), and New gives up at once.
	// One request watches them all (GetMany fails on the first one gone).
	if len(higher) > 0 {
		var hkeys []string
		for _, p := range cfg.Peers {
			if higher[p] {
				hkeys = append(hkeys, addrKey(p))
			}
		}
		go func() {
			if _, err := bootstrap.GetMany(ctx, cfg.Store, hkeys); errors.Is(err, bootstrap.ErrRankGone) {
				select {
				// peer: any higher rank will do; the error names the one gone.
				case results <- result{peer: cfg.Rank + 1, err: fmt.Errorf("tcp: rank %d: waiting for connections from higher ranks: %w", cfg.Rank, err)}:
				case <-ctx.Done():
				}
			}
		}()
	}
	var errs []error
	dials := len(cfg.Peers) - len(higher) // dialers yet to report; each does, also when ctx ends
	for got := 0; got < len(cfg.Peers); {
		select {
		case r := <-results:
			got++
			if r.peer < cfg.Rank {
				dials--
			}
			if r.err != nil {
				errs = append(errs, r.err)
				if errors.Is(r.err, bootstrap.ErrRankGone) {
					got = len(cfg.Peers) // the job cannot start: stop waiting for the others
				}
				continue
			}
			t.conns[r.peer] = newConn(r.peer, r.c, t.cfg.SpinWait)
		case <-ctx.Done():
			// The dialers end with ctx, each with an error naming both ends (connectFailure):
			// take theirs, and report only the higher ranks that never connected as missing.
			for ; dials > 0; dials-- {
				if r := <-results; r.err != nil {
					errs = append(errs, r.err)
				} else {
					t.conns[r.peer] = newConn(r.peer, r.c, t.cfg.SpinWait)
				}
			}
			var missing []int
			for _, p := range cfg.Peers {
				if t.conns[p] == nil && higher[p] {
					missing = append(missing, p)
				}
			}
			if len(missing) > 0 {
				errs = append(errs, fmt.Errorf("tcp: rank %d (listening at %s): no connection from ranks %v: %w", cfg.Rank, ln.Addr(), missing, ctx.Err()))
			}
			got = len(cfg.Peers) // stop waiting
		}
	}
	ln.Close()
	refusals.Close() // the count of refusals not logged yet, if any
	if len(errs) > 0 {
		cancel() // dialers still running (the loop stopped early) end, and their sockets close
		for ; dials > 0; dials-- {
			if r := <-results; r.c != nil {
				r.c.Close()
			}
		}
		for _, c := range t.conns {
			if c != nil {
				c.c.Close()
			}
		}
		return nil, errors.Join(errs...)
	}
	return t, nil
}

func newConn(peer int, c *net.TCPConn, spin time.Duration) *conn {
	c.SetNoDelay(true)
	// A peer host that vanishes without closing its sockets (power loss, partition) is detected
	// by keepalive probes within about Idle + Count*Interval = 11 s, rather than Go's default of
	// over two minutes. A dead process is seen at once: its kernel closes the connection.
	c.SetKeepAliveConfig(net.KeepAliveConfig{Enable: true, Idle: 5 * time.Second, Interval: 2 * time.Second, Count: 3})
	var r io.Reader = c
	if spin > 0 {
		if s, err := newSpinReader(c, spin); err == nil {
			r = s
		}
	}
	return &conn{peer: peer, c: c, r: bufio.NewReaderSize(r, 64<<10)}
}

// acceptLoop accepts until every rank in want has passed the handshake or ctx ends.
// Connections that fail the handshake are closed and logged (rate-limited: refusals); the job
// goes on. At most acceptloop.MaxHandshakes connections are in their handshake at once (each
// bounded by HandshakeTimeout); the next ones wait in the listen backlog.
func (t *Transport) acceptLoop(ctx context.Context, want map[int]bool, refusals *acceptloop.Refusals, found func(int, *net.TCPConn)) {
	var mu sync.Mutex
	seen := map[int]bool{}
	gate := acceptloop.NewGate(acceptloop.MaxHandshakes)
	go func() { <-ctx.Done(); t.ln.Close() }()
	for {
		mu.Lock()
		done := len(seen) == len(want)
		mu.Unlock()
		if done || !gate.Enter(ctx.Done()) {
			return
		}
		// Through errors that pass (a flood exhausting descriptors: EMFILE), until the
		// listener is closed: New has all it needs, or gave up.
		nc, ok := acceptloop.Accept(t.ln, ctx.Done(), func(format string, args ...any) { t.cfg.Logf("tcp: "+format, args...) })
		if !ok {
			return
		}
		go func() {
			peer, err := peerauth.Accept(nc, t.cfg.Secret, t.cfg.JobID, t.cfg.Rank, t.cfg.Size, t.cfg.HandshakeTimeout)
			gate.Leave()
			if err == nil {
				mu.Lock()
				if seen[peer] {
					err = fmt.Errorf("%w: rank %d is already connected", peerauth.ErrRefused, peer)
				} else if !want[peer] {
					err = fmt.Errorf("%w: rank %d is not a TCP peer of rank %d", peerauth.ErrRefused, peer, t.cfg.Rank)
				} else {
					seen[peer] = true
				}
				mu.Unlock()
			}
			if err != nil {
				refusals.Refused("refused connection from %s: %v", nc.RemoteAddr(), err)
				nc.Close()
				return
			}
			found(peer, nc.(*net.TCPConn))
		}()
	}
}

// dial connects to the lower rank p at addr, retrying while p is not yet listening.
func (t *Transport) dial(ctx context.Context, p int, addr string) (*net.TCPConn, error) {
	var d net.Dialer
	for delay := 10 * time.Millisecond; ; delay = min(2*delay, time.Second) {
		nc, err := d.DialContext(ctx, "tcp", string(addr))
		if err == nil {
			if err = peerauth.Dial(nc, t.cfg.Secret, t.cfg.JobID, t.cfg.Rank, p, t.cfg.HandshakeTimeout); err == nil {
				return nc.(*net.TCPConn), nil
			}
			nc.Close()
			return nil, fmt.Errorf("tcp: %s: %w", t.connectFailure(p, string(addr)), err)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("tcp: %s: %w", t.connectFailure(p, string(addr)), err)
		case <-time.After(delay):
		}
	}
}

// connectFailure names both ends of a connection that rank p's address addr did not take:
// both ranks, both addresses and this rank's interface, so that a wrong network shows.
func (t *Transport) connectFailure(p int, addr string) string {
	me := t.cfg.Host
	if t.ln != nil {
		me = t.ln.Addr().String()
	}
	if t.cfg.Iface != "" {
		me += " on " + t.cfg.Iface
	}
	return fmt.Sprintf("rank %d (listening at %s) cannot connect to rank %d at %s", t.cfg.Rank, me, p, addr)
}

// Rank implements transport.Transport.
func (t *Transport) Rank() int { return t.cfg.Rank }

// Size implements transport.Transport.
func (t *Transport) Size() int { return t.cfg.Size }

// EagerLimit implements transport.Transport.
func (t *Transport) EagerLimit() int { return t.cfg.EagerLimit }

// FragmentSize implements transport.Fragmenter.
func (t *Transport) FragmentSize(peer int) int { return max(t.cfg.FragmentSize, 0) }

// Start implements transport.Transport: one reader goroutine per connection.
func (t *Transport) Start(h transport.Handler) {
	for _, c := range t.conns {
		if c != nil {
			t.wg.Add(1)
			go t.readLoop(c, h)
		}
	}
}

// readLoop decodes frames from one peer until the connection ends. A connection that ends
// without a Bye, or with a malformed frame, means the peer failed.
func (t *Transport) readLoop(c *conn, h transport.Handler) {
	defer t.wg.Done()
	var hb [headerSize]byte
	var err error
	for {
		var hdr transport.Header
		hdr, err = readHeader(c.r, &hb, t.cfg.EagerLimit)
		if err != nil {
			break
		}
		if hdr.Kind == transport.Bye {
			c.gotBye = true
			h.PeerFailed(c.peer, true, nil)
			continue
		}
		hdr.Source = c.peer
		dst, cookie := h.Arrive(hdr)
		n := hdr.PayloadLen()
		var perr error
		if dst == nil && n > 0 {
			_, perr = io.CopyN(io.Discard, c.r, n)
		} else if n > 0 {
			_, perr = io.ReadFull(c.r, dst[:n])
		}
		if perr == io.EOF {
			perr = io.ErrUnexpectedEOF
		}
		h.Complete(hdr, cookie, perr)
		if perr != nil {
			err = perr
			break
		}
		if t.cfg.SpinWait > 0 && c.r.Buffered() == 0 {
			// The receiver this frame completed is ready to run on this reader's P. Yield it
			// the P now, rather than spin in the next read while the runtime wakes another
			// thread to steal it (which, with a core per rank, costs more than the message).
			runtime.Gosched()
		}
	}
	if !c.gotBye {
		if err == io.EOF {
			err = errors.New("connection closed without goodbye")
		}
		h.PeerFailed(c.peer, false, err)
	}
	c.c.Close()
}

// Send implements transport.Transport.
func (t *Transport) Send(peer int, h transport.Header, payload []byte) error {
	if peer < 0 || peer >= len(t.conns) || t.conns[peer] == nil {
		return fmt.Errorf("tcp: no connection to rank %d", peer)
	}
	c := t.conns[peer]
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.bye {
		return errors.New("tcp: transport closed")
	}
	if h.Kind == transport.Fail {
		// Said by a rank about to end anyway: it must not hold wmu (which Abort takes) for
		// long behind a peer that reads nothing.
		c.c.SetWriteDeadline(time.Now().Add(time.Second))
		defer c.c.SetWriteDeadline(time.Time{})
	}
	encodeHeader(&c.hdr, &h)
	c.bufs[0], c.bufs[1] = c.hdr[:], payload
	c.nb = c.bufs[:]
	if len(payload) == 0 {
		c.nb = c.bufs[:1]
	}
	_, err := c.nb.WriteTo(c.c)
	c.bufs[1] = nil
	return err
}

// Close implements transport.Transport: it says Bye on every connection and half-closes it,
// then waits (up to FinalizeTimeout) for every peer to do the same, so that nothing either side
// sent is lost to a reset.
func (t *Transport) Close() error {
	t.closeOnce.Do(func() {
		for _, c := range t.conns {
			if c == nil {
				continue
			}
			c.wmu.Lock()
			if !c.bye {
				c.bye = true
				var b [headerSize]byte
				encodeHeader(&b, &transport.Header{Kind: transport.Bye})
				c.c.Write(b[:])
				c.c.CloseWrite()
			}
			c.wmu.Unlock()
		}
		done := make(chan struct{})
		go func() { t.wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(t.cfg.FinalizeTimeout):
		}
		for _, c := range t.conns {
			if c != nil {
				c.c.Close()
			}
		}
	})
	return nil
}

// Abort drops every connection at once without saying Bye, as a crashed process would: peers
// see this rank fail. Tests use it to simulate failures.
func (t *Transport) Abort() {
	t.closeOnce.Do(func() {
		for _, c := range t.conns {
			if c != nil {
				c.wmu.Lock()
				c.bye = true
				c.wmu.Unlock()
				c.c.Close()
			}
		}
	})
}

var _ transport.Fragmenter = (*Transport)(nil)
