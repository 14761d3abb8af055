package bootstrap

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"
)

var testSecret = []byte("0123456789abcdef0123456789abcdef")

func newTestServer(t *testing.T) *Server {
	t.Helper()
	s, err := NewServer("127.0.0.1:0", testSecret)
	if err != nil {
		t.Fatalf("NewServer: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func dialTest(t *testing.T, addr string) *Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := Dial(ctx, addr, testSecret)
	if err != nil {
		t.Fatalf("Dial %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestClientStoreContract(t *testing.T) {
	s := newTestServer(t)
	testStore(t, dialTest(t, s.Addr()))
}

// Values set by one client are seen by another, and a Get waits for another client's Set.
func TestServerSharesStoreBetweenClients(t *testing.T) {
	s := newTestServer(t)
	const n = 8
	clients := make([]*Client, n)
	for i := range clients {
		clients[i] = dialTest(t, s.Addr())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Every client reads every other's key before all have written: the Gets must wait.
	var wg sync.WaitGroup
	errs := make(chan error, n*n)
	for i, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := n - 1; j >= 0; j-- {
				if j == i {
					if err := c.Set(ctx, fmt.Sprintf("rank/%d", i), []byte(fmt.Sprintf("addr-%d", i))); err != nil {
						errs <- err
					}
					continue
				}
				v, err := c.Get(ctx, fmt.Sprintf("rank/%d", j))
				if err != nil {
					errs <- err
				} else if want := fmt.Sprintf("addr-%d", j); string(v) != want {
					errs <- fmt.Errorf("client %d: Get rank/%d = %q, want %q", i, j, v, want)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// Many goroutines share one client.
func TestClientConcurrentUse(t *testing.T) {
	s := newTestServer(t)
	c := dialTest(t, s.Addr())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for i := range 100 {
		wg.Add(2)
		key := fmt.Sprintf("k%d", i)
		go func() {
			defer wg.Done()
			v, err := c.Get(ctx, key)
			if err == nil && string(v) != key+"=v" {
				err = fmt.Errorf("Get %s = %q", key, v)
			}
			if err != nil {
				errs <- err
			}
		}()
		go func() {
			defer wg.Done()
			if err := c.Set(ctx, key, []byte(key+"=v")); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestDialWrongSecretRefused(t *testing.T) {
	s := newTestServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := Dial(ctx, s.Addr(), []byte("not the secret"))
	if err == nil {
		c.Close()
		t.Fatal("Dial with a wrong secret succeeded")
	}
	if !errors.Is(err, ErrAuth) {
		t.Fatalf("Dial with a wrong secret: err = %v, want ErrAuth", err)
	}
	waitRefused(t, s, 1)
	// The server goes on serving good clients.
	good := dialTest(t, s.Addr())
	if err := good.Set(ctx, "k", []byte("v")); err != nil {
		t.Fatalf("Set after a refused client: %v", err)
	}
}

// A client refuses a server that does not know the secret.
func TestDialImpostorServerRefused(t *testing.T) {
	s, err := NewServer("127.0.0.1:0", []byte("another job's secret"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := Dial(ctx, s.Addr(), testSecret)
	if err == nil {
		c.Close()
		t.Fatal("Dial to a server with another secret succeeded")
	}
	if !errors.Is(err, ErrAuth) {
		t.Fatalf("err = %v, want ErrAuth", err)
	}
}

func waitRefused(t *testing.T, s *Server, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for s.refusedCount() < n {
		if time.Now().After(deadline) {
			t.Fatalf("server refused %d connections, want %d", s.refusedCount(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// expectClosed checks that the server closes c without sending anything more.
func expectClosed(t *testing.T, c net.Conn) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := io.Copy(io.Discard, c)
	// A reset (the server closed with our bytes unread) is a close too.
	if err != nil && !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("server did not close the connection: read %d bytes, %v", n, err)
	}
}

// rawHandshake performs the client side of the handshake by hand with secret.
func rawHandshake(t *testing.T, addr string, secret []byte) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	in := make([]byte, len(magic)+nonceLen)
	if _, err := io.ReadFull(c, in); err != nil {
		t.Fatalf("read server hello: %v", err)
	}
	out := append([]byte(magic), proof(secret, clientLabel, in[len(magic):])...)
	out = append(out, make([]byte, nonceLen)...)
	if _, err := c.Write(out); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestServerRefusesGarbage(t *testing.T) {
	cases := []struct {
		name string
		send func(t *testing.T, addr string) net.Conn
	}{
		{"garbage instead of handshake", func(t *testing.T, addr string) net.Conn {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Close() })
			c.Write(bytes.Repeat([]byte("GET / HTTP/1.1\r\n"), 20))
			return c
		}},
		{"unknown op after handshake", func(t *testing.T, addr string) net.Conn {
			c := rawHandshake(t, addr, testSecret)
			io.ReadFull(c, make([]byte, macLen))
			c.Write(bytes.Repeat([]byte{0xff}, headerLen))
			return c
		}},
		{"huge value length after handshake", func(t *testing.T, addr string) net.Conn {
			c := rawHandshake(t, addr, testSecret)
			io.ReadFull(c, make([]byte, macLen))
			var h [headerLen]byte
			h[0] = opSet
			binary.BigEndian.PutUint32(h[8:], 0xffffffff)
			c.Write(h[:])
			return c
		}},
		{"huge key length after handshake", func(t *testing.T, addr string) net.Conn {
			c := rawHandshake(t, addr, testSecret)
			io.ReadFull(c, make([]byte, macLen))
			var h [headerLen]byte
			h[0] = opGet
			binary.BigEndian.PutUint16(h[2:], 0xffff)
			c.Write(h[:])
			return c
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestServer(t)
			expectClosed(t, tc.send(t, s.Addr()))
			waitRefused(t, s, 1)
			// The server still serves a good client.
			c := dialTest(t, s.Addr())
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := c.Set(ctx, "k", []byte("v")); err != nil {
				t.Fatalf("Set after garbage: %v", err)
			}
		})
	}
}

// A connection that says nothing is dropped after the handshake deadline.
func TestServerDropsSilentClient(t *testing.T) {
	old := handshakeLimit
	handshakeLimit = 200 * time.Millisecond
	defer func() { handshakeLimit = old }()
	s := newTestServer(t)
	c, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.ReadFull(c, make([]byte, len(magic)+nonceLen))
	expectClosed(t, c)
	waitRefused(t, s, 1)
}

// Closing the server ends waiting Gets with ErrClosed, and Close returns.
func TestServerCloseEndsWaits(t *testing.T) {
	s, err := NewServer("127.0.0.1:0", testSecret)
	if err != nil {
		t.Fatal(err)
	}
	c := dialTest(t, s.Addr())
	res := make(chan error, 1)
	go func() {
		_, err := c.Get(context.Background(), "never")
		res <- err
	}()
	time.Sleep(50 * time.Millisecond)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case err := <-res:
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("Get after server Close: err = %v, want ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Get still waiting 5 s after server Close")
	}
	if err := c.Set(context.Background(), "k", nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("Set on a client whose server closed: err = %v, want ErrClosed", err)
	}
}

// A Get cancelled by its context is withdrawn on the server: many cancelled Gets do not use up
// the connection's budget of waiting requests.
func TestClientGetCancelWithdraws(t *testing.T) {
	s := newTestServer(t)
	c := dialTest(t, s.Addr())
	for i := range maxInflight + 10 {
		ctx, cancel := context.WithCancel(context.Background())
		if i%2 == 0 {
			cancel()
		} else {
			go cancel()
		}
		if _, err := c.Get(ctx, "never"); !errors.Is(err, context.Canceled) {
			t.Fatalf("Get %d with cancelled ctx: err = %v, want Canceled", i, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Set(ctx, "k", []byte("v")); err != nil {
		t.Fatalf("Set after many cancelled Gets: %v", err)
	}
	if v, err := c.Get(ctx, "k"); err != nil || string(v) != "v" {
		t.Fatalf("Get after many cancelled Gets = %q, %v", v, err)
	}
}

func TestClientClose(t *testing.T) {
	s := newTestServer(t)
	c := dialTest(t, s.Addr())
	res := make(chan error, 1)
	go func() {
		_, err := c.Get(context.Background(), "never")
		res <- err
	}()
	time.Sleep(20 * time.Millisecond)
	c.Close()
	c.Close()
	select {
	case err := <-res:
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("Get during Close: err = %v, want ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Get still waiting 5 s after client Close")
	}
}

func TestDialCancelled(t *testing.T) {
	// A listener that never answers the handshake.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			defer c.Close()
			io.Copy(io.Discard, c)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = Dial(ctx, ln.Addr().String(), testSecret)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Dial to a silent server: err = %v, want DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Dial took %v after its context ended", d)
	}
}

func TestNewServerErrors(t *testing.T) {
	if _, err := NewServer("127.0.0.1:0", nil); err == nil {
		t.Error("NewServer with empty secret succeeded")
	}
	if _, err := NewServer("256.0.0.1:0", testSecret); err == nil {
		t.Error("NewServer on a bad address succeeded")
	}
}

func FuzzReadMessage(f *testing.F) {
	f.Add((&message{op: opSet, id: 3, key: "k", value: []byte("v")}).encode(nil))
	f.Add((&message{op: opMany, id: 2, value: []byte{0, 1, 'k'}}).encode(nil))
	f.Add((&message{op: opReply, status: statusExists, id: 1, value: []byte("exists")}).encode(nil))
	f.Add([]byte{opGet, 0, 0xff, 0xff, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := readMessage(bytes.NewReader(data))
		if err != nil {
			return
		}
		if len(m.key) > MaxKeyLen || len(m.value) > MaxValueLen {
			t.Fatalf("decoded oversize message: key %d, value %d", len(m.key), len(m.value))
		}
		// What decodes re-encodes to the same bytes.
		if enc := m.encode(nil); !bytes.Equal(enc, data[:len(enc)]) {
			t.Fatalf("re-encoding differs: %x vs %x", enc, data[:len(enc)])
		}
	})
}

// TestServerQuietWhenClientResets: a client that authenticated and then resets its connection
// (a rank that exits with a reply still unread) has not been refused: the server drops the
// connection without logging it.
func TestServerQuietWhenClientResets(t *testing.T) {
	var mu sync.Mutex
	var lines []string
	s, err := newServer("127.0.0.1:0", testSecret, func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		lines = append(lines, fmt.Sprintf(format, args...))
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c := dialTest(t, s.Addr())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Set(ctx, "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	// Linger 0: Close sends a reset instead of a FIN, as a process exiting with unread data does.
	if err := c.c.(*net.TCPConn).SetLinger(0); err != nil {
		t.Fatal(err)
	}
	c.c.Close()
	deadline := time.Now().Add(5 * time.Second)
	for s.connCount() > 0 {
		if time.Now().After(deadline) {
			t.Fatal("the server still holds the reset connection")
		}
		time.Sleep(5 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if n := s.refusedCount(); n != 0 || len(lines) != 0 {
		t.Errorf("a client's reset counted as %d refusals, logged %q", n, lines)
	}
}
