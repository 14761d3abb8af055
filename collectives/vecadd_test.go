package collectives

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gompi/gompi/comm"
)

// TestAddVec checks the vector sums against the Go loop, bit for bit, for every type they take,
// at every length up to 100 and at unaligned starts, with dst apart from both operands, dst the
// left one and dst the right one; with infinities, NaNs, signed zeros and integer overflow.
func TestAddVec(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	f64 := func() float64 {
		switch rng.IntN(20) {
		case 0:
			return math.Inf(1)
		case 1:
			return math.NaN()
		case 2:
			return math.Copysign(0, -1)
		}
		return rng.NormFloat64() * 1e6
	}
	checkAddVec(t, "float64", f64)
	checkAddVec(t, "float32", func() float32 { return float32(f64()) })
	checkAddVec(t, "complex128", func() complex128 { return complex(f64(), f64()) })
	checkAddVec(t, "complex64", func() complex64 { return complex(float32(f64()), float32(f64())) })
	checkAddVec(t, "int64", func() int64 { return int64(rng.Uint64()) })
	checkAddVec(t, "uint64", func() uint64 { return rng.Uint64() })
	checkAddVec(t, "int", func() int { return int(rng.Uint64()) })
	checkAddVec(t, "uint", func() uint { return uint(rng.Uint64()) })
	checkAddVec(t, "int32", func() int32 { return int32(rng.Uint32()) })
	checkAddVec(t, "uint32", func() uint32 { return rng.Uint32() })
	if addVec(make([]int16, 100), make([]int16, 100), make([]int16, 100)) {
		t.Error("addVec took int16, which it has no loop for")
	}
	type celsius float64
	if addVec(make([]celsius, 100), make([]celsius, 100), make([]celsius, 100)) {
		t.Error("addVec took a type defined from float64")
	}
}

func checkAddVec[T float32 | float64 | complex64 | complex128 | int64 | uint64 | int | uint | int32 | uint32](t *testing.T, name string, gen func() T) {
	t.Helper()
	same := func(x, y T) bool { return fmt.Sprint(x) == fmt.Sprint(y) } // NaN == NaN here
	for n := 0; n <= 100; n++ {
		for off := range 3 {
			a, b := make([]T, n+off), make([]T, n+off)
			for i := range a {
				a[i], b[i] = gen(), gen()
			}
			a, b = a[off:], b[off:]
			want := make([]T, n)
			for i := range want {
				want[i] = a[i] + b[i]
			}
			for _, into := range []string{"apart", "left", "right"} {
				dst := make([]T, n)
				x, y := append([]T(nil), a...), append([]T(nil), b...)
				switch into {
				case "left":
					dst = x
				case "right":
					dst = y
				}
				did := addVec(dst, x, y)
				if did != (haveVecAdd && n >= vecAddMin) {
					t.Fatalf("%s n=%d: addVec returned %v", name, n, did)
				}
				if !did {
					continue
				}
				for i := range want {
					if !same(dst[i], want[i]) {
						t.Fatalf("%s n=%d offset %d dst %s: [%d] = %v, want %v", name, n, off, into, i, dst[i], want[i])
					}
				}
			}
		}
	}
}

// TestSegmentedRing runs the ring Allreduce and ReduceScatter with segments of 24 bytes (3
// float64s, so that blocks of unequal length are cut into the same number of segments of
// different lengths, some empty) and with whole blocks, against the serial sums; and reads
// GOMPI_COLL_SEGMENT's forms.
func TestSegmentedRing(t *testing.T) {
	saved := segmentSetting
	defer func() { segmentSetting = saved }()
	for _, seg := range []int{24, 0} {
		segmentSetting = func() int { return seg }
		for p := 1; p <= 5; p++ {
			for _, n := range []int{0, 1, 7, 1000} {
				label := fmt.Sprintf("segment %d B, p=%d n=%d", seg, p, n)
				runRanks(t, label, p, func(c *comm.Comm) error {
					recv := make([]float64, n)
					if err := allreduce(bg, c, "Allreduce", fvec(c.Rank(), n), recv, Sum, algRing); err != nil {
						return err
					}
					if err := compare(label, c.Rank(), recv, n, func(i int) float64 { return fsum(0, p, i) }, feq); err != nil {
						return fmt.Errorf("Allreduce: %w", err)
					}
					in := fvec(c.Rank(), n) // in place, with an op that has no combineInto
					if err := allreduce(bg, c, "Allreduce", in, in, Max, algRing); err != nil {
						return err
					}
					if err := compare(label, c.Rank(), in, n, func(i int) float64 { return fval(p-1, i) }, feq); err != nil {
						return fmt.Errorf("Allreduce Max in place: %w", err)
					}
					cnts := make([]int, p)
					total := 0
					for j := range cnts {
						cnts[j] = (j + n) % 4 * (n / 5)
						total += cnts[j]
					}
					part := make([]float64, cnts[c.Rank()])
					if err := reduceScatter(bg, c, "ReduceScatter", Packed(fvec(c.Rank(), total), cnts), part, Sum, algRing); err != nil {
						return err
					}
					off := 0
					for j := range c.Rank() {
						off += cnts[j]
					}
					return compare(label, c.Rank(), part, len(part), func(i int) float64 { return fsum(0, p, off+i) }, feq)
				})
			}
		}
	}
	for v, want := range map[string]int{"": -1, "off": 0, "0": 0, "4096": 4096, "128K": 128 << 10, " 1m ": 1 << 20, "x": -1, "-5": -1} {
		if got := parseSegment(v); got != want {
			t.Errorf("parseSegment(%q) = %d, want %d", v, got, want)
		}
	}
}
