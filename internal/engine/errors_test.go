package engine_test

import (
	"errors"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/internal/commlink"
	"github.com/gompi/gompi/internal/engine"
	"github.com/gompi/gompi/transport"
)

// deadTransport is a two-rank transport whose peer dies with a system error as soon as a
// receive waits for it.
type deadTransport struct {
	h     transport.Handler
	cause error
}

func (d *deadTransport) Rank() int                                { return 0 }
func (d *deadTransport) Size() int                                { return 2 }
func (d *deadTransport) Start(h transport.Handler)                { d.h = h }
func (d *deadTransport) EagerLimit() int                          { return 1 << 10 }
func (d *deadTransport) Close() error                             { return nil }
func (d *deadTransport) Send(int, transport.Header, []byte) error { return d.cause }

// TestErrorsWrapTheirCause: when a peer's connection fails with a system error, the errors of
// the operations that depended on it say the peer failed (comm.ErrPeerFailed) and still carry
// the system error, so errors.Is finds ECONNRESET through them; and they say which way the
// data went.
func TestErrorsWrapTheirCause(t *testing.T) {
	cause := &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}
	d := &deadTransport{cause: cause}
	w := engine.NewWorld(d)
	c := commlink.New[*comm.Comm](w)
	done := make(chan error, 1)
	go func() {
		_, err := comm.Recv(c, []byte{0}, 1, 5)
		done <- err
	}()
	// The receive is posted or about to be; a failure reported now fails it either way.
	d.h.PeerFailed(1, false, cause)
	err := <-done
	for _, want := range []error{comm.ErrPeerFailed, syscall.ECONNRESET} {
		if !errors.Is(err, want) {
			t.Errorf("Recv from a peer reset: %v; errors.Is(err, %v) is false", err, want)
		}
	}
	var ce *comm.Error
	if !errors.As(err, &ce) || ce.Peer != 1 || !strings.Contains(err.Error(), "from rank 1") {
		t.Errorf("Recv's error %v does not say it was receiving from rank 1", err)
	}
	// A send to the same peer: the transport's error is wrapped too, and the direction is "to".
	err = comm.Send(c, []byte{1}, 1, 5)
	if !errors.Is(err, comm.ErrPeerFailed) || !errors.Is(err, syscall.ECONNRESET) || !strings.Contains(err.Error(), "to rank 1") {
		t.Errorf("Send to a peer reset: %v; want a peer failure to rank 1 wrapping ECONNRESET", err)
	}
}
