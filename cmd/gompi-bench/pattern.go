package main

import "fmt"

// The data patterns. testdata/gompi-bench.c computes the same ones.
//
// A buffer of n bytes sent by "key" (a rank, or for Alltoall a pair of ranks) in a benchmark of
// size bytes holds body(seed, i) at every index i, except its first and last byte, the stamp,
// which holds stamp(seed, iter) for the iteration that sent it and is rewritten before every
// iteration. Consecutive iterations have different stamps, so a buffer left over from an earlier
// iteration (or size, or sender) is told apart from the last one.
//
// The float32 reductions send value(i) × (rank+1), where value(i) = 1 + the byte above for
// key 0: whole numbers, so the sum over p ranks is value(i) × p(p+1)/2, exactly, as long as it
// stays below 2²⁴ (up to 361 ranks); above, the check allows float32 rounding.

// seed mixes key and size into 32 bits.
func seed(key, size int) uint32 {
	return uint32(size)*0x9e3779b1 ^ uint32(key+1)*0x85ebca77
}

func body(s uint32, i int) byte { return byte(s>>24 + uint32(i)*7) }

func stamp(s uint32, iter int) byte { return byte(s>>16 + uint32(iter) + 1) }

// expected is the byte at index i of an n-byte buffer sent by key at iteration iter.
func expected(key, size, iter, i, n int) byte {
	s := seed(key, size)
	if i == 0 || i == n-1 {
		return stamp(s, iter)
	}
	return body(s, i)
}

// fill writes the body of key's pattern into buf; stampBytes writes the stamp.
func fill(buf []byte, key, size int) {
	s := seed(key, size)
	for i := range buf {
		buf[i] = body(s, i)
	}
}

// stampBytes writes iteration iter's stamp into the first and last byte of buf.
func stampBytes(buf []byte, key, size, iter int) {
	if len(buf) > 0 {
		s := stamp(seed(key, size), iter)
		buf[0], buf[len(buf)-1] = s, s
	}
}

// poison fills a receive buffer with a value the patterns rarely hold everywhere, so that data
// that never arrived is noticed.
func poison(buf []byte) {
	for i := range buf {
		buf[i] = 0xa5
	}
}

// checkError is a received buffer that differs from what was sent.
type checkError struct {
	bench     string
	size      int
	rank      int
	what      string // "byte" or "element"
	index     int
	got, want string
	from      string // which sender's block, when the buffer holds several
}

func (e *checkError) Error() string {
	from := ""
	if e.from != "" {
		from = " (" + e.from + ")"
	}
	return fmt.Sprintf("%s, size %d, rank %d: data check failed: %s %d%s is %s, want %s",
		e.bench, e.size, e.rank, e.what, e.index, from, e.got, e.want)
}

// checkBytes compares buf with the pattern key sent at iteration iter and returns the first
// index that differs, with the byte found and the byte wanted.
func checkBytes(buf []byte, key, size, iter int) (int, byte, byte, bool) {
	for i, got := range buf {
		if want := expected(key, size, iter, i, len(buf)); got != want {
			return i, got, want, false
		}
	}
	return 0, 0, 0, true
}

// fillValues writes rank's float32 values for a vector of size bytes into v.
func fillValues(v []float32, rank, size int) {
	s := seed(0, size)
	for i := range v {
		v[i] = float32((int(body(s, i)) + 1) * (rank + 1))
	}
}

// stampValues writes iteration iter's stamp into the first and last value of v.
func stampValues(v []float32, rank, size, iter int) {
	if len(v) > 0 {
		x := float32((int(stamp(seed(0, size), iter)) + 1) * (rank + 1))
		v[0], v[len(v)-1] = x, x
	}
}

// checkSums compares v with the sum over p ranks of the values sent at iteration iter and
// returns the first index that differs, with the value found and the value wanted.
func checkSums(v []float32, p, size, iter int) (int, float32, float64, bool) {
	ranks := float64(p) * float64(p+1) / 2
	exact := ranks*256 <= 1<<24
	for i, got := range v {
		want := (float64(expected(0, size, iter, i, len(v))) + 1) * ranks
		if d := float64(got) - want; d != 0 && (exact || d > want*float64(p)*0x1p-24 || -d > want*float64(p)*0x1p-24) {
			return i, got, want, false
		}
	}
	return 0, 0, 0, true
}
