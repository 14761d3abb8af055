package collectives

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/internal/backend"
	"github.com/gompi/gompi/transport/inproc"
	"github.com/gompi/gompi/transport/tcp/tcptest"
)

// An abort for a peer failure carries where the failure began in its tag, and every kind
// still decodes from it; other aborts carry none.
func TestAbortTagOrigin(t *testing.T) {
	for k := kindBarrier; k <= kindCheck; k++ {
		for _, o := range []backend.Origin{{Rank: 0}, {Rank: 3, Left: true}, {Rank: maxOrigin, Left: true}} {
			r := &run{kind: k, err: fmt.Errorf("wrapped: %w", &backend.Error{Err: comm.ErrPeerFailed, Origin: &o})}
			tag := r.abortTag(abortPeerFailed)
			if tag < 0 || tag > backend.MaxTag {
				t.Fatalf("%v, origin %+v: tag %d out of range", k, o, tag)
			}
			if got := kind(tag & (1<<originShift - 1) >> tagShift); got != k {
				t.Errorf("origin %+v: kind %v decodes as %v", o, k, got)
			}
			if code := tag & (1<<tagShift - 1); code != abortPeerFailed {
				t.Errorf("%v, origin %+v: code %d, want %d", k, o, code, abortPeerFailed)
			}
			if got := tagOrigin(tag); got == nil || *got != o {
				t.Errorf("%v: origin %+v decodes as %+v", k, o, got)
			}
		}
		r := &run{kind: k, err: &backend.Error{Err: comm.ErrSizeMismatch}}
		if tag := r.abortTag(abortSizeMismatch); tag != int(k)<<tagShift|abortSizeMismatch {
			t.Errorf("%v: size-mismatch abort tag %d carries more than kind and code", k, tag)
		}
	}
}

// 4 ranks in an Allreduce loop, rank 3 returns after its first call: every survivor's error
// names rank 3 as where the failure began (text and Origin), those that heard of it through
// a neighbour's abort too; in-process and over TCP.
func TestAllreduceSurvivorsNameTheOrigin(t *testing.T) {
	runs := map[string]func(int, func(*comm.Comm) error) error{"inproc": inproc.Run, "tcp": tcptest.Run}
	for name, run := range runs {
		errs := make([]error, 4)
		run(4, func(c *comm.Comm) error {
			for i := 0; ; i++ {
				if c.Rank() == 3 && i == 1 {
					return nil
				}
				if err := Allreduce(c, []float64{1}, make([]float64, 1), Sum); err != nil {
					errs[c.Rank()] = err
					return err
				}
			}
		})
		for r := range 3 {
			err := errs[r]
			var ce *comm.Error
			if !errors.Is(err, comm.ErrPeerFailed) || !errors.As(err, &ce) {
				t.Errorf("%s: rank %d: %v; want a peer failure", name, r, err)
				continue
			}
			if !strings.Contains(err.Error(), "rank 3 finalized and left") || ce.Origin == nil || *ce.Origin != (comm.Origin{Rank: 3, Left: true}) {
				t.Errorf("%s: rank %d's error %v (Origin %+v) does not name rank 3 as the rank that left", name, r, err, ce.Origin)
			}
		}
	}
}
