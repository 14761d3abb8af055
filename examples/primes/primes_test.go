package main

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/transport/inproc"
)

// TestPrimes runs the program on 1 to 4 in-process ranks, sorted and shuffled, and checks its
// report: the count of primes (against a sieve), a time per rank, and numbers per rank in the
// farm that add up.
func TestPrimes(t *testing.T) {
	report := regexp.MustCompile(`^primes: 300 random integers below 3000, (sorted|in random order); (\d+) primes
serial: [0-9.]+ s
blocks: [0-9.]+ s \(Scatterv, Gatherv; time of each rank's block:((?: [0-9.]+)+) s\)
farm:   [0-9.]+ s \(MapUnordered; numbers each rank took as it became free: ([0-9 ]+)\)
checked: blocks and farm agree with the serial test
$`)
	for p := 1; p <= 4; p++ {
		for _, shuffle := range []bool{false, true} {
			o := options{n: 300, max: 3000, seed: 5, shuffle: shuffle}
			var out bytes.Buffer
			err := inproc.Run(p, func(c *comm.Comm) error {
				var w bytes.Buffer
				err := primes(c, o, &w)
				if c.Rank() == 0 {
					out = w
				}
				return err
			})
			label := fmt.Sprintf("p=%d shuffle=%v", p, shuffle)
			if err != nil {
				t.Errorf("%s: %v", label, err)
				continue
			}
			m := report.FindStringSubmatch(out.String())
			if m == nil {
				t.Errorf("%s: report\n%s", label, out.String())
				continue
			}
			want := 0
			for _, n := range numbers(o.n, o.max, o.seed, o.shuffle) {
				if sieve(o.max)[n] {
					want++
				}
			}
			if m[2] != fmt.Sprint(want) {
				t.Errorf("%s: %s primes, the sieve says %d", label, m[2], want)
			}
			if got := len(strings.Fields(m[3])); got != p {
				t.Errorf("%s: %d block times for %d ranks", label, got, p)
			}
			total := 0
			for _, f := range strings.Fields(m[4]) {
				var k int
				fmt.Sscan(f, &k)
				total += k
			}
			if len(strings.Fields(m[4])) != p || total != o.n {
				t.Errorf("%s: numbers per rank %q do not add up to %d over %d ranks", label, m[4], o.n, p)
			}
		}
	}
}

// sieve returns which numbers below n are prime (Eratosthenes).
func sieve(n int) []bool {
	prime := make([]bool, n)
	for i := 2; i < n; i++ {
		prime[i] = true
	}
	for i := 2; i*i < n; i++ {
		if prime[i] {
			for j := i * i; j < n; j += i {
				prime[j] = false
			}
		}
	}
	return prime
}

func TestIsPrime(t *testing.T) {
	s := sieve(5000)
	for n := -3; n < 5000; n++ {
		if got, want := isPrime(n), n >= 0 && s[n]; got != want {
			t.Errorf("isPrime(%d) = %v, want %v", n, got, want)
		}
	}
}
