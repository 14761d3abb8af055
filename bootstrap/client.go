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
	"time"
)

// Client is a Store backed by a bootstrap Server, over one TCP connection. Many goroutines may
// call Set and Get at once: requests are multiplexed by id, and a Get whose context ends is
// withdrawn from the server. When the connection is lost, every pending and later call fails
// with an error wrapping ErrClosed.
type Client struct {
	c    net.Conn
	addr string

	wmu sync.Mutex // guards writes to c; never held while taking mu

	mu      sync.Mutex               // guards nextID, pending and err
	nextID  uint32                   // id of the next request
	pending map[uint32]chan *message // requests waiting for their reply
	err     error                    // why the client stopped; nil while usable
	done    chan struct{}            // closed when err is set
}

// Dial connects to the bootstrap server at addr and proves knowledge of secret; it also checks
// that the server knows secret, so a rank never trusts a stranger's table. ctx bounds the dial
// and the handshake (never more than 10 s for the handshake).
func Dial(ctx context.Context, addr string, secret []byte) (*Client, error) {
	if len(secret) == 0 {
		return nil, errors.New("bootstrap: Dial: empty secret")
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("bootstrap: dial %s: %w", addr, err)
	}
	if err := clientHandshake(ctx, c, secret); err != nil {
		c.Close()
		return nil, fmt.Errorf("bootstrap: handshake with %s: %w", addr, err)
	}
	cl := &Client{c: c, addr: addr, pending: make(map[uint32]chan *message), done: make(chan struct{})}
	go cl.readLoop()
	return cl, nil
}

func clientHandshake(ctx context.Context, c net.Conn, secret []byte) error {
	deadline := time.Now().Add(handshakeLimit)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if err := c.SetDeadline(deadline); err != nil {
		return err
	}
	// End the handshake early when ctx is cancelled.
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Now()) })
	defer stop()

	var in [len(magic) + nonceLen]byte
	if _, err := io.ReadFull(c, in[:]); err != nil {
		return ctxErr(ctx, err)
	}
	if string(in[:len(magic)]) != magic {
		return errorf(ErrProtocol, "not a gompi bootstrap server")
	}
	nonce, err := newNonce()
	if err != nil {
		return err
	}
	out := append([]byte(magic), proof(secret, clientLabel, in[len(magic):])...)
	if _, err := c.Write(append(out, nonce...)); err != nil {
		return ctxErr(ctx, err)
	}
	var mac [macLen]byte
	if _, err := io.ReadFull(c, mac[:]); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return errorf(ErrAuth, "server closed the connection (wrong secret?)")
		}
		return ctxErr(ctx, err)
	}
	if !hmac.Equal(mac[:], proof(secret, serverLabel, nonce)) {
		return errorf(ErrAuth, "server does not know the job secret")
	}
	if !stop() {
		return ctx.Err() // the deadline was (or is being) cut short: the connection is spoilt
	}
	return c.SetDeadline(time.Time{})
}

// ctxErr prefers ctx's error when ctx ended: that is the reason an I/O call failed.
func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	// The connection deadline is ctx's deadline and may fire a moment before ctx reports it.
	if d, ok := ctx.Deadline(); ok && errors.Is(err, os.ErrDeadlineExceeded) && !time.Now().Before(d) {
		return context.DeadlineExceeded
	}
	return err
}

// Close closes the connection; pending and later calls fail with ErrClosed.
// Calling it again is harmless.
func (cl *Client) Close() error {
	cl.fail(errorf(ErrClosed, "client closed"))
	return nil
}

// fail records the first reason the client stops, closes the connection and wakes every waiter.
func (cl *Client) fail(err error) {
	cl.mu.Lock()
	if cl.err != nil {
		cl.mu.Unlock()
		return
	}
	cl.err = err
	close(cl.done)
	cl.mu.Unlock()
	cl.c.Close()
}

func (cl *Client) readLoop() {
	r := bufio.NewReader(cl.c)
	for {
		m, err := readMessage(r)
		if err == nil && m.op != opReply {
			err = errorf(ErrProtocol, "unexpected op %d from server", m.op)
		}
		if err != nil {
			cl.fail(fmt.Errorf("%w: connection to %s lost: %w", ErrClosed, cl.addr, err))
			return
		}
		cl.mu.Lock()
		ch, ok := cl.pending[m.id]
		delete(cl.pending, m.id)
		cl.mu.Unlock()
		if ok {
			ch <- m // buffered: never blocks
		}
	}
}

