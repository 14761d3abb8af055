package tcp_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gompi/gompi/bootstrap"
	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/internal/acceptloop"
	"github.com/gompi/gompi/internal/commlink"
	"github.com/gompi/gompi/internal/engine"
	"github.com/gompi/gompi/transport/tcp"
)

// twoRanks starts rank 0 of a 2-rank job at once, and returns its address (once published)
// and a function that starts rank 1 and returns both transports when both are connected.
func twoRanks(t *testing.T, logf func(string, ...any)) (addr string, connect func() []*tcp.Transport) {
	t.Helper()
	store := bootstrap.NewMemStore()
	cfg := func(rank int) tcp.Config {
		return tcp.Config{Rank: rank, Size: 2, Store: store, Secret: []byte("the job's secret"), JobID: []byte("job-0123456789ab"),
			ConnectTimeout: 20 * time.Second, HandshakeTimeout: 5 * time.Second, Logf: logf}
	}
	ts := make([]*tcp.Transport, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	start := func(rank int) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ts[rank], errs[rank] = tcp.New(context.Background(), cfg(rank))
		}()
	}
	start(0)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	a, err := store.Get(ctx, "gompi/addr/0")
	if err != nil {
		t.Fatal(err)
	}
	return string(a), func() []*tcp.Transport {
		start(1)
		wg.Wait()
		for r, err := range errs {
			if err != nil {
				t.Fatalf("rank %d: %v", r, err)
			}
		}
		return ts
	}
}

// exchange runs one message each way between the two ranks of ts, and finalizes them.
func exchange(t *testing.T, ts []*tcp.Transport) {
	t.Helper()
	worlds := []*engine.World{engine.NewWorld(ts[0]), engine.NewWorld(ts[1])}
	err := engine.RunRanks(worlds, func(w *engine.World) error {
		c := commlink.New[*comm.Comm](w)
		got := []int{-1}
		if _, err := comm.Sendrecv(c, []int{c.Rank()}, 1-c.Rank(), 0, got, 1-c.Rank(), 0); err != nil {
			return err
		}
		if got[0] != 1-c.Rank() {
			return fmt.Errorf("rank %d got %d", c.Rank(), got[0])
		}
		return nil
	}, func(rank int, err error) { ts[rank].Abort() })
	if err != nil {
		t.Fatal(err)
	}
}

// TestRankSurvivesDescriptorFlood: with the process's descriptor limit lowered to 64, a flood
// of connections to a rank's port during start-up exhausts it, so that the rank's Accept fails
// (EMFILE); once the flood closes, the job's other rank connects and they exchange messages
// (issue 15, acceptance 5). Run in a child process, whose limit the test may lower without
// starving the others.
func TestRankSurvivesDescriptorFlood(t *testing.T) {
	if os.Getenv("GOMPI_TEST_FLOOD_CHILD") == "1" {
		rankFloodChild(t)
		return
	}
	if testing.Short() {
		t.Skip("runs a child process")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestRankSurvivesDescriptorFlood$", "-test.v")
	cmd.Env = append(os.Environ(), "GOMPI_TEST_FLOOD_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	t.Logf("child:\n%s", out)
}

func rankFloodChild(t *testing.T) {
	lim := syscall.Rlimit{Cur: 64, Max: 64}
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &old); err == nil && old.Max < lim.Max {
		lim = old
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatalf("setrlimit: %v", err)
	}
	var mu sync.Mutex
	var logs []string
	addr, connect := twoRanks(t, func(format string, args ...any) {
		mu.Lock()
		logs = append(logs, fmt.Sprintf(format, args...))
		mu.Unlock()
	})
	var flood []net.Conn
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			break // this process is out of descriptors: so is the rank's Accept
		}
		flood = append(flood, c)
		if len(flood) > 200 {
			t.Fatalf("the limit of %d descriptors did not stop %d connections", lim.Cur, len(flood))
		}
	}
	t.Logf("%d connections exhausted the descriptors", len(flood))
	// Whether rank 0's Accept or this dialer ran out first depends on scheduling. Make sure
	// Accept does: take every descriptor left, free one, and dial once more; the connection
	// the kernel completes then waits for an Accept that has no descriptor for it.
	emfile := func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, l := range logs {
			if strings.Contains(l, "too many open files") {
				return true
			}
		}
		return false
	}
	var fill []*os.File
	for {
		f, err := os.Open(os.DevNull)
		if err != nil {
			break
		}
		fill = append(fill, f)
	}
	for len(fill) > 0 && !emfile() {
		fill[len(fill)-1].Close()
		fill = fill[:len(fill)-1]
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			flood = append(flood, c)
			break
		}
	}
	// Wait for rank 0 to say so (an event, bounded only as a guard against a broken test).
	for deadline := time.Now().Add(20 * time.Second); !emfile() && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	for _, f := range fill {
		f.Close()
	}
	for _, c := range flood {
		c.Close()
	}
	if !emfile() {
		mu.Lock()
		t.Errorf("rank 0's Accept never failed for lack of descriptors (log %q): the flood did not test what it should", logs)
		mu.Unlock()
	}
	exchange(t, connect())
	mu.Lock()
	defer mu.Unlock()
	t.Logf("rank 0's log: %q", logs)
}

// A flood of bad handshakes on a rank's port is logged as the first RefusalBurst lines and one
// line for the rest (it was a line each: 3,018 in one test), and the job starts.
func TestRankRefusalsRateLimited(t *testing.T) {
	var mu sync.Mutex
	var logs []string
	addr, connect := twoRanks(t, func(format string, args ...any) {
		mu.Lock()
		logs = append(logs, fmt.Sprintf(format, args...))
		mu.Unlock()
	})
	const n = 200
	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range n / 10 {
				c, err := net.Dial("tcp", addr)
				if err != nil {
					t.Error(err)
					return
				}
				c.Write([]byte("GET / HTTP/1.1\r\nHost: gompi\r\n\r\n" + strings.Repeat("x", 100)))
				io.Copy(io.Discard, c) // until rank 0 refuses it, logged or counted
				c.Close()
			}
		}()
	}
	wg.Wait()
	exchange(t, connect())
	mu.Lock()
	defer mu.Unlock()
	if len(logs) != acceptloop.RefusalBurst+1 {
		t.Fatalf("%d bad handshakes logged %d lines, want %d: %q", n, len(logs), acceptloop.RefusalBurst+1, logs)
	}
	if !strings.HasPrefix(logs[0], "refused connection from 127.0.0.1:") {
		t.Errorf("first line %q does not say who was refused", logs[0])
	}
	if want := fmt.Sprintf("refused %d more connections in the last ", n-acceptloop.RefusalBurst); !strings.HasPrefix(logs[len(logs)-1], want) {
		t.Errorf("last line %q, want %q...", logs[len(logs)-1], want)
	}
}
