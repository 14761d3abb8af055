package collectives

// Pair is a value with an index, the element type of MinLoc and MaxLoc (MPI's MPI_DOUBLE_INT and
// friends). Index is usually a rank or a position; ties in Value keep the smaller Index.
type Pair[T Real] struct {
	Value T
	Index int
}

// MinLoc keeps the pair with the smaller value, and of equal values the smaller index
// (MPI_MINLOC, MPI 4.1 §6.9.4), with Reduce, Allreduce or Scan on vectors of pairs: for
// example, the global minimum of a value and the rank that holds it.
func MinLoc[T Real]() Reduction[Pair[T]] {
	return Reduction[Pair[T]]{name: "MinLoc", commutative: true, comb: minLocOp[T]{}}
}

type minLocOp[T Real] struct{}

func (minLocOp[T]) combine(inout, in []Pair[T]) {
	in = in[:len(inout)]
	for i := range inout {
		if in[i].Value < inout[i].Value || in[i].Value == inout[i].Value && in[i].Index < inout[i].Index {
			inout[i] = in[i]
		}
	}
}

// MaxLoc keeps the pair with the larger value, and of equal values the smaller index
// (MPI_MAXLOC, MPI 4.1 §6.9.4), with Reduce, Allreduce or Scan on vectors of pairs.
func MaxLoc[T Real]() Reduction[Pair[T]] {
	return Reduction[Pair[T]]{name: "MaxLoc", commutative: true, comb: maxLocOp[T]{}}
}

type maxLocOp[T Real] struct{}

func (maxLocOp[T]) combine(inout, in []Pair[T]) {
	in = in[:len(inout)]
	for i := range inout {
		if in[i].Value > inout[i].Value || in[i].Value == inout[i].Value && in[i].Index < inout[i].Index {
			inout[i] = in[i]
		}
	}
}