// send registers a request and writes it; the reply arrives on the returned channel.
func (cl *Client) send(m *message) (chan *message, error) {
	ch := make(chan *message, 1)
	cl.mu.Lock()
	if cl.err != nil {
		err := cl.err
		cl.mu.Unlock()
		return nil, err
	}
	cl.nextID++
	m.id = cl.nextID
	cl.pending[m.id] = ch
	cl.mu.Unlock()
	if err := cl.write(m); err != nil {
		return nil, err
	}
	return ch, nil
}

func (cl *Client) write(m *message) error {
	buf := m.encode(nil)
	cl.wmu.Lock()
	_, err := cl.c.Write(buf)
	cl.wmu.Unlock()
	if err != nil {
		cl.fail(fmt.Errorf("%w: write to %s: %w", ErrClosed, cl.addr, err))
		cl.mu.Lock()
		err = cl.err
		cl.mu.Unlock()
	}
	return err
}

// wait waits for the reply to m; when ctx ends first, it withdraws the request.
func (cl *Client) wait(ctx context.Context, m *message, ch chan *message) (*message, error) {
	select {
	case r := <-ch:
		return r, nil
	case <-cl.done:
		select {
		case r := <-ch: // the reply raced with the failure
			return r, nil
		default:
		}
		cl.mu.Lock()
		defer cl.mu.Unlock()
		return nil, cl.err
	case <-ctx.Done():
		cl.mu.Lock()
		_, still := cl.pending[m.id]
		delete(cl.pending, m.id)
		cl.mu.Unlock()
		if still && (m.op == opGet || m.op == opMany) {
			cl.write(&message{op: opCancel, id: m.id}) // best effort; a failure closes the client
		}
		return nil, ctx.Err()
	}
}

// Set stores value under key on the server. Errors wrap ErrKeyExists, ErrTooLarge, ErrClosed
// or ctx's error; when ctx ends first, the value may or may not have been stored. The caller
// keeps value.
func (cl *Client) Set(ctx context.Context, key string, value []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkSizes(key, value); err != nil {
		return err
	}
	m := &message{op: opSet, key: key, value: value}
	ch, err := cl.send(m)
	if err != nil {
		return fmt.Errorf("bootstrap: Set %q: %w", key, err)
	}
	r, err := cl.wait(ctx, m, ch)
	if err == nil {
		err = errOf(r.status, r.value)
	}
	if err != nil {
		return fmt.Errorf("bootstrap: Set %q: %w", key, err)
	}
	return nil
}

// Get returns the value of key, waiting until some client sets it or ctx is done.
// Errors wrap ErrClosed or ctx's error.
func (cl *Client) Get(ctx context.Context, key string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(key) > MaxKeyLen {
		return nil, checkSizes(key, nil)
	}
	m := &message{op: opGet, key: key}
	ch, err := cl.send(m)
	if err != nil {
		return nil, fmt.Errorf("bootstrap: Get %q: %w", key, err)
	}
	r, err := cl.wait(ctx, m, ch)
	if err == nil {
		err = errOf(r.status, r.value)
	}
	if err != nil {
		return nil, fmt.Errorf("bootstrap: Get %q: %w", key, err)
	}
	return r.value, nil
}

// GetMany returns the values of keys, in order, in one request to the server, answered when
// every key is set (or ctx is done). It implements Gatherer. Errors wrap ErrTooLarge (the
// request or its answer is over the limits), ErrClosed or ctx's error.
func (cl *Client) GetMany(ctx context.Context, keys []string) ([][]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	req, err := encodeKeys(keys)
	if err != nil {
		return nil, fmt.Errorf("bootstrap: GetMany of %d keys: %w", len(keys), err)
	}
	m := &message{op: opMany, value: req}
	ch, err := cl.send(m)
	if err != nil {
		return nil, fmt.Errorf("bootstrap: GetMany of %d keys: %w", len(keys), err)
	}
	r, err := cl.wait(ctx, m, ch)
	if err == nil {
		err = errOf(r.status, r.value)
	}
	var vals [][]byte
	if err == nil {
		vals, err = decodeValues(r.value, len(keys))
	}
	if err != nil {
		return nil, fmt.Errorf("bootstrap: GetMany of %d keys: %w", len(keys), err)
	}
	return vals, nil
}
