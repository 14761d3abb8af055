// Package commtest is the conformance suite every comm backend runs: one list of cases, each a
// function every rank of a communicator calls, checking MPI's point-to-point semantics (order,
// wildcards, concurrency, truncation, self-sends, zero-length and large messages, argument
// errors, probes, cancellation, values, nonblocking requests, Split and Dup).
//
// Backends whose ranks live in one process (inproc, and TCP over loopback in tests) use RunJobs,
// which starts a fresh job per case; backends with one process per rank (OpenMPI under mpirun)
// call RunAll from every rank.
package commtest

import (
	"fmt"
	"testing"

	"github.com/gompi/gompi/comm"
)

// Case is one conformance check. Every rank of a communicator of at least MinSize ranks calls
// Run; it returns an error describing the first thing that was wrong on that rank.
type Case struct {
	Name    string
	MinSize int
	// Large marks cases that move tens of MiB, or many large values; runners may use fewer
	// sizes for them (RunJobs: at most 3 ranks, and only 2 with -short or -race).
	Large bool
	Run   func(c *comm.Comm) error
}

// Starter runs f on every rank of a new job of n ranks and returns the ranks' errors joined.
type Starter func(n int, f func(c *comm.Comm) error) error

// Variant says which communicator a case runs on.
type Variant int

const (
	// World runs the case on the job's world communicator.
	World Variant = iota
	// Dup runs it on a duplicate of the world, with traffic on the world at the same time.
	Dup
	// Split runs it on both halves of the world split by rank parity, concurrently.
	Split
)

// String names the variant as test output does: world, dup or split.
func (v Variant) String() string { return [...]string{"world", "dup", "split"}[v] }

// RunJobs runs every case as a subtest for each job size in sizes (skipping sizes below a case's
// MinSize), on each variant, starting a fresh job through start each time.
func RunJobs(t *testing.T, start Starter, sizes []int, variants ...Variant) {
	if len(variants) == 0 {
		variants = []Variant{World}
	}
	for _, tc := range Cases() {
		t.Run(tc.Name, func(t *testing.T) {
			for _, v := range variants {
				for _, n := range sizes {
					if tc.Large && n > 3 {
						continue
					}
					jobSize := n
					if v == Split {
						jobSize = 2 * n
					}
					if n < tc.MinSize || ((testing.Short() || raceEnabled) && tc.Large && n > 2) {
						continue
					}
					err := start(jobSize, func(world *comm.Comm) error { return onVariant(world, v, tc) })
					if err != nil {
						t.Errorf("%s on %s, %d ranks:\n%v", tc.Name, v, n, err)
					}
				}
			}
		})
	}
}

// onVariant builds the variant's communicator from world and runs tc on it.
func onVariant(world *comm.Comm, v Variant, tc Case) error {
	switch v {
	case Dup:
		d, err := world.Dup()
		if err != nil {
			return fmt.Errorf("Dup: %w", err)
		}
		defer d.Free()
		// A message on the world with the same tags must not disturb the case on d.
		me, peer := world.Rank(), (world.Rank()+1)%world.Size()
		if err := comm.Send(world, []int64{int64(me)}, peer, 0); err != nil {
			return err
		}
		if err := tc.Run(d); err != nil {
			return err
		}
		got := []int64{-1}
		from := (me - 1 + world.Size()) % world.Size()
		if _, err := comm.Recv(world, got, from, 0); err != nil {
			return err
		}
		if got[0] != int64(from) {
			return fmt.Errorf("world message from rank %d carried %d: crosstalk with the Dup", from, got[0])
		}
		return nil
	case Split:
		s, err := world.Split(world.Rank()%2, world.Rank())
		if err != nil {
			return fmt.Errorf("Split: %w", err)
		}
		defer s.Free()
		if want := (world.Size() + 1 - world.Rank()%2) / 2; s.Size() != want || s.Rank() != world.Rank()/2 {
			return fmt.Errorf("Split by parity: got rank %d of %d, want %d of %d", s.Rank(), s.Size(), world.Rank()/2, want)
		}
		return tc.Run(s)
	}
	return tc.Run(world)
}

// RunAll runs every case that fits the size of world as a subtest. Every rank of world calls
// it, in a backend with one process per rank. Each case runs on a fresh Dup of world, between
// two barriers on world, so that a rank that finishes a case early (or takes no part in it)
// cannot send the next case's messages into a wildcard receive of this one.
func RunAll(t *testing.T, world *comm.Comm) {
	for _, tc := range Cases() {
		t.Run(tc.Name, func(t *testing.T) {
			if world.Size() < tc.MinSize {
				t.Skipf("needs %d ranks, have %d", tc.MinSize, world.Size())
			}
			if err := barrier(world, 9990); err != nil {
				t.Fatalf("rank %d: barrier before the case: %v", world.Rank(), err)
			}
			d, err := world.Dup()
			if err != nil {
				t.Fatalf("rank %d: Dup: %v", world.Rank(), err)
			}
			if err := tc.Run(d); err != nil {
				t.Errorf("rank %d: %v", world.Rank(), err)
			}
			if err := barrier(world, 9991); err != nil {
				t.Fatalf("rank %d: barrier after the case: %v", world.Rank(), err)
			}
			if err := d.Free(); err != nil {
				t.Errorf("rank %d: Free: %v", world.Rank(), err)
			}
		})
	}
}
