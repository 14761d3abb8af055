package collectives

import (
	"reflect"
	"unsafe"
)

// Scratch vectors (the blocks a reduction receives before it combines them) are reused from
// call to call rather than allocated: a 1 MiB Allreduce on 2 ranks spent a tenth of its time
// clearing a fresh 512 KiB buffer, and the garbage collector the rest of the cost. A run keeps
// a few byte buffers that survive its return to runPool, grown when a call needs more, so that
// a rank calling collectives over and over gets the same run, and the same buffers, back (they
// go with the run when a collection empties the pool). Element types with pointers (user
// operations on arbitrary Go types) get fresh vectors, so the collector keeps seeing their
// pointers.

// scratchSlots is the number of scratch vectors one run may use at once.
const scratchSlots = 3

// scratch returns a vector of n elements whose contents are undefined, held by r in slot
// (0 <= slot < scratchSlots; the flat algorithms use 0 and 1, the node-aware ones 2) until r's next call of scratch with that slot or r's end.
func scratch[T any](r *run, slot, n int) []T {
	size := n * sizeOf[T]()
	if size == 0 || !pointerFree[T]() {
		return make([]T, n)
	}
	b := r.bufs[slot]
	if cap(b) < size {
		b = make([]byte, size)
		r.bufs[slot] = b
	}
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b))), n)
}

// pointerFree reports whether values of T hold no pointers, so that their memory may be
// reused as bytes.
func pointerFree[T any]() bool {
	return !hasPointers(reflect.TypeFor[T]())
}

func hasPointers(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return false
	case reflect.Array:
		return t.Len() > 0 && hasPointers(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			if hasPointers(t.Field(i).Type) {
				return true
			}
		}
		return false
	}
	return true
}
