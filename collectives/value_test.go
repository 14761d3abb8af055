package collectives

import (
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/gompi/gompi/comm"
)

type record struct {
	Name  string
	Rank  int
	Tags  map[string]int
	Items []float64
}

func recordOf(rank int) record {
	return record{Name: fmt.Sprintf("rank-%d", rank), Rank: rank, Tags: map[string]int{"r": rank}, Items: bvec(rank, rank+1)}
}

func TestValueCollectives(t *testing.T) {
	for p := 1; p <= 9; p++ {
		for _, root := range roots(p) {
			runRanks(t, fmt.Sprintf("values p=%d root=%d", p, root), p, func(c *comm.Comm) error {
				me := c.Rank()
				var in record
				if me == root {
					in = recordOf(100)
				}
				got, err := BcastValue(c, in, root)
				if err != nil {
					return err
				}
				if !reflect.DeepEqual(got, recordOf(100)) {
					return fmt.Errorf("BcastValue = %+v", got)
				}
				var send []record
				if me == root {
					for i := 0; i < p; i++ {
						send = append(send, recordOf(i))
					}
				}
				mine, err := ScatterValue(c, send, root)
				if err != nil {
					return err
				}
				if !reflect.DeepEqual(mine, recordOf(me)) {
					return fmt.Errorf("ScatterValue = %+v", mine)
				}
				all, err := GatherValue(c, recordOf(me), root)
				if err != nil {
					return err
				}
				if me == root {
					for i, v := range all {
						if !reflect.DeepEqual(v, recordOf(i)) {
							return fmt.Errorf("GatherValue[%d] = %+v", i, v)
						}
					}
					if len(all) != p {
						return fmt.Errorf("GatherValue returned %d values", len(all))
					}
				} else if all != nil {
					return fmt.Errorf("GatherValue returned %d values on a non-root rank", len(all))
				}
				names, err := AllgatherValue(c, fmt.Sprint("x", me))
				if err != nil {
					return err
				}
				for i, s := range names {
					if s != fmt.Sprint("x", i) {
						return fmt.Errorf("AllgatherValue[%d] = %q", i, s)
					}
				}
				return nil
			})
		}
	}
}

func TestValueEncodeError(t *testing.T) {
	// A func cannot be gob-encoded: the root fails to encode, every rank must hear about it.
	expectAll(t, "BcastValue of a func", 4, comm.ErrInvalidArgument, func(c *comm.Comm) error {
		_, err := BcastValue(c, func() {}, 2)
		return err
	})
	errs := make([]error, 3)
	if err := runRanksErr(3, func(c *comm.Comm) error {
		var v any = c.Rank()
		if c.Rank() == 1 {
			v = func() {}
		}
		_, errs[c.Rank()] = AllgatherValue(c, v)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for r, err := range errs {
		if !errors.Is(err, comm.ErrInvalidArgument) {
			t.Errorf("AllgatherValue with rank 1 unencodable: rank %d got %v", r, err)
		}
	}
}

func TestLoc(t *testing.T) {
	for p := 1; p <= 9; p++ {
		for _, n := range counts {
			runRanks(t, fmt.Sprintf("Allreduce MinLoc, Reduce MaxLoc p=%d n=%d", p, n), p, func(c *comm.Comm) error {
				me := c.Rank()
				// Value (me*5+i) % 7: ties are common, so the smaller index must win.
				send := make([]Pair[float32], n)
				for i := range send {
					send[i] = Pair[float32]{Value: float32((me*5 + i) % 7), Index: me}
				}
				lo, hi := make([]Pair[float32], n), make([]Pair[float32], n)
				if err := Allreduce(c, send, lo, MinLoc); err != nil {
					return err
				}
				if err := Reduce(c, send, hi, MaxLoc, p-1); err != nil {
					return err
				}
				for i := 0; i < n; i++ {
					wantLo, wantHi := Pair[float32]{Value: 99}, Pair[float32]{Value: -1}
					for r := 0; r < p; r++ {
						v := float32((r*5 + i) % 7)
						if v < wantLo.Value {
							wantLo = Pair[float32]{v, r}
						}
						if v > wantHi.Value {
							wantHi = Pair[float32]{v, r}
						}
					}
					if lo[i] != wantLo {
						return fmt.Errorf("MinLoc [%d] = %v, want %v", i, lo[i], wantLo)
					}
					if me == p-1 && hi[i] != wantHi {
						return fmt.Errorf("MaxLoc [%d] = %v, want %v", i, hi[i], wantHi)
					}
				}
				return nil
			})
		}
	}
}

func TestPredefinedOps(t *testing.T) {
	// Each op applied to x = {0b0110, 0, 3} and y = {0b0011, 5, 0}.
	x, y := []int8{6, 0, 3}, []int8{3, 5, 0}
	cases := []struct {
		name string
		op   Op[int8]
		want []int8
	}{
		{"Sum", Sum[int8], []int8{9, 5, 3}}, {"Prod", Prod[int8], []int8{18, 0, 0}},
		{"Min", Min[int8], []int8{3, 0, 0}}, {"Max", Max[int8], []int8{6, 5, 3}},
		{"LAnd", LAnd[int8], []int8{1, 0, 0}}, {"LOr", LOr[int8], []int8{1, 1, 1}}, {"LXor", LXor[int8], []int8{0, 1, 1}},
		{"BAnd", BAnd[int8], []int8{2, 0, 0}}, {"BOr", BOr[int8], []int8{7, 5, 3}}, {"BXor", BXor[int8], []int8{5, 5, 3}},
	}
	for _, tc := range cases {
		runRanks(t, "Allreduce "+tc.name, 2, func(c *comm.Comm) error {
			send := x
			if c.Rank() == 1 {
				send = y
			}
			recv := make([]int8, 3)
			if err := Allreduce(c, send, recv, tc.op); err != nil {
				return err
			}
			if !reflect.DeepEqual(recv, tc.want) {
				return fmt.Errorf("%s = %v, want %v", tc.name, recv, tc.want)
			}
			return nil
		})
	}
	runRanks(t, "Allreduce Prod complex128", 3, func(c *comm.Comm) error {
		recv := make([]complex128, 1)
		if err := Allreduce(c, []complex128{1i}, recv, Prod); err != nil {
			return err
		}
		if recv[0] != -1i {
			return fmt.Errorf("i*i*i = %v, want -i", recv[0])
		}
		return nil
	})
}
