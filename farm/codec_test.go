package farm

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// TestSliceCodec: batches of slices of plain memory go through packSlices and unpackSlices
// unchanged (empty and nil slices as empty, lengths differing), and malformed input is an
// error, never a panic or a slice beyond the message.
func TestSliceCodec(t *testing.T) {
	type pt struct{ X, Y float32 }
	if es, ok := plainSlice(reflect.TypeFor[[]pt]()); !ok || es != 8 {
		t.Errorf("plainSlice([]pt) = %d, %v; want 8, true", es, ok)
	}
	for _, typ := range []reflect.Type{reflect.TypeFor[[]string](), reflect.TypeFor[[][]int](), reflect.TypeFor[int]()} {
		if _, ok := plainSlice(typ); ok {
			t.Errorf("plainSlice(%v) = true", typ)
		}
	}
	in := [][]float64{{1, 2, 3}, nil, {}, {4.5}, make([]float64, 1000)}
	in[4][999] = 7
	b := packSlices([]byte("HEAD"), in, 8)
	if string(b[:4]) != "HEAD" || len(b) != 4+8*5+8*1004 {
		t.Fatalf("packed %d bytes", len(b))
	}
	out, err := unpackSlices[[]float64](b[4:], len(in), 8)
	if err != nil {
		t.Fatal(err)
	}
	for i := range in {
		if len(out[i]) != len(in[i]) || (len(in[i]) > 0 && !reflect.DeepEqual(out[i], in[i])) {
			t.Errorf("slice %d: %v, want %v", i, out[i], in[i])
		}
	}
	pts, err := unpackSlices[[]pt](packSlices(nil, [][]pt{{{1, 2}}, {{3, 4}, {5, 6}}}, 8), 2, 8)
	if err != nil || !reflect.DeepEqual(pts, [][]pt{{{1, 2}}, {{3, 4}, {5, 6}}}) {
		t.Errorf("structs: %v, %v", pts, err)
	}
	huge := binary.LittleEndian.AppendUint64(nil, 1<<62)
	for name, bad := range map[string][]byte{
		"short lengths": b[4:20],
		"long data":     append(append([]byte{}, b[4:]...), 0),
		"short data":    b[4 : len(b)-1],
		"huge length":   huge,
	} {
		if _, err := unpackSlices[[]float64](bad, len(in), 8); err == nil && name != "huge length" {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := unpackSlices[[]float64](huge, 1, 8); err == nil {
		t.Error("a length beyond the message: no error")
	}
	if _, err := unpackSlices[[]float64](nil, -1, 8); err == nil {
		t.Error("n = -1: no error")
	}
}

// TestSlices maps slices of numbers to slices of numbers, in batches of 3 and automatic ones,
// on 1..3 ranks: they travel raw (codec.go), lengths differing, empty ones among them; a task
// that fails in a batch sends its batch's results as a value instead.
func TestSlices(t *testing.T) {
	reg := func(int) (*Tasks, *Task[[]float64, []int32]) {
		ts := &Tasks{}
		return ts, Register(ts, "floor", func(_ context.Context, v []float64) ([]int32, error) {
			if len(v) == 13 {
				return nil, errors.New("thirteen")
			}
			out := make([]int32, len(v))
			for i, x := range v {
				out[i] = int32(x)
			}
			return out, nil
		})
	}
	for p := 1; p <= 3; p++ {
		for _, o := range []Options{{}, {Batch: 3}} {
			err := run(p, quiet(o), reg, func(f *Farm, task *Task[[]float64, []int32]) error {
				args := make([][]float64, 30)
				for i := range args {
					if i%7 == 3 {
						continue // nil
					}
					args[i] = make([]float64, i%13+i/13*2)
					for j := range args[i] {
						args[i][j] = float64(i*100+j) + 0.5
					}
				}
				got, err := Map(context.Background(), f, task, args)
				if err != nil {
					return err
				}
				for i := range args {
					if len(got[i]) != len(args[i]) {
						return fmt.Errorf("result %d: %d values, want %d", i, len(got[i]), len(args[i]))
					}
					for j := range got[i] {
						if got[i][j] != int32(i*100+j) {
							return fmt.Errorf("result %d[%d] = %d", i, j, got[i][j])
						}
					}
				}
				args[5] = make([]float64, 13)
				_, err = Map(context.Background(), f, task, args)
				var te *TaskError
				if !errors.As(err, &te) || te.Index != 5 || !strings.Contains(err.Error(), "thirteen") {
					return fmt.Errorf("a failing task: %v", err)
				}
				return nil
			})
			if err != nil {
				t.Errorf("p=%d %+v: %v", p, o, err)
			}
		}
	}
}
