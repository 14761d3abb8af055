package collectives

import (
	"reflect"

	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/internal/backend"
)

// Integer is the set of integer element types: those the logical and bitwise operations accept.
type Integer interface {
	~int8 | ~int16 | ~int32 | ~int64 | ~int |
		~uint8 | ~uint16 | ~uint32 | ~uint64 | ~uint | ~uintptr
}

// Real is the set of ordered element types (integers and floats): those Min, Max, MinLoc and
// MaxLoc accept.
type Real interface {
	Integer | ~float32 | ~float64
}

// Op is a reduction operation on elements of type T.
//
// The predefined operations (Sum, Prod, Min, Max, LAnd, LOr, LXor, BAnd, BOr, BXor, and MinLoc
// and MaxLoc on Pair elements) are generic functions of this type: pass them without type
// arguments, as in Allreduce(c, send, recv, collectives.Sum), and Go infers T from the buffers.
// NewOp makes a user operation. An Op is a description, not something to call: the reductions
// call it once per call to learn how to combine.
//
// Every Op is associative (up to floating-point rounding). Commutative ones may combine in any
// order, which lets the large-message algorithms split the work; non-commutative ones combine in
// rank order. Ops are safe for concurrent use.
type Op[T any] func() Reduction[T]

// Reduction is what an Op describes: how to combine two vectors of T, whether the order of the
// operands matters, and for the predefined operations the name a native backend (OpenMPI)
// knows them by. Its fields are unexported; programs get one only through an Op (a predefined
// one, or NewOp) and never need to name it.
type Reduction[T any] struct {
	name        string
	comb        combiner[T] // nil for a Reduction made by hand (the zero Reduction)
	commutative bool
	native      backend.Op // valid when predefined
	predefined  bool
}

// NewOp returns a user-defined operation (MPI_Op_create, MPI 4.1 §6.9.5). f must set
// inout[i] = inout[i] ⊕ in[i] for every i, where inout holds the partial result of lower ranks
// (the left operand) and in that of higher ranks; note that MPI's C user functions take the left
// operand in their first argument and write the second, the other way round. f is called on
// slices of equal length, possibly sub-slices of the caller's buffers (the large-message
// algorithms split vectors into blocks of whole elements: an element is never split), possibly
// from several goroutines at once, and must not keep them. commutative says whether f's
// operands may be swapped; if false, the reductions combine in rank order and use only
// order-preserving algorithms.
//
// T may be any fixed-size type without pointers, not only a number: an array or a struct of
// numbers is reduced as one element, so a vector of 2×2 matrices ([4]float64) is reduced with a
// matrix product as f, without flattening. The reductions check T when called and refuse types
// that hold pointers (their buffers move as raw memory).
func NewOp[T any](f func(inout, in []T), commutative bool) Op[T] {
	var comb combiner[T]
	if f != nil {
		comb = funcOp[T](f)
	}
	return func() Reduction[T] {
		return Reduction[T]{name: "user op", comb: comb, commutative: commutative}
	}
}

// combiner combines two vectors: inout[i] = inout[i] ⊕ in[i]. The predefined operations are
// empty structs and a user operation a func type, so that an Op makes its Reduction without
// allocating (a closure made inside a generic function would be allocated at every call).
type combiner[T any] interface{ combine(inout, in []T) }

// funcOp is a user operation's function as a combiner.
type funcOp[T any] func(inout, in []T)

func (f funcOp[T]) combine(inout, in []T) { f(inout, in) }

// combine sets inout[i] = inout[i] ⊕ in[i].
func (d Reduction[T]) combine(inout, in []T) { d.comb.combine(inout, in) }

// combinerInto is a combiner that can also write its result apart from both operands, which
// saves a reduction that keeps its input (a ring step of an Allreduce that is not in place) the
// copy of one operand into the result first.
type combinerInto[T any] interface {
	combineInto(dst, a, b []T) // dst[i] = a[i] ⊕ b[i]; dst may be a
}

// combineInto sets dst[i] = a[i] ⊕ b[i] for every i < len(dst); a and b are at least as long,
// and dst may be a (or share no memory with it).
func (d Reduction[T]) combineInto(dst, a, b []T) {
	if ci, ok := d.comb.(combinerInto[T]); ok {
		ci.combineInto(dst, a, b)
		return
	}
	if len(dst) > 0 && &dst[0] != &a[0] {
		copy(dst, a[:len(dst)])
	}
	d.comb.combine(dst, b)
}

