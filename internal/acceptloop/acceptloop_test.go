package acceptloop

import (
	"fmt"
	"net"
	"strings"
	"syscall"
	"testing"
)

// flaky fails Accept with EMFILE n times, then accepts one connection, then is closed.
type flaky struct {
	net.Listener
	fails int
	conns int
}

func (f *flaky) Accept() (net.Conn, error) {
	if f.fails > 0 {
		f.fails--
		return nil, &net.OpError{Op: "accept", Net: "tcp", Err: syscall.EMFILE}
	}
	if f.conns > 0 {
		f.conns--
		c1, _ := net.Pipe()
		return c1, nil
	}
	return nil, net.ErrClosed
}

func (f *flaky) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1} }

// TestAcceptRetries: EMFILE does not end the loop; the next connection is returned, two log
// lines say so, and a closed listener ends it.
func TestAcceptRetries(t *testing.T) {
	var logs []string
	logf := func(format string, args ...any) { logs = append(logs, fmt.Sprintf(format, args...)) }
	ln := &flaky{fails: 5, conns: 1}
	c, ok := Accept(ln, nil, logf)
	if !ok || c == nil {
		t.Fatalf("Accept after EMFILE: %v, %v", c, ok)
	}
	c.Close()
	if len(logs) != 2 || !strings.Contains(logs[0], "too many open files") || !strings.Contains(logs[1], "after 5 failed tries") {
		t.Errorf("logs %q", logs)
	}
	if c, ok := Accept(ln, nil, nil); ok || c != nil {
		t.Errorf("Accept on a closed listener: %v, %v", c, ok)
	}
	stop := make(chan struct{})
	close(stop)
	if _, ok := Accept(&flaky{fails: 1 << 30}, stop, nil); ok {
		t.Error("Accept went on after stop")
	}
}
