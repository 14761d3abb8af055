package engine_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/internal/engine"
	"github.com/gompi/gompi/transport/tcp"
	"github.com/gompi/gompi/transport/tcp/tcptest"
)

// fragPattern fills a buffer of n bytes with a sequence that differs at every fragment boundary.
func fragPattern(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7+i>>12) ^ seed
	}
	return b
}

// TestSmallPassesLargeOverTCP is the acceptance test of fragmented Data frames: rank 0 sends
// a large message and, from another goroutine, a small one to the same peer; the small one
// completes at the receiver while the large one is provably still in flight. The large send
// is held after its first fragment (a hook) until the receiver has the small message, so
// the small message must pass between the large one's fragments: with a payload written in
// one frame under the connection's write lock, the small send would wait behind the large
// one, and this test would never finish.
func TestSmallPassesLargeOverTCP(t *testing.T) {
	const (
		large    = 32 << 20 // 64 fragments of DefaultFragmentSize
		tagLarge = 4201
		tagSmall = 4202
	)
	for _, small := range []int{1 << 10, 2 << 20} { // eager; rendezvous (in fragments of its own)
		t.Run(fmt.Sprint(small), func(t *testing.T) {
			inFlight := make(chan struct{})  // the large send is between its fragments
			smallDone := make(chan struct{}) // the receiver has the small message
			var once sync.Once
			defer engine.SetFragmentHooks(func(rank, peer, tag, sent int) {
				if rank == 0 && tag == tagLarge {
					once.Do(func() {
						close(inFlight)
						<-smallDone
					})
				}
			}, nil)()
			big, little := fragPattern(large, 1), fragPattern(small, 2)
			err := tcptest.Run(2, func(c *comm.Comm) error {
				if c.Rank() == 0 {
					errc := make(chan error, 1)
					go func() { errc <- comm.Send(c, big, 1, tagLarge) }()
					<-inFlight
					if err := comm.Send(c, little, 1, tagSmall); err != nil {
						return err
					}
					return <-errc
				}
				gotLittle, gotBig := make([]byte, small), make([]byte, large)
				rs, err := comm.Irecv(c, gotLittle, 0, tagSmall)
				if err != nil {
					return err
				}
				rl, err := comm.Irecv(c, gotBig, 0, tagLarge)
				if err != nil {
					return err
				}
				if _, err := rs.Wait(); err != nil {
					return fmt.Errorf("small receive: %v", err)
				}
				_, done, err := rl.Test()
				close(smallDone)
				if done {
					return fmt.Errorf("the large message (err %v) was complete when the small one arrived", err)
				}
				if !bytes.Equal(gotLittle, little) {
					return errors.New("small message corrupted")
				}
				st, err := rl.Wait()
				if err != nil {
					return fmt.Errorf("large receive: %v", err)
				}
				if st.Bytes != large || !bytes.Equal(gotBig, big) {
					return fmt.Errorf("large message: %d bytes, contents equal %v", st.Bytes, bytes.Equal(gotBig, big))
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestSendWithdrawnMidMessage: a rendezvous send whose context ends while its payload is under
// way stops at the next fragment and returns the context's error; the receiver's receive fails
// with ErrCanceled (as for a message withdrawn before the clear-to-send), and the connection
// carries the next message on the same tag intact. Blocking sends (SendContext) and
// nonblocking ones (Isend, then WaitContext) both stop.
func TestSendWithdrawnMidMessage(t *testing.T) {
	const (
		n   = 3<<20 + 12345 // 7 fragments, the last one short
		tag = 4203
	)
	for _, nonblocking := range []bool{false, true} {
		t.Run(fmt.Sprintf("nonblocking=%v", nonblocking), func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			inFlight := make(chan struct{})
			aborting := make(chan struct{})
			var once sync.Once
			defer engine.SetFragmentHooks(func(rank, peer, tag_, sent int) {
				if rank == 0 && tag_ == tag {
					once.Do(func() {
						if !nonblocking {
							cancel() // SendContext's own goroutine checks ctx before the next fragment
							return
						}
						close(inFlight)
						<-aborting // WaitContext has asked the sending goroutine to stop
					})
				}
			}, func(rank, peer, tag_ int) {
				if rank == 0 && tag_ == tag {
					close(aborting)
				}
			})()
			first, second := fragPattern(n, 3), fragPattern(n, 4)
			err := tcptest.Run(2, func(c *comm.Comm) error {
				if c.Rank() == 0 {
					var err error
					if nonblocking {
						req, ierr := comm.Isend(c, first, 1, tag)
						if ierr != nil {
							return ierr
						}
						<-inFlight
						cancel()
						_, err = req.WaitContext(ctx)
					} else {
						err = comm.SendContext(ctx, c, first, 1, tag)
					}
					if !errors.Is(err, context.Canceled) {
						return fmt.Errorf("send canceled mid-message: %v, want context.Canceled", err)
					}
					return comm.Send(c, second, 1, tag)
				}
				buf := make([]byte, n)
				_, err := comm.Recv(c, buf, 0, tag)
				if !errors.Is(err, comm.ErrCanceled) {
					return fmt.Errorf("receive of a message withdrawn mid-way: %v, want ErrCanceled", err)
				}
				st, err := comm.Recv(c, buf, 0, tag)
				if err != nil {
					return err
				}
				if st.Bytes != n || !bytes.Equal(buf, second) {
					return fmt.Errorf("next message: %d bytes, contents equal %v", st.Bytes, bytes.Equal(buf, second))
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestFragmentsInterleave: three ranks, with a fragment size that divides nothing, exchange
// rendezvous messages of many sizes from several goroutines at once in every direction, so
// that fragments of different messages (and eager frames) interleave on every connection;
// then the same with the default fragments and spinning readers.
func TestFragmentsInterleave(t *testing.T) {
	for _, cfg := range []tcp.Config{{FragmentSize: 4099}, {SpinWait: 50 * time.Microsecond}} {
		if err := interleave(cfg); err != nil {
			t.Errorf("fragments of %d bytes, spin %v: %v", cfg.FragmentSize, cfg.SpinWait, err)
		}
	}
}

func interleave(cfg tcp.Config) error {
	const (
		ranks   = 3
		senders = 3
	)
	sizes := []int{64<<10 + 1, 100_000, 1 << 20, 3*4099 + 1, 4099 * 50, 600_000}
	return tcptest.RunConfig(ranks, cfg, func(c *comm.Comm) error {
		var wg sync.WaitGroup
		errs := make(chan error, 2*ranks*senders)
		for peer := range ranks {
			if peer == c.Rank() {
				continue
			}
			for g := range senders {
				wg.Add(2)
				go func() {
					defer wg.Done()
					for i, n := range sizes {
						if err := comm.Send(c, fragPattern(n, byte(c.Rank()*16+g+i)), peer, g); err != nil {
							errs <- err
							return
						}
						if err := comm.Send(c, []byte{byte(i)}, peer, g); err != nil { // an eager one between
							errs <- err
							return
						}
					}
				}()
				go func() {
					defer wg.Done()
					for i, n := range sizes {
						buf := make([]byte, n)
						st, err := comm.Recv(c, buf, peer, g)
						if err == nil && (st.Bytes != n || !bytes.Equal(buf, fragPattern(n, byte(peer*16+g+i)))) {
							err = fmt.Errorf("rank %d from %d tag %d: message %d (%d bytes) corrupted", c.Rank(), peer, g, i, n)
						}
						if err == nil {
							st, err = comm.Recv(c, buf[:1], peer, g)
							if err == nil && (st.Bytes != 1 || buf[0] != byte(i)) {
								err = fmt.Errorf("rank %d from %d tag %d: eager message %d out of order", c.Rank(), peer, g, i)
							}
						}
						if err != nil {
							errs <- err
							return
						}
					}
				}()
			}
		}
		wg.Wait()
		close(errs)
		return <-errs
	})
}