func predefined[T any](name string, code backend.Op, comb combiner[T]) Reduction[T] {
	return Reduction[T]{name: name, comb: comb, commutative: true, native: code, predefined: true}
}

// Sum adds (MPI_SUM). It accepts every element type, complex included.
func Sum[T comm.Elem]() Reduction[T] { return predefined[T]("Sum", backend.OpSum, sumOp[T]{}) }

type sumOp[T comm.Elem] struct{}

func (sumOp[T]) combine(inout, in []T) {
	in = in[:len(inout)]
	if addVec(inout, inout, in) {
		return
	}
	i := 0
	// Eight at a time: the loop the compiler makes of this runs about twice as fast
	// as the plain one on large vectors (a 1 MiB Allreduce spends much of its time here).
	for ; i+8 <= len(inout); i += 8 {
		a, b := inout[i:i+8:i+8], in[i:i+8:i+8]
		a[0] += b[0]
		a[1] += b[1]
		a[2] += b[2]
		a[3] += b[3]
		a[4] += b[4]
		a[5] += b[5]
		a[6] += b[6]
		a[7] += b[7]
	}
	for ; i < len(inout); i++ {
		inout[i] += in[i]
	}
}

// combineInto sets dst[i] = a[i] + b[i] (see combinerInto).
func (op sumOp[T]) combineInto(dst, a, b []T) {
	if addVec(dst, a, b) {
		return
	}
	a, b = a[:len(dst)], b[:len(dst)]
	for i := range dst {
		dst[i] = a[i] + b[i]
	}
}

// Prod multiplies (MPI_PROD). It accepts every element type, complex included.
func Prod[T comm.Elem]() Reduction[T] { return predefined[T]("Prod", backend.OpProd, prodOp[T]{}) }

type prodOp[T comm.Elem] struct{}

func (prodOp[T]) combine(inout, in []T) {
	in = in[:len(inout)]
	i := 0
	for ; i+8 <= len(inout); i += 8 { // as in Sum
		a, b := inout[i:i+8:i+8], in[i:i+8:i+8]
		a[0] *= b[0]
		a[1] *= b[1]
		a[2] *= b[2]
		a[3] *= b[3]
		a[4] *= b[4]
		a[5] *= b[5]
		a[6] *= b[6]
		a[7] *= b[7]
	}
	for ; i < len(inout); i++ {
		inout[i] *= in[i]
	}
}

// Min keeps the smaller element (MPI_MIN). For floats it follows Go's builtin min: a NaN wins.
func Min[T Real]() Reduction[T] { return predefined[T]("Min", backend.OpMin, minOp[T]{}) }

type minOp[T Real] struct{}

func (minOp[T]) combine(inout, in []T) {
	in = in[:len(inout)]
	i := 0
	for ; i+4 <= len(inout); i += 4 { // as in Sum
		a, b := inout[i:i+4:i+4], in[i:i+4:i+4]
		a[0] = min(a[0], b[0])
		a[1] = min(a[1], b[1])
		a[2] = min(a[2], b[2])
		a[3] = min(a[3], b[3])
	}
	for ; i < len(inout); i++ {
		inout[i] = min(inout[i], in[i])
	}
}

// Max keeps the larger element (MPI_MAX). For floats it follows Go's builtin max: a NaN wins.
func Max[T Real]() Reduction[T] { return predefined[T]("Max", backend.OpMax, maxOp[T]{}) }

type maxOp[T Real] struct{}

func (maxOp[T]) combine(inout, in []T) {
	in = in[:len(inout)]
	i := 0
	for ; i+4 <= len(inout); i += 4 { // as in Sum
		a, b := inout[i:i+4:i+4], in[i:i+4:i+4]
		a[0] = max(a[0], b[0])
		a[1] = max(a[1], b[1])
		a[2] = max(a[2], b[2])
		a[3] = max(a[3], b[3])
	}
	for ; i < len(inout); i++ {
		inout[i] = max(inout[i], in[i])
	}
}

func truth[T Integer](b bool) T {
	if b {
		return 1
	}
	return 0
}

// LAnd is logical and (MPI_LAND): the result is 1 if both elements are non-zero, else 0.
func LAnd[T Integer]() Reduction[T] { return predefined[T]("LAnd", backend.OpLAnd, lAndOp[T]{}) }

