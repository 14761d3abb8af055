package collectives

// reduceScatterReduceScatterv reduces the whole vector to rank 0 with reduceBinomial, which keeps
// rank order, then hands out the blocks with scattervLinear. counts and displs are in bytes.
//
// Cost for p ranks and N bytes in all: ⌈lg p⌉ (α + Nβ + Nγ) + (p-1) α + N β. Chosen for
// non-commutative ops, which the ring cannot reorder. Any p, any counts.
// Reference: Thakur, Rabenseifner & Gropp, IJHPCA 2005, §4.2 (the non-commutative case).
func reduceScatterReduceScatterv[T any](r *run, send, recv []T, counts, displs []int, d Reduction[T]) {
	var full []T
	if r.rank == 0 {
		full = make([]T, len(send))
	}
	reduceBinomial(r, send, full, d, 0)
	scattervLinear(r, asBytes(full), counts, displs, asBytes(recv), 0)
}
