package bootstrap

import (
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gompi/gompi/internal/acceptloop"
)

// collect returns a logf that keeps its lines, and a function that returns them.
func collect() (func(string, ...any), func() []string) {
	var mu sync.Mutex
	var lines []string
	return func(format string, args ...any) {
			mu.Lock()
			lines = append(lines, fmt.Sprintf(format, args...))
			mu.Unlock()
		}, func() []string {
			mu.Lock()
			defer mu.Unlock()
			return append([]string(nil), lines...)
		}
}

// badHandshake connects to addr, answers the greeting with garbage and reads until the
// server closes the connection, which it does after it has counted and logged the refusal.
func badHandshake(t *testing.T, addr string) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Error(err)
		return
	}
	defer c.Close()
	c.Write(make([]byte, len(magic)+macLen+nonceLen))
	io.Copy(io.Discard, c)
}

// A flood of bad handshakes is logged as the first RefusalBurst lines and one line for the
// rest, not a line each (it logged none before); the job's clients are served meanwhile.
func TestServerRefusalsRateLimited(t *testing.T) {
	logf, lines := collect()
	s, err := newServer("127.0.0.1:0", testSecret, logf)
	if err != nil {
		t.Fatal(err)
	}
	const n = 300
	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range n / 10 {
				badHandshake(t, s.Addr())
			}
		}()
	}
	wg.Wait()
	if got := s.refusedCount(); got != n {
		t.Errorf("refused %d connections, want %d", got, n)
	}
	s.Close()
	got := lines()
	if len(got) != acceptloop.RefusalBurst+1 {
		t.Fatalf("%d bad handshakes logged %d lines, want %d: %q", n, len(got), acceptloop.RefusalBurst+1, got)
	}
	if !strings.HasPrefix(got[0], "refused connection from 127.0.0.1:") || !strings.Contains(got[0], "bad magic") {
		t.Errorf("first line %q does not say who was refused and why", got[0])
	}
	if want := fmt.Sprintf("refused %d more connections in the last ", n-acceptloop.RefusalBurst); !strings.HasPrefix(got[len(got)-1], want) {
		t.Errorf("last line %q, want %q...", got[len(got)-1], want)
	}
}

// At most MaxHandshakes connections are in their handshake at once: with that many silent
// ones holding the server, the next one gets no greeting (it waits in the listen backlog)
// until one of them leaves; then it is served.
func TestServerCapsHandshakes(t *testing.T) {
	logf, _ := collect()
	s, err := newServer("127.0.0.1:0", testSecret, logf)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	greeting := make([]byte, len(magic)+nonceLen)
	var silent []net.Conn
	defer func() {
		for _, c := range silent {
			c.Close()
		}
	}()
	for range acceptloop.MaxHandshakes {
		c, err := net.Dial("tcp", s.Addr())
		if err != nil {
			t.Fatal(err)
		}
		silent = append(silent, c)
		if _, err := io.ReadFull(c, greeting); err != nil {
			t.Fatalf("connection %d got no greeting: %v", len(silent), err)
		}
	}
	next, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer next.Close()
	// Not greeted while the others hold every place: any greeting would come within
	// microseconds, so a short wait shows its absence.
	next.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if n, err := next.Read(greeting); err == nil || !strings.Contains(err.Error(), "timeout") {
		t.Fatalf("connection %d was greeted (%d bytes, %v) while %d were in their handshake", acceptloop.MaxHandshakes+1, n, err, acceptloop.MaxHandshakes)
	}
	silent[0].Close()
	next.SetReadDeadline(time.Time{})
	if _, err := io.ReadFull(next, greeting); err != nil || string(greeting[:len(magic)]) != magic {
		t.Fatalf("connection %d not greeted after a place was freed: %v", acceptloop.MaxHandshakes+1, err)
	}
}
