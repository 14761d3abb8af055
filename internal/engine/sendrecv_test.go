package engine_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/internal/backend"
	"github.com/gompi/gompi/internal/commlink"
	"github.com/gompi/gompi/transport/inproc"
	"github.com/gompi/gompi/transport/shm/shmtest"
	"github.com/gompi/gompi/transport/tcp/tcptest"
)

var sendrecvTransports = []struct {
	name string
	run  func(n int, f func(*comm.Comm) error) error
}{{"inproc", inproc.Run}, {"shm", shmtest.Run}, {"tcp", tcptest.Run}}

// sendrecver returns c's backend as a backend.Sendrecver.
func sendrecver(c *comm.Comm) (backend.Sendrecver, error) {
	sr, ok := commlink.Backend(c).(backend.Sendrecver)
	if !ok {
		return nil, fmt.Errorf("the engine's Comm is not a backend.Sendrecver")
	}
	return sr, nil
}

func pattern(rank, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rank*31 + i*7)
	}
	return b
}

// TestSendrecvExchange: ranks in a ring send to the next and receive from the previous, at
// once, messages of every protocol (empty, eager, rendezvous of 4 MiB, mixed in one call), on
// every transport; with two ranks the pairs exchange large messages both ways at once, which
// would deadlock as a blocking Send followed by a Recv.
func TestSendrecvExchange(t *testing.T) {
	sizes := [][2]int{{0, 0}, {1, 100}, {100, 1}, {4 << 20, 4 << 20}, {4 << 20, 10}, {10, 4 << 20}}
	for _, tr := range sendrecvTransports {
		for _, p := range []int{1, 2, 3} {
			err := tr.run(p, func(c *comm.Comm) error {
				sr, err := sendrecver(c)
				if err != nil {
					return err
				}
				me := c.Rank()
				next, prev := (me+1)%p, (me-1+p)%p
				for i, sz := range sizes {
					// Rank r sends sz[r%2] bytes; it receives what prev sends.
					out := pattern(me, sz[me%2])
					in := make([]byte, sz[prev%2])
					st, serr, rerr := sr.Sendrecv(context.Background(), out, next, 10+i, in, prev, 10+i)
					if serr != nil || rerr != nil {
						return fmt.Errorf("sizes %v: send %v, receive %v", sz, serr, rerr)
					}
					if st.Source != prev || st.Tag != 10+i || st.Bytes != len(in) || !bytes.Equal(in, pattern(prev, len(in))) {
						return fmt.Errorf("sizes %v: received %+v, data intact %v", sz, st, bytes.Equal(in, pattern(prev, len(in))))
					}
				}
				return nil
			})
			if err != nil {
				t.Errorf("%s p=%d: %v", tr.name, p, err)
			}
		}
	}
}

// TestSendrecvContext: rank 1 never takes part; rank 0's Sendrecv with a large message (a
// rendezvous that waits for rank 1's receive) and a canceled context returns, with both the
// send and the receive withdrawn (errors wrapping context.Canceled).
func TestSendrecvContext(t *testing.T) {
	for _, tr := range sendrecvTransports {
		gaveUp := make(chan struct{})
		err := tr.run(2, func(c *comm.Comm) error {
			if c.Rank() == 1 {
				<-gaveUp
				return nil
			}
			defer close(gaveUp)
			sr, err := sendrecver(c)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithCancel(context.Background())
			cancel() // rank 1 will never come: the call must not wait for it
			_, serr, rerr := sr.Sendrecv(ctx, make([]byte, 1<<20), 1, 1, make([]byte, 8), 1, 1)
			if !errors.Is(serr, context.Canceled) || !errors.Is(rerr, context.Canceled) {
				return fmt.Errorf("Sendrecv with rank 1 away, context canceled: send %v, receive %v", serr, rerr)
			}
			return nil
		})
		if err != nil {
			t.Errorf("%s: %v", tr.name, err)
		}
	}
}

// TestSendrecvSendFails: a send to a rank that has failed fails, and the receive (from
// another rank that stays silent) is withdrawn instead of waiting for ever.
func TestSendrecvSendFails(t *testing.T) {
	gaveUp := make(chan struct{})
	err := inproc.Run(3, func(c *comm.Comm) error {
		switch c.Rank() {
		case 1:
			return errors.New("rank 1 fails on purpose")
		case 2:
			<-gaveUp
			return nil
		}
		defer close(gaveUp)
		sr, err := sendrecver(c)
		if err != nil {
			return err
		}
		// Wait until rank 1 is known to have failed.
		for {
			if _, err := comm.Recv(c, make([]byte, 1), 1, 99); err != nil {
				break
			}
		}
		_, serr, rerr := sr.Sendrecv(context.Background(), make([]byte, 1<<20), 1, 1, make([]byte, 8), 2, 1)
		if !errors.Is(serr, comm.ErrPeerFailed) {
			return fmt.Errorf("send to the failed rank: %v, want ErrPeerFailed", serr)
		}
		if !errors.Is(rerr, context.Canceled) {
			return fmt.Errorf("the receive after the failed send: %v, want it withdrawn (context.Canceled)", rerr)
		}
		return nil
	})
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte("rank 1 fails on purpose")) {
		t.Fatalf("job error %v: want rank 1's failure only", err)
	}
	if bytes.Contains([]byte(err.Error()), []byte("rank 0")) {
		t.Errorf("rank 0 failed: %v", err)
	}
}
