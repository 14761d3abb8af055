//go:build mpi

package mpi_test

import (
	"testing"

	"github.com/gompi/gompi/comm/commtest"
)

// TestConformance runs gompi's conformance suite on every rank, on the world, on a duplicate of
// it, and on the halves of the world split by rank parity.
func TestConformance(t *testing.T) {
	w := needWorld(t)
	t.Run("world", func(t *testing.T) { commtest.RunAll(t, w) })
	t.Run("dup", func(t *testing.T) {
		d, err := w.Dup()
		if err != nil {
			t.Fatalf("Dup: %v", err)
		}
		commtest.RunAll(t, d)
		if err := d.Free(); err != nil {
			t.Errorf("Free: %v", err)
		}
	})
	t.Run("split", func(t *testing.T) {
		s, err := w.Split(w.Rank()%2, w.Rank())
		if err != nil {
			t.Fatalf("Split: %v", err)
		}
		if want := (w.Size() + 1 - w.Rank()%2) / 2; s.Size() != want || s.Rank() != w.Rank()/2 {
			t.Fatalf("Split by parity: rank %d of %d, want %d of %d", s.Rank(), s.Size(), w.Rank()/2, want)
		}
		commtest.RunAll(t, s)
		if err := s.Free(); err != nil {
			t.Errorf("Free: %v", err)
		}
	})
}
