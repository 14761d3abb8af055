package blocks

import (
	"fmt"
	"testing"
)

func TestEven(t *testing.T) {
	for _, c := range []struct {
		n, p        int
		first, each string
	}{
		{10, 4, "[0 3 6 8]", "[3 3 2 2]"},
		{7, 3, "[0 3 5]", "[3 2 2]"},
		{2, 5, "[0 1 2 2 2]", "[1 1 0 0 0]"},
		{0, 3, "[0 0 0]", "[0 0 0]"},
		{6, 1, "[0]", "[6]"},
	} {
		first, counts := Even(c.n, c.p)
		if got := fmt.Sprint(first); got != c.first {
			t.Errorf("Even(%d, %d) first = %s, want %s", c.n, c.p, got, c.first)
		}
		if got := fmt.Sprint(counts); got != c.each {
			t.Errorf("Even(%d, %d) counts = %s, want %s", c.n, c.p, got, c.each)
		}
	}
}

// TestEvenCovers checks every case up to n = 40, p = 9: the blocks tile 0..n-1 in order, and
// their sizes differ by at most one.
func TestEvenCovers(t *testing.T) {
	for p := 1; p <= 9; p++ {
		for n := 0; n <= 40; n++ {
			first, counts := Even(n, p)
			next, lo, hi := 0, n, 0
			for i := range p {
				if first[i] != next {
					t.Fatalf("Even(%d, %d): block %d starts at %d, want %d", n, p, i, first[i], next)
				}
				next += counts[i]
				lo, hi = min(lo, counts[i]), max(hi, counts[i])
			}
			if next != n || hi-lo > 1 {
				t.Fatalf("Even(%d, %d): blocks cover %d items, sizes %d..%d", n, p, next, lo, hi)
			}
		}
	}
}
