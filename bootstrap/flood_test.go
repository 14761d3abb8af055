package bootstrap

import (
	"context"
	"net"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// TestServerSurvivesDescriptorFlood: with the process's descriptor limit lowered to 64, a flood
// of connections that exhausts it makes the service's Accept fail (EMFILE); once they close, a
// client is served again (issue 15, acceptance 5). Run in a child process, whose limit the test
// may lower without starving the others.
func TestServerSurvivesDescriptorFlood(t *testing.T) {
	if os.Getenv("GOMPI_TEST_FLOOD_CHILD") == "1" {
		floodChild(t)
		return
	}
	if testing.Short() {
		t.Skip("runs a child process")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestServerSurvivesDescriptorFlood$", "-test.v")
	cmd.Env = append(os.Environ(), "GOMPI_TEST_FLOOD_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
}

func floodChild(t *testing.T) {
	lim := syscall.Rlimit{Cur: 64, Max: 64}
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &old); err == nil && old.Max < lim.Max {
		lim = old
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatalf("setrlimit: %v", err)
	}
	s, err := NewServer("127.0.0.1:0", testSecret)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var flood []net.Conn
	for {
		c, err := net.DialTimeout("tcp", s.Addr(), time.Second)
		if err != nil {
			break // this process is out of descriptors: so is the server's Accept
		}
		flood = append(flood, c)
		if len(flood) > 200 {
			t.Fatalf("the limit of %d descriptors did not stop %d connections", lim.Cur, len(flood))
		}
	}
	t.Logf("%d connections exhausted the descriptors", len(flood))
	for _, c := range flood {
		c.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cl, err := Dial(ctx, s.Addr(), testSecret)
	if err != nil {
		t.Fatalf("Dial after the flood: %v", err)
	}
	defer cl.Close()
	if err := cl.Set(ctx, "k", []byte("v")); err != nil {
		t.Fatalf("Set after the flood: %v", err)
	}
	if v, err := cl.Get(ctx, "k"); err != nil || string(v) != "v" {
		t.Fatalf("Get after the flood: %q, %v", v, err)
	}
}