type lAndOp[T Integer] struct{}

func (lAndOp[T]) combine(inout, in []T) {
	in = in[:len(inout)]
	for i := range inout {
		inout[i] = truth[T](inout[i] != 0 && in[i] != 0)
	}
}

// LOr is logical or (MPI_LOR): the result is 1 if either element is non-zero, else 0.
func LOr[T Integer]() Reduction[T] { return predefined[T]("LOr", backend.OpLOr, lOrOp[T]{}) }

type lOrOp[T Integer] struct{}

func (lOrOp[T]) combine(inout, in []T) {
	in = in[:len(inout)]
	for i := range inout {
		inout[i] = truth[T](inout[i] != 0 || in[i] != 0)
	}
}

// LXor is logical exclusive or (MPI_LXOR): the result is 1 if exactly one element is non-zero.
func LXor[T Integer]() Reduction[T] { return predefined[T]("LXor", backend.OpLXor, lXorOp[T]{}) }

type lXorOp[T Integer] struct{}

func (lXorOp[T]) combine(inout, in []T) {
	in = in[:len(inout)]
	for i := range inout {
		inout[i] = truth[T]((inout[i] != 0) != (in[i] != 0))
	}
}

// BAnd is bitwise and (MPI_BAND).
func BAnd[T Integer]() Reduction[T] { return predefined[T]("BAnd", backend.OpBAnd, bAndOp[T]{}) }

type bAndOp[T Integer] struct{}

func (bAndOp[T]) combine(inout, in []T) {
	in = in[:len(inout)]
	for i := range inout {
		inout[i] &= in[i]
	}
}

// BOr is bitwise or (MPI_BOR).
func BOr[T Integer]() Reduction[T] { return predefined[T]("BOr", backend.OpBOr, bOrOp[T]{}) }

type bOrOp[T Integer] struct{}

func (bOrOp[T]) combine(inout, in []T) {
	in = in[:len(inout)]
	for i := range inout {
		inout[i] |= in[i]
	}
}

// BXor is bitwise exclusive or (MPI_BXOR).
func BXor[T Integer]() Reduction[T] { return predefined[T]("BXor", backend.OpBXor, bXorOp[T]{}) }

type bXorOp[T Integer] struct{}

func (bXorOp[T]) combine(inout, in []T) {
	in = in[:len(inout)]
	for i := range inout {
		inout[i] ^= in[i]
	}
}

// resolve calls op and checks that it describes something usable, on elements that may move
// as raw memory. Every rank finds the same errors here, so they are returned before any
// message moves.
func resolve[T any](name string, rank int, op Op[T]) (Reduction[T], error) {
	if !pointerFree[T]() {
		return Reduction[T]{}, argError(name, rank, comm.ErrInvalidArgument,
			"element type %v holds pointers, and reduction buffers move as raw memory (reduce such values with AllreduceValue or ReduceValue)", reflect.TypeFor[T]())
	}
	if op == nil {
		return Reduction[T]{}, argError(name, rank, comm.ErrInvalidArgument, "nil Op")
	}
	d := op()
	if d.comb == nil {
		return Reduction[T]{}, argError(name, rank, comm.ErrInvalidArgument, "Op has no combining function (use NewOp)")
	}
	return d, nil
}

// nativeType returns the backend's name for T's memory layout, and false for types a native
// backend cannot reduce (Pair, say).
func nativeType[T any]() (backend.Type, bool) {
	switch reflect.TypeFor[T]().Kind() {
	case reflect.Int8:
		return backend.Int8, true
	case reflect.Int16:
		return backend.Int16, true
	case reflect.Int32:
		return backend.Int32, true
	case reflect.Int64:
		return backend.Int64, true
	case reflect.Int:
		return backend.Int, true
	case reflect.Uint8:
		return backend.Uint8, true
	case reflect.Uint16:
		return backend.Uint16, true
	case reflect.Uint32:
		return backend.Uint32, true
	case reflect.Uint64:
		return backend.Uint64, true
	case reflect.Uint:
		return backend.Uint, true
	case reflect.Uintptr:
		return backend.Uintptr, true
	case reflect.Float32:
		return backend.Float32, true
	case reflect.Float64:
		return backend.Float64, true
	case reflect.Complex64:
		return backend.Complex64, true
	case reflect.Complex128:
		return backend.Complex128, true
	}
	return 0, false
}
