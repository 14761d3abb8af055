package bootstrap

import (
	"bufio"
	"context"
	"crypto/hmac"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/gompi/gompi/internal/acceptloop"
)

// maxInflight bounds the requests one connection may have waiting on the server at once
// (each waiting Get holds a goroutine); a client past it is dropped as misbehaving.
const maxInflight = 4096

// writeLimit bounds one reply write: a client that stops reading is dropped after it.
const writeLimit = 30 * time.Second

// Server serves a MemStore over TCP to the ranks of one job. Every connection must first prove
// knowledge of the job secret (see the protocol comment in wire.go); connections that fail, stay
// silent past the handshake deadline, or send malformed messages are closed, and the server goes
// on serving the others. Each connection is handled by its own goroutines.
//
// The methods of Server are safe for concurrent use.
type Server struct {
	ln     net.Listener
	secret []byte
	store  *MemStore
	ctx    context.Context // done when the server closes; parent of every request
	cancel context.CancelFunc
	wg     sync.WaitGroup // the accept loop and every connection's goroutines

	mu     sync.Mutex            // guards conns and closed
	conns  map[net.Conn]struct{} // open connections, closed by Close
	closed bool

	rmu      sync.Mutex // guards nrefused
	nrefused int        // connections refused (handshake or protocol failures)

	logf     func(format string, args ...any) // the accept loop's troubles (a line on standard error)
	refusals *acceptloop.Refusals             // refused connections, logged through logf, rate-limited
	gate     acceptloop.Gate                  // connections in their handshake
}

// NewServer listens on addr (host:port; port 0 picks a free one) and serves a fresh store to
// clients that know secret. secret must not be empty.
func NewServer(addr string, secret []byte) (*Server, error) {
	return newServer(addr, secret, func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "gompi bootstrap service: "+format+"\n", args...)
	})
}

// newServer is NewServer with the server's log lines going to logf.
func newServer(addr string, secret []byte, logf func(format string, args ...any)) (*Server, error) {
	if len(secret) == 0 {
		return nil, errors.New("bootstrap: NewServer: empty secret")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("bootstrap: listen on %s: %w", addr, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		ln:       ln,
		secret:   append([]byte{}, secret...),
		store:    NewMemStore(),
		ctx:      ctx,
		cancel:   cancel,
		conns:    make(map[net.Conn]struct{}),
		logf:     logf,
		gate:     acceptloop.NewGate(acceptloop.MaxHandshakes),
		refusals: &acceptloop.Refusals{Logf: logf},
	}
	s.wg.Add(1)
	go s.acceptLoop()
	return s, nil
}

// MarkGone records that rank ended, how ("exited with status 3"): Gets of its keys that are
// not set, waiting or to come, fail with ErrRankGone naming it (MemStore.MarkGone), so the
// other ranks' start-up fails at once instead of waiting for it.
func (s *Server) MarkGone(rank int, how string) { s.store.MarkGone(rank, how) }

// Addr returns the address the server listens on, as host:port.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops the server: it stops accepting, closes every connection (their waiting requests
// end), and returns once all of the server's goroutines have finished. Calling it again is harmless.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.cancel()
	err := s.ln.Close()
	s.wg.Wait()
	s.refusals.Close()
	return err
}

// refusedCount reports how many connections failed the handshake or the protocol (for tests).
func (s *Server) refusedCount() int {
	s.rmu.Lock()
	defer s.rmu.Unlock()
	return s.nrefused
}

// connCount reports how many connections the server holds (for tests).
func (s *Server) connCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

