package tcp_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gompi/gompi/bootstrap"
	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/internal/commlink"
	"github.com/gompi/gompi/internal/engine"
	"github.com/gompi/gompi/transport/tcp"
)

// TestStrangersRefused: while rank 0 waits for its peers, strangers connect to it with garbage,
// with a correct-looking hello but no knowledge of the secret, and with silence. Each is
// refused and logged, and then the real job connects and exchanges messages.
func TestStrangersRefused(t *testing.T) {
	store := bootstrap.NewMemStore()
	secret, job := []byte("the real secret"), []byte("job-0123456789ab")
	var logMu sync.Mutex
	var logs []string
	cfg := func(rank int) tcp.Config {
		return tcp.Config{Rank: rank, Size: 3, Store: store, Secret: secret, JobID: job,
			HandshakeTimeout: 300 * time.Millisecond,
			Logf: func(format string, args ...any) {
				logMu.Lock()
				logs = append(logs, fmt.Sprintf(format, args...))
				logMu.Unlock()
			}}
	}
	ts := make([]*tcp.Transport, 3)
	errs := make([]error, 3)
	var wg sync.WaitGroup
	start := func(rank int) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ts[rank], errs[rank] = tcp.New(context.Background(), cfg(rank))
		}()
	}
	start(0)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	addr, err := store.Get(ctx, "gompi/addr/0")
	if err != nil {
		t.Fatal(err)
	}

	attacks := map[string]func(c net.Conn){
		"garbage": func(c net.Conn) { c.Write([]byte("GET / HTTP/1.1\r\nHost: gompi\r\n\r\n" + strings.Repeat("x", 100))) },
		"wrong secret": func(c net.Conn) {
			hello := append([]byte{'G', 'O', 'M', 'P', 'I', 1}, job...)
			hello = binary.BigEndian.AppendUint32(hello, 1)
			hello = binary.BigEndian.AppendUint32(hello, 0)
			hello = append(hello, make([]byte, 32)...)
			c.Write(hello)
			answer := make([]byte, 64)
			io.ReadFull(c, answer)
			c.Write(make([]byte, 32)) // a proof made without the secret
		},
		"silent": func(c net.Conn) {},
	}
	for name, attack := range attacks {
		c, err := net.Dial("tcp", string(addr))
		if err != nil {
			t.Fatalf("%s: dial: %v", name, err)
		}
		attack(c)
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		// Rank 0 must close the connection, and never accept it (accepting sends byte 0x01).
		rest, err := io.ReadAll(c)
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Errorf("%s: rank 0 kept the connection open", name)
		}
		if len(rest) > 0 && rest[len(rest)-1] == 1 && name != "wrong secret" {
			t.Errorf("%s: rank 0 answered %x", name, rest)
		}
		if name == "wrong secret" && len(rest) > 0 {
			t.Errorf("wrong secret: rank 0 accepted (%x)", rest)
		}
		c.Close()
	}

	start(1)
	start(2)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("rank %d: %v", i, err)
		}
	}
	worlds := []*engine.World{engine.NewWorld(ts[0]), engine.NewWorld(ts[1]), engine.NewWorld(ts[2])}
	err = engine.RunRanks(worlds, func(w *engine.World) error {
		c := commlink.New[*comm.Comm](w)
		me := c.Rank()
		got := []int{-1}
		if _, err := comm.Sendrecv(c, []int{me}, (me+1)%3, 0, got, (me+2)%3, 0); err != nil {
			return err
		}
		if got[0] != (me+2)%3 {
			return fmt.Errorf("got %d", got[0])
		}
		return nil
	}, func(rank int, err error) { ts[rank].Abort() })
	if err != nil {
		t.Fatal(err)
	}
	logMu.Lock()
	defer logMu.Unlock()
	if len(logs) < 3 {
		t.Fatalf("want 3 refusals logged, got %q", logs)
	}
	for _, l := range logs {
		if !strings.Contains(l, "refused connection") {
			t.Errorf("log line %q does not say it refused a connection", l)
		}
	}
}

// TestPeerFailure: a rank that drops its connections fails the receives waiting on it, at once,
// with an error that errors.Is recognises.
func TestPeerFailure(t *testing.T) {
	ts, err := tcptestTransports(3)
	if err != nil {
		t.Fatal(err)
	}
	worlds := []*engine.World{engine.NewWorld(ts[0]), engine.NewWorld(ts[1]), engine.NewWorld(ts[2])}
	c0 := commlink.New[*comm.Comm](worlds[0])
	done := make(chan error, 2)
	go func() { _, err := comm.Recv(c0, []int{0}, 2, 0); done <- err }()
	go func() { _, err := comm.Recv(c0, []int{0}, comm.AnySource, 1); done <- err }()
	time.Sleep(50 * time.Millisecond)
	ts[2].Abort()
	for range 2 {
		select {
		case err := <-done:
			if !isPeerFailed(err) || !strings.Contains(err.Error(), "rank 2") {
				t.Errorf("receive waiting on a dead rank: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("receive still waiting 5 s after its peer died")
		}
	}
	if err := comm.Send(c0, make([]byte, 1<<20), 2, 0); !isPeerFailed(err) {
		t.Errorf("Send to a dead rank: %v", err)
	}
	ts[1].Abort()
	ts[0].Abort()
}
