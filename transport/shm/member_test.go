package shm_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gompi/gompi/bootstrap"
	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/internal/commlink"
	"github.com/gompi/gompi/internal/engine"
	"github.com/gompi/gompi/internal/peerauth"
	"github.com/gompi/gompi/transport/shm"
	"github.com/gompi/gompi/transport/shm/shmtest"
)

// TestNonMembersRefused: while the host's first rank waits for its peers, strangers connect
// to its socket with garbage, with a handshake made without the job secret, and in silence.
// Each is refused and logged, and none receives a file descriptor (the segment or a
// doorbell). Then the real ranks connect and exchange messages; once they are set up, the
// socket accepts no one at all.
func TestNonMembersRefused(t *testing.T) {
	store := bootstrap.NewMemStore()
	secret, job := []byte("the real secret"), []byte("job-0123456789ab")
	var logMu sync.Mutex
	var logs []string
	cfg := func(rank int) shm.Config {
		return shm.Config{Rank: rank, Size: 3, Local: []int{0, 1, 2}, Store: store, Secret: secret, JobID: job,
			HandshakeTimeout: 300 * time.Millisecond,
			Logf: func(format string, args ...any) {
				logMu.Lock()
				logs = append(logs, fmt.Sprintf(format, args...))
				logMu.Unlock()
			}}
	}
	ts := make([]*shm.Transport, 3)
	errs := make([]error, 3)
	var wg sync.WaitGroup
	start := func(rank int) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ts[rank], errs[rank] = shm.New(context.Background(), cfg(rank))
		}()
	}
	start(0)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	name, err := store.Get(ctx, "gompi/shm/0")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(name), "@") {
		t.Errorf("socket %q is not in the abstract namespace: it would leave a file behind", name)
	}
	attacks := map[string]func(c *net.UnixConn){
		"garbage": func(c *net.UnixConn) { c.Write([]byte(strings.Repeat("GOMPI garbage ", 20))) },
		"wrong secret": func(c *net.UnixConn) {
			peerauth.Dial(c, []byte("a guess"), peerauth.JobID(job), 2, 0, time.Second)
		},
		"silent": func(c *net.UnixConn) {},
	}
	for what, attack := range attacks {
		nc, err := net.Dial("unix", string(name))
		if err != nil {
			t.Fatalf("%s: dial: %v", what, err)
		}
		c := nc.(*net.UnixConn)
		attack(c)
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		// Rank 0 must close the connection without passing a descriptor.
		for {
			buf := make([]byte, 256)
			oob := make([]byte, unix.CmsgSpace(8*4))
			_, oobn, _, _, err := c.ReadMsgUnix(buf, oob)
			if oobn > 0 {
				t.Errorf("%s: the stranger received descriptors", what)
			}
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Errorf("%s: rank 0 kept the connection open", what)
				break
			}
			if err != nil {
				break
			}
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
	if c, err := net.Dial("unix", string(name)); err == nil {
		c.Close()
		t.Error("rank 0's socket still accepts connections after setup")
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
		if !strings.Contains(l, "refused a connection") {
			t.Errorf("log line %q does not say it refused a connection", l)
		}
	}
}

// TestSegmentPrivate: a job's segment has no name anywhere (nothing appears in /dev/shm), no
// rank keeps a descriptor of it once mapped, and a process of another user cannot open it
// through /proc either (the only way left to reach the mapping of a running rank).
func TestSegmentPrivate(t *testing.T) {
	before, _ := os.ReadDir("/dev/shm")
	ts, err := shmtest.Transports(2, shm.Config{Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		for _, tr := range ts {
			tr.Abort()
		}
	}()
	after, _ := os.ReadDir("/dev/shm")
	if len(after) != len(before) {
		t.Errorf("/dev/shm had %d entries before the job and %d during it", len(before), len(after))
	}
	fds, _ := os.ReadDir("/proc/self/fd")
	for _, fd := range fds {
		if l, _ := os.Readlink(filepath.Join("/proc/self/fd", fd.Name())); strings.Contains(l, "gompi-shm") {
			t.Errorf("descriptor %s still refers to the segment (%s)", fd.Name(), l)
		}
	}
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Skipf("no /proc/self/maps: %v", err)
	}
	var region string
	for _, line := range strings.Split(string(maps), "\n") {
		if strings.Contains(line, "gompi-shm") {
			region = strings.Fields(line)[0]
			break
		}
	}
	if region == "" {
		t.Fatalf("the segment is not mapped: %s", maps)
	}
	if os.Getuid() != 0 {
		t.Skip("opening it as another user needs root to start that user's process")
	}
	path := fmt.Sprintf("/proc/%d/map_files/%s", os.Getpid(), region)
	cmd := exec.Command("/bin/dd", "if="+path, "of=/dev/null", "count=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("user 65534 read the segment through %s: %s", path, out)
	}
	if !strings.Contains(string(out), "denied") && !strings.Contains(string(out), "not permitted") {
		t.Errorf("user 65534 failed to open %s, but not for permissions: %v: %s", path, err, out)
	}
}