func (s *Server) acceptLoop() {
	defer s.wg.Done()
	for {
		// At most acceptloop.MaxHandshakes connections in their handshake at once (each
		// bounded by handshakeLimit): the next ones wait in the listen backlog.
		if !s.gate.Enter(s.ctx.Done()) {
			return
		}
		// Through errors that pass (a flood exhausting descriptors: EMFILE), until Close.
		c, ok := acceptloop.Accept(s.ln, nil, s.logf)
		if !ok {
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			s.gate.Leave()
			return
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go s.serve(c)
	}
}

// refuse counts and logs (rate-limited) a connection refused because of err.
func (s *Server) refuse(c net.Conn, err error) {
	s.rmu.Lock()
	s.nrefused++
	s.rmu.Unlock()
	s.refusals.Refused("refused connection from %s: %v", c.RemoteAddr(), err)
}

// serve runs one connection: handshake, then a read loop dispatching requests.
func (s *Server) serve(c net.Conn) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		c.Close()
	}()
	err := s.handshake(c)
	s.gate.Leave()
	if err != nil {
		s.refuse(c, err)
		return
	}
	sc := &serverConn{s: s, c: c, inflight: make(map[uint32]context.CancelFunc)}
	ctx, cancel := context.WithCancel(s.ctx)
	var reqs sync.WaitGroup
	defer func() {
		// Close first so no request goroutine blocks writing, then end their waits.
		c.Close()
		cancel()
		reqs.Wait()
	}()
	r := bufio.NewReader(c)
	for {
		m, err := readMessage(r)
		if err != nil {
			// An authenticated client that goes away is not refused: a rank that ends with a
			// reply still unread (a watch it no longer needs) resets the connection.
			if !goneAway(err) && ctx.Err() == nil {
				s.refuse(c, err)
			}
			return
		}
		switch m.op {
		case opSet:
			err := s.store.Set(ctx, m.key, m.value)
			if !sc.reply(m.id, err, nil) {
				return
			}
		case opGet, opMany:
			var keys []string
			if m.op == opMany {
				if keys, err = decodeKeys(m.value); err != nil {
					s.refuse(c, err)
					return
				}
			}
			rctx, rcancel := context.WithCancel(ctx)
			if !sc.track(m.id, rcancel) {
				rcancel()
				s.refuse(c, errorf(ErrProtocol, "request id %d reused, or over %d requests waiting", m.id, maxInflight))
				return
			}
			reqs.Add(1)
			go func() {
				defer reqs.Done()
				defer rcancel()
				var v []byte
				var err error
				if m.op == opGet {
					v, err = s.store.Get(rctx, m.key)
				} else {
					var vals [][]byte
					if vals, err = s.store.GetMany(rctx, keys); err == nil {
						v, err = encodeValues(vals)
					}
				}
				if !sc.untrack(m.id) {
					return // cancelled by the client: it no longer waits for an answer
				}
				if err != nil && !errors.Is(err, ErrRankGone) && !errors.Is(err, ErrTooLarge) {
					err = errorf(ErrClosed, "server closing")
				}
				if !sc.reply(m.id, err, v) {
					c.Close()
				}
			}()
		case opCancel:
			sc.cancel(m.id)
		default:
			s.refuse(c, errorf(ErrProtocol, "op %d from a client", m.op))
			return
		}
	}
}

// goneAway reports whether a read error means only that the client closed its end, in order
// (EOF) or with a reset.
func goneAway(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)
}

// handshake checks that the client knows the secret and proves that the server does too.
func (s *Server) handshake(c net.Conn) error {
	if err := c.SetDeadline(time.Now().Add(handshakeLimit)); err != nil {
		return err
	}
	nonce, err := newNonce()
	if err != nil {
		return err
	}
	if _, err := c.Write(append([]byte(magic), nonce...)); err != nil {
		return err
	}
	var in [len(magic) + macLen + nonceLen]byte
	if _, err := io.ReadFull(c, in[:]); err != nil {
		return err
	}
	if string(in[:len(magic)]) != magic {
		return errorf(ErrProtocol, "bad magic")
	}
	if !hmac.Equal(in[len(magic):len(magic)+macLen], proof(s.secret, clientLabel, nonce)) {
		return ErrAuth
	}
	if _, err := c.Write(proof(s.secret, serverLabel, in[len(magic)+macLen:])); err != nil {
		return err
	}
	return c.SetDeadline(time.Time{})
}

// serverConn is the state of one authenticated connection.
type serverConn struct {
	s *Server
	c net.Conn

	wmu sync.Mutex // guards writes to c; taken after mu never, and mu never under it

	mu       sync.Mutex                    // guards inflight
	inflight map[uint32]context.CancelFunc // waiting Gets by request id
}

func (sc *serverConn) track(id uint32, cancel context.CancelFunc) bool {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if _, dup := sc.inflight[id]; dup || len(sc.inflight) >= maxInflight {
		return false
	}
	sc.inflight[id] = cancel
	return true
}

// untrack removes id and reports whether it was still tracked (not cancelled).
func (sc *serverConn) untrack(id uint32) bool {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	_, ok := sc.inflight[id]
	delete(sc.inflight, id)
	return ok
}

func (sc *serverConn) cancel(id uint32) {
	sc.mu.Lock()
	cancel, ok := sc.inflight[id]
	delete(sc.inflight, id)
	sc.mu.Unlock()
	if ok {
		cancel()
	}
}

// reply sends the answer to request id; false means the connection is unusable.
func (sc *serverConn) reply(id uint32, err error, value []byte) bool {
	m := message{op: opReply, status: statusOf(err), id: id, value: value}
	if err != nil {
		text := err.Error()
		if len(text) > maxErrLen {
			text = text[:maxErrLen]
		}
		m.value = []byte(text)
	}
	buf := m.encode(make([]byte, 0, headerLen+len(m.value)))
	sc.wmu.Lock()
	defer sc.wmu.Unlock()
	if err := sc.c.SetWriteDeadline(time.Now().Add(writeLimit)); err != nil {
		return false
	}
	_, werr := sc.c.Write(buf)
	return werr == nil
}
