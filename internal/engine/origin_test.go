package engine_test

import (
	"errors"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/internal/commlink"
	"github.com/gompi/gompi/internal/engine"
	"github.com/gompi/gompi/transport"
	"github.com/gompi/gompi/transport/inproc"
	"github.com/gompi/gompi/transport/shm/shmtest"
	"github.com/gompi/gompi/transport/tcp/tcptest"
)

// fakeJob is rank 0 of a 4-rank job whose peers the test plays: it records the frames rank 0
// sends.
type fakeJob struct {
	h    transport.Handler
	mu   sync.Mutex
	sent map[int][]transport.Header
}

func (f *fakeJob) Rank() int                 { return 0 }
func (f *fakeJob) Size() int                 { return 4 }
func (f *fakeJob) Start(h transport.Handler) { f.h = h }
func (f *fakeJob) EagerLimit() int           { return 1 << 10 }
func (f *fakeJob) Close() error              { return nil }
func (f *fakeJob) Send(peer int, h transport.Header, _ []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent[peer] = append(f.sent[peer], h)
	return nil
}

// TestFailFrameNamesTheOrigin: rank 1 says (Fail frame) that its failure began when rank 3
// finalized and left, then vanishes; rank 0 has not seen rank 3 go. Rank 0's receive from
// rank 1 fails naming both: rank 1 and, as where it began, rank 3; the error's Origin says so;
// the world's Origin is rank 3; and TellOrigin passes it on to rank 2, the only peer left that
// is not rank 3.
func TestFailFrameNamesTheOrigin(t *testing.T) {
	f := &fakeJob{sent: map[int][]transport.Header{}}
	w := engine.NewWorld(f)
	c := commlink.New[*comm.Comm](w)
	if _, _, ok := w.Origin(); ok {
		t.Fatal("Origin is known before any peer went")
	}
	done := make(chan error, 1)
	go func() {
		_, err := comm.Recv(c, []byte{0}, 1, 5)
		done <- err
	}()
	fail := transport.Header{Kind: transport.Fail, Source: 1, Aux: 3, Flags: transport.FlagLeft}
	dst, cookie := f.h.Arrive(fail)
	f.h.Complete(fail, cookie, nil)
	if dst != nil {
		t.Errorf("Arrive(Fail) returned a %d-byte buffer for a frame without payload", len(dst))
	}
	f.h.PeerFailed(1, false, io.ErrUnexpectedEOF)
	err := <-done
	if !errors.Is(err, comm.ErrPeerFailed) {
		t.Fatalf("Recv from a failed rank 1: %v; want ErrPeerFailed", err)
	}
	if want := "rank 1 failed (rank 3 finalized and left first)"; !strings.Contains(err.Error(), want) {
		t.Errorf("Recv's error %q does not say %q", err, want)
	}
	var ce *comm.Error
	if !errors.As(err, &ce) || ce.Origin == nil || *ce.Origin != (comm.Origin{Rank: 3, Left: true}) {
		t.Errorf("Recv's error %v: Origin %+v, want rank 3, left", err, ce.Origin)
	}
	if r, left, ok := w.Origin(); !ok || r != 3 || !left {
		t.Errorf("World.Origin = %d, %v, %v; want 3, true, true", r, left, ok)
	}
	w.TellOrigin()
	f.mu.Lock()
	defer f.mu.Unlock()
	if got := f.sent[2]; len(got) != 1 || got[0].Kind != transport.Fail || got[0].Aux != 3 || got[0].Flags != transport.FlagLeft {
		t.Errorf("TellOrigin sent rank 2 %+v; want one Fail frame naming rank 3, left", got)
	}
	if len(f.sent[1]) != 0 || len(f.sent[3]) != 0 {
		t.Errorf("TellOrigin sent to gone ranks: rank 1 %+v, rank 3 %+v", f.sent[1], f.sent[3])
	}
}

// TestSurvivorsNameTheRankThatLeft: 4 ranks in an Allreduce loop; rank 3 returns after its
// first one. Every survivor's error names rank 3 as where the failure began (in its text and
// its Origin), whichever neighbour its own call waited on; in-process, over TCP and over shared memory.
func TestSurvivorsNameTheRankThatLeft(t *testing.T) {
	runs := map[string]func(int, func(*comm.Comm) error) error{"inproc": inproc.Run, "tcp": tcptest.Run, "shm": shmtest.Run}
	for name, run := range runs {
		t.Run(name, func(t *testing.T) {
			errs := make([]error, 4)
			run(4, func(c *comm.Comm) error {
				buf := []float64{1}
				for i := 0; ; i++ {
					if c.Rank() == 3 && i == 1 {
						return nil
					}
					if err := allreduceSum(c, buf); err != nil {
						errs[c.Rank()] = err
						return err
					}
				}
			})
			for r := range 3 {
				err := errs[r]
				var ce *comm.Error
				if !errors.Is(err, comm.ErrPeerFailed) || !errors.As(err, &ce) {
					t.Errorf("rank %d: %v; want a peer failure", r, err)
					continue
				}
				if !strings.Contains(err.Error(), "rank 3 finalized and left") {
					t.Errorf("rank %d's error %q does not name rank 3 as the rank that left", r, err)
				}
				if ce.Origin == nil || *ce.Origin != (comm.Origin{Rank: 3, Left: true}) {
					t.Errorf("rank %d's error %v: Origin %+v, want rank 3, left", r, err, ce.Origin)
				}
			}
		})
	}
}

// allreduceSum sums buf over c by recursive doubling over point-to-point (c's size a power of
// two), so that each rank waits on one neighbour at a time, as the collectives do.
func allreduceSum(c *comm.Comm, buf []float64) error {
	in := []float64{0}
	for d := 1; d < c.Size(); d *= 2 {
		peer := c.Rank() ^ d
		if _, err := comm.Sendrecv(c, buf, peer, 7, in, peer, 7); err != nil {
			return err
		}
		buf[0] += in[0]
	}
	return nil
}
