package engine_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/internal/commlink"
	"github.com/gompi/gompi/internal/engine"
	"github.com/gompi/gompi/internal/trace"
	"github.com/gompi/gompi/transport/inproc"
)

// traced attaches a new recorder to the world under c and returns it.
func traced(c *comm.Comm) (*trace.Recorder, *engine.World, error) {
	w, ok := commlink.Backend(c).(*engine.World)
	if !ok {
		return nil, nil, fmt.Errorf("the world communicator's backend is %T, not *engine.World", commlink.Backend(c))
	}
	rec := trace.NewRecorder(c.Rank(), c.Size(), 0)
	w.Trace(rec)
	return rec, w, nil
}

// tracedJob runs body on n ranks of run, each recording, and returns the merged trace.
func tracedJob(t *testing.T, run func(int, func(*comm.Comm) error) error, n int, body func(c *comm.Comm) error) *trace.Trace {
	t.Helper()
	parts := make([]*trace.Part, n)
	var mu sync.Mutex
	err := run(n, func(c *comm.Comm) error {
		rec, _, err := traced(c)
		if err != nil {
			return err
		}
		err = body(c)
		mu.Lock()
		parts[c.Rank()] = rec.Part("test", "here", "kernel")
		mu.Unlock()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := trace.Merge(parts)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// TestTracePointToPoint: every kind of point-to-point operation is recorded on every transport
// (the ids of eager messages travel in the frames' ID field, through each wire format), and
// every message's send pairs with its receive: eager and rendezvous, blocking and nonblocking,
// Sendrecv, to itself, after a Probe, from any source.
func TestTracePointToPoint(t *testing.T) {
	const big = 200 << 10 // past every transport's eager limit
	for _, tr := range sendrecvTransports {
		t.Run(tr.name, func(t *testing.T) {
			trc := tracedJob(t, tr.run, 3, func(c *comm.Comm) error {
				me, p := c.Rank(), c.Size()
				small, large := make([]byte, 8), make([]byte, big)
				sr, err := sendrecver(c)
				if err != nil {
					return err
				}
				switch me {
				case 0:
					if err := comm.Send(c, small, 1, 1); err != nil {
						return err
					}
					if err := comm.Send(c, large, 1, 2); err != nil {
						return err
					}
				case 1:
					for range 2 {
						if _, err := comm.Recv(c, large, comm.AnySource, comm.AnyTag); err != nil {
							return err
						}
					}
				}
				in := make([]byte, 16)
				if _, serr, rerr := sr.Sendrecv(context.Background(), in, (me+1)%p, 3, in, (me+p-1)%p, 3); serr != nil || rerr != nil {
					return fmt.Errorf("Sendrecv: %v, %v", serr, rerr)
				}
				switch me {
				case 0:
					for _, buf := range [][]byte{small, large} {
						r, err := comm.Isend(c, buf, 2, 4)
						if err != nil {
							return err
						}
						if _, err := r.Wait(); err != nil {
							return err
						}
					}
					if err := comm.Send(c, small, 0, 5); err != nil {
						return err
					}
					if _, err := comm.Recv(c, small, 0, 5); err != nil {
						return err
					}
				case 1:
					if _, err := c.Probe(2, 6); err != nil {
						return err
					}
					if _, err := comm.Recv(c, small, 2, 6); err != nil {
						return err
					}
				case 2:
					for _, buf := range [][]byte{small, large} {
						r, err := comm.Irecv(c, buf, 0, 4)
						if err != nil {
							return err
						}
						if _, err := r.Wait(); err != nil {
							return err
						}
						if _, ok, err := r.Test(); !ok || err != nil { // complete: a Test without the message again
							return fmt.Errorf("Test after Wait: %v %v", ok, err)
						}
					}
					if err := comm.Send(c, small, 1, 6); err != nil {
						return err
					}
				}
				return nil
			})
			// 0→1 twice, the ring (3), 0→2 twice, 0→0, 2→1.
			if len(trc.Flows) != 9 || trc.Unpaired != 0 || trc.Backward != 0 {
				t.Fatalf("%d messages, %d unpaired, %d backward; want 9, 0, 0", len(trc.Flows), trc.Unpaired, trc.Backward)
			}
			ops := map[int]map[trace.Op]int{}
			for _, rk := range trc.Ranks {
				ops[rk.Rank] = map[trace.Op]int{}
				for _, s := range rk.Slices {
					ops[rk.Rank][s.Op]++
					if s.WaitEnd > 0 && (s.WaitStart < s.Start || s.WaitEnd > s.End || s.Wait > s.WaitEnd-s.WaitStart || s.Wait <= 0) {
						t.Errorf("rank %d %v: wait %d in %d..%d outside the call %d..%d", rk.Rank, s.Op, s.Wait, s.WaitStart, s.WaitEnd, s.Start, s.End)
					}
					if s.Failed {
						t.Errorf("rank %d %v failed", rk.Rank, s.Op)
					}
				}
			}
			want := map[int]map[trace.Op]int{
				0: {trace.OpSend: 3, trace.OpRecv: 1, trace.OpSendrecv: 1, trace.OpIsend: 2, trace.OpWait: 2},
				1: {trace.OpRecv: 3, trace.OpSendrecv: 1, trace.OpProbe: 1},
				2: {trace.OpSend: 1, trace.OpSendrecv: 1, trace.OpIrecv: 2, trace.OpWait: 2, trace.OpTest: 2},
			}
			for r, w := range want {
				for op, n := range w {
					if ops[r][op] != n {
						t.Errorf("rank %d: %d %v, want %d (all: %v)", r, ops[r][op], op, n, ops[r])
					}
				}
			}
			for _, f := range trc.Flows {
				from, to := trc.Ranks[f.From].Slices[f.FromSlice], trc.Ranks[f.To].Slices[f.ToSlice]
				if int(from.Dest) != f.To || int(to.Src) != f.From || from.Bytes != to.RBytes || from.Tag != to.RTag {
					t.Errorf("message %v %d→%d (%d bytes, tag %d) received as %v from %d (%d bytes, tag %d)",
						from.Op, f.From, from.Dest, from.Bytes, from.Tag, to.Op, to.Src, to.RBytes, to.RTag)
				}
				if to.Op == trace.OpTest {
					t.Errorf("a Test after Wait recorded message %d→%d again", f.From, f.To)
				}
			}
		})
	}
}

// TestSyncClock: on one machine the estimate of each rank's offset to rank 0 is within half
// its round trip of 0 (rank 0 reads its clock between the ping's departure and the answer's
// arrival), and the exchange records nothing.
func TestSyncClock(t *testing.T) {
	clocks := make([]trace.Clock, 4)
	recs := make([]*trace.Recorder, 4)
	err := inproc.Run(4, func(c *comm.Comm) error {
		rec, w, err := traced(c)
		if err != nil {
			return err
		}
		clocks[c.Rank()], err = w.SyncClock(context.Background(), rec, 5)
		recs[c.Rank()] = rec
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	const slack = 2000 // ns: the two recorders' wall-clock anchors are read at different times
	for r, c := range clocks {
		if n := len(recs[r].Part("", "", "").Events); n != 0 {
			t.Errorf("rank %d recorded %d events of the clock exchange", r, n)
		}
		if r == 0 {
			if c.RTT != 0 || c.Offset != 0 {
				t.Errorf("rank 0: %+v, want no offset", c)
			}
			continue
		}
		if c.RTT <= 0 || abs(c.Offset) > c.RTT/2+slack {
			t.Errorf("rank %d: offset %d ns with a round trip of %d ns", r, c.Offset, c.RTT)
		}
	}
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

// BenchmarkPingPongTrace measures an 8-byte round trip between two in-process ranks with
// tracing off and on: the in-process transport has no wire, so this is the cost of the hooks.
func BenchmarkPingPongTrace(b *testing.B) {
	for _, on := range []bool{false, true} {
		b.Run(map[bool]string{false: "off", true: "on"}[on], func(b *testing.B) {
			err := inproc.Run(2, func(c *comm.Comm) error {
				if on {
					rec, _, err := traced(c)
					if err != nil {
						return err
					}
					defer rec.Stop()
				}
				buf := make([]byte, 8)
				peer := 1 - c.Rank()
				if c.Rank() == 0 {
					b.ReportAllocs()
					b.ResetTimer()
				}
				for range b.N {
					if c.Rank() == 0 {
						if err := comm.Send(c, buf, peer, 1); err != nil {
							return err
						}
						if _, err := comm.Recv(c, buf, peer, 1); err != nil {
							return err
						}
					} else {
						if _, err := comm.Recv(c, buf, peer, 1); err != nil {
							return err
						}
						if err := comm.Send(c, buf, peer, 1); err != nil {
							return err
						}
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		})
	}
}
