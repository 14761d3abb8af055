package farm

import (
	"encoding/binary"
	"fmt"
	"reflect"
	"unsafe"
)

// Arguments and results of a fixed-size type without pointers (numbers, bools, arrays and
// structs of them) travel as their memory, like comm's typed buffers: a batch is one plain
// message, a few words of header and then the elements' bytes, with no encoding at all. Other
// types travel as comm values (encoding/gob, large slices of numbers raw). Gob builds a
// decoder for every value it receives, which costs tens of microseconds for the farm's small
// messages; the raw path costs what the message costs (BenchmarkMapTiny, the package comment).
//
// Which way a message went is in its tag (valueBit), so that a rank that does not know the
// task can still take the message whole.

// pointerFree reports whether values of t are plain memory: fixed size, no pointers.
func pointerFree(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return true
	case reflect.Array:
		return pointerFree(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			if !pointerFree(t.Field(i).Type) {
				return false
			}
		}
		return true
	}
	return false
}

// memory returns the bytes of s, without copying. T must be pointer-free.
func memory[T any](s []T) []byte {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), len(s)*int(unsafe.Sizeof(s[0])))
}

// fromMemory copies b into a new slice of n elements of T; b must hold exactly that.
func fromMemory[T any](b []byte, n int) ([]T, error) {
	out := make([]T, n)
	if m := memory(out); len(m) != len(b) {
		return nil, fmt.Errorf("%d bytes for %d elements of %d bytes", len(b), n, unsafe.Sizeof(*new(T)))
	} else {
		copy(m, b)
	}
	return out, nil
}

// Raw batch: start and n as two little-endian uint64, then the n arguments' memory.
const rawBatchHdr = 16

func packBatch[A any](start int, args []A) []byte {
	m := memory(args)
	b := make([]byte, rawBatchHdr+len(m))
	binary.LittleEndian.PutUint64(b, uint64(start))
	binary.LittleEndian.PutUint64(b[8:], uint64(len(args)))
	copy(b[rawBatchHdr:], m)
	return b
}

// unpackBatchHdr reads a raw batch's start and count, checking them against its length when
// the element size is known (size >= 0).
func unpackBatchHdr(b []byte, size int) (start, n int, err error) {
	if len(b) < rawBatchHdr {
		return 0, 0, fmt.Errorf("a raw batch of %d bytes is shorter than its %d-byte header", len(b), rawBatchHdr)
	}
	s, k := binary.LittleEndian.Uint64(b), binary.LittleEndian.Uint64(b[8:])
	if s > 1<<62 || k < 1 || k > 1<<40 || (size >= 0 && uint64(len(b)-rawBatchHdr) != k*uint64(size)) {
		return 0, 0, fmt.Errorf("a raw batch of %d bytes says %d tasks from %d", len(b), k, s)
	}
	return int(s), int(k), nil
}

// Raw reply: the worker's time on the batch in nanoseconds as a little-endian uint64, then the
// results' memory. It is used only when every task of the batch succeeded.
const rawReplyHdr = 8

// Slices of plain memory ([]float64, [][3]int32, ...) as arguments or results travel raw too,
// a batch at a time: after the batch's (or reply's) header, each slice's length as a
// little-endian uint64, then the slices' memory one after the other. Through comm's values a
// batch of them would be a [][]float64, which gob encodes element by element (examples/cdist:
// 80 KB of results per task took about a millisecond, more than the task).

// plainSlice reports whether t is a slice of plain-memory elements, and their size.
func plainSlice(t reflect.Type) (esize int, ok bool) {
	if t.Kind() != reflect.Slice || !pointerFree(t.Elem()) {
		return 0, false
	}
	return int(t.Elem().Size()), true
}

// sliceHeader is the layout of a slice value.
type sliceHeader struct {
	data     unsafe.Pointer
	len, cap int
}

// sliceBytes returns the memory of *v, a slice of elements of esize bytes, without copying.
// T's underlying type must be such a slice (plainSlice).
func sliceBytes[T any](v *T, esize int) []byte {
	h := (*sliceHeader)(unsafe.Pointer(v))
	if h.len == 0 || esize == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(h.data), h.len*esize)
}

// sliceLen returns the length of *v, a slice.
func sliceLen[T any](v *T) int { return (*sliceHeader)(unsafe.Pointer(v)).len }

// packSlices returns hdr, then the length of each slice of vs, then their memory.
func packSlices[T any](hdr []byte, vs []T, esize int) []byte {
	total := len(hdr) + 8*len(vs)
	for i := range vs {
		total += len(sliceBytes(&vs[i], esize))
	}
	b := make([]byte, 0, total)
	b = append(b, hdr...)
	for i := range vs {
		b = binary.LittleEndian.AppendUint64(b, uint64(sliceLen(&vs[i])))
	}
	for i := range vs {
		b = append(b, sliceBytes(&vs[i], esize)...)
	}
	return b
}

// unpackSlices reads n slices of type T (elements of esize bytes) that packSlices wrote after
// its header into b, each into new memory.
func unpackSlices[T any](b []byte, n, esize int) ([]T, error) {
	if n < 0 || len(b)/8 < n {
		return nil, fmt.Errorf("%d bytes cannot hold the lengths of %d slices", len(b), n)
	}
	data := b[8*n:]
	out := make([]T, n)
	typ := reflect.TypeFor[T]()
	off := 0
	for i := range out {
		l := binary.LittleEndian.Uint64(b[8*i:])
		if esize > 0 && l > uint64(len(data)-off)/uint64(esize) || l > 1<<40 {
			return nil, fmt.Errorf("slice %d of %d: %d elements of %d bytes, but %d bytes are left", i, n, l, esize, len(data)-off)
		}
		out[i] = reflect.MakeSlice(typ, int(l), int(l)).Interface().(T)
		m := sliceBytes(&out[i], esize)
		copy(m, data[off:off+len(m)])
		off += len(m)
	}
	if off != len(data) {
		return nil, fmt.Errorf("%d bytes are left after %d slices", len(data)-off, n)
	}
	return out, nil
}
