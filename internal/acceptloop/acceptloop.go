// Package acceptloop keeps gompi's listeners (a rank's TCP port, the bootstrap service)
// accepting through errors that pass, as net/http's server does: a flood of connections that
// exhausts the process's file descriptors (EMFILE) fails Accept until some close, and must not
// end the loop for good, or the job could not start once the flood is over.
package acceptloop

import (
	"errors"
	"net"
	"time"
)

// Delays between tries after a failed Accept: the first, doubled after each failure, up to
// the last.
const (
	FirstDelay = 5 * time.Millisecond
	MaxDelay   = time.Second
)

// Accept returns the next connection of ln. It returns ok false once ln is closed
// (net.ErrClosed) or stop is closed (nil: never). After any other error it waits, FirstDelay
// doubling up to MaxDelay, and tries again; logf, unless nil, hears of the first error of each
// run of them and of how many there were once one succeeds, so a flood costs two log lines,
// not one per refused connection.
func Accept(ln net.Listener, stop <-chan struct{}, logf func(format string, args ...any)) (c net.Conn, ok bool) {
	delay, failures := time.Duration(0), 0
	for {
		c, err := ln.Accept()
		if err == nil {
			if failures > 0 && logf != nil {
				logf("accepting again on %v after %d failed tries", ln.Addr(), failures)
			}
			return c, true
		}
		if errors.Is(err, net.ErrClosed) {
			return nil, false
		}
		if failures == 0 && logf != nil {
			logf("accept on %v: %v; retrying", ln.Addr(), err)
		}
		failures++
		delay = min(max(2*delay, FirstDelay), MaxDelay)
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-stop:
			t.Stop()
			return nil, false
		}
	}
}
