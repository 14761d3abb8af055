package tcp

import (
	"io"
	"net"
	"runtime"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// spinReader reads a TCP connection by trying nonblocking reads for up to d before it parks in
// the runtime's poller. A parked reader costs a thread wake-up per message (about 20 µs here,
// docs/BENCHMARKS.md); a reader that is still trying when the next message arrives takes it
// at once. The wait is bounded, so an idle rank stops using its core after d, and it yields
// to the rank's other goroutines between tries.
type spinReader struct {
	rc  syscall.RawConn
	d   time.Duration
	p   []byte
	n   int
	err error
	try func(fd uintptr) bool // s.read, bound once so that Read does not allocate
}

func newSpinReader(c *net.TCPConn, d time.Duration) (*spinReader, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return nil, err
	}
	s := &spinReader{rc: rc, d: d}
	s.try = s.read
	return s, nil
}

// Read implements io.Reader.
func (s *spinReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	s.p, s.n, s.err = p, 0, nil
	if err := s.rc.Read(s.try); err != nil {
		return 0, err
	}
	s.p = nil
	return s.n, s.err
}

// read is the RawConn callback: it returns true when a read got data, an error or EOF, and
// false (park until readable, then call again) once d has passed without data.
func (s *spinReader) read(fd uintptr) bool {
	var deadline time.Time
	for i := 0; ; i++ {
		n, err := unix.Read(int(fd), s.p)
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
		case err != nil:
			s.err = err
			return true
		case n == 0:
			s.err = io.EOF
			return true
		default:
			s.n = n
			return true
		}
		if i&7 == 0 {
			if i > 0 {
				// Let the rank's other goroutines run between tries, so that spinning
				// steals no time from them. It also spaces the reads out, which in
				// exploratory runs took the 1-byte latency from 6-7 µs to about 4 µs
				// (docs/BENCHMARKS.md), perhaps because back-to-back reads contend for the
				// socket with the peer's write into it.
				runtime.Gosched()
			}
			now := time.Now()
			if i == 0 {
				deadline = now.Add(s.d)
			} else if now.After(deadline) {
				return false
			}
		}
	}
}
