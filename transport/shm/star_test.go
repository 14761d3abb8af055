package shm_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gompi/gompi/collectives"
	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/transport/shm"
	"github.com/gompi/gompi/transport/shm/shmtest"
)

// Only the host's first rank (the leader) holds a socket to every rank; the others hold one,
// to the leader. A rank that dies is seen by the leader, which passes the word on through
// the segment: a receive from the dead rank on any other rank fails with ErrPeerFailed at
// once, whether or not the two ever exchanged a message, and whichever rank dies (a
// follower, or the leader, whose socket every rank watches).
func TestDeathSeenByEveryRank(t *testing.T) {
	const n = 5
	for _, c := range []struct {
		victim int
		talked bool // the victim sent every rank a message before it died
	}{{3, false}, {3, true}, {0, false}, {1, true}} {
		t.Run(fmt.Sprintf("victim=%d,talked=%v", c.victim, c.talked), func(t *testing.T) {
			errVictim := errors.New("killed")
			err := shmtest.Run(n, func(w *comm.Comm) error {
				me := w.Rank()
				if c.talked {
					if me == c.victim {
						for r := range n {
							if r != me {
								if err := comm.Send(w, []int{me}, r, 1); err != nil {
									return err
								}
							}
						}
					} else if _, err := comm.Recv(w, []int{0}, c.victim, 1); err != nil {
						return err
					}
				}
				if me == c.victim {
					// Die (shmtest drops this rank's sockets without a goodbye) once
					// every other rank waits for it.
					if err := collectives.Barrier(w); err != nil {
						return err
					}
					return errVictim
				}
				if err := collectives.Barrier(w); err != nil {
					return err
				}
				start := time.Now()
				_, err := comm.Recv(w, []int{0}, c.victim, 2)
				if !errors.Is(err, comm.ErrPeerFailed) {
					return fmt.Errorf("rank %d: Recv from the dead rank %d returned %v, want ErrPeerFailed", me, c.victim, err)
				}
				if el := time.Since(start); el > 5*time.Second {
					return fmt.Errorf("rank %d: Recv from the dead rank %d failed only after %v", me, c.victim, el)
				}
				return nil
			})
			if err == nil || !strings.Contains(err.Error(), "killed") {
				t.Fatalf("the job returned %v, want the victim's error", err)
			}
			for _, line := range strings.Split(err.Error(), "\n") {
				if !strings.Contains(line, fmt.Sprintf("rank %d: killed", c.victim)) {
					t.Errorf("unexpected error: %s", line)
				}
			}
		})
	}
}

// Every rank of a 12-rank host reaches every other, though only the leader connected to
// each at setup (the others got the doorbells from it).
func TestStarSetup(t *testing.T) {
	const n = 12
	if err := shmtest.Run(n, func(w *comm.Comm) error {
		me := w.Rank()
		got := make([]int, n)
		send := make([]int, n)
		for i := range send {
			send[i] = me*100 + i
		}
		if err := collectives.Alltoall(w, send, got); err != nil {
			return err
		}
		for i, v := range got {
			if v != i*100+me {
				return fmt.Errorf("rank %d: got[%d] = %d, want %d", me, i, v, i*100+me)
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// The single-copy probe runs through the leader: every rank learns, for every other, whether
// that one can read its memory (in one process, all can), and without Config.CMA none does.
func TestStarCMA(t *testing.T) {
	const n = 4
	for _, cma := range []bool{true, false} {
		ts, err := shmtest.Transports(n, shm.Config{CMA: cma, Logf: t.Logf})
		if err != nil {
			t.Fatal(err)
		}
		for i, tr := range ts {
			for j := range n {
				if j != i && tr.CMA(j) != cma {
					t.Errorf("CMA %v: rank %d says single copy to rank %d is %v", cma, i, j, tr.CMA(j))
				}
			}
		}
		for _, tr := range ts {
			tr.Abort()
		}
	}
}
