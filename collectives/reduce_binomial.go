package collectives

// reduceBinomial reduces along a binomial tree, the mirror image of bcastBinomial: relative rank
// v receives the partial results of v + 2^k for each 2^k below its lowest set bit, smallest first,
// combines each on the right of its own, then sends its result to v minus that bit. v then holds
// the reduction of ranks [v, v + lowest bit), so combining in this order keeps rank order in
// relative numbering. A non-commutative op is therefore reduced to rank 0 (where relative and
// real numbering agree) and sent on to the root.
//
// Cost for p ranks and n bytes: ⌈lg p⌉ (α + nβ + nγ) (+ α + nβ for a non-commutative op with
// root ≠ 0). Chosen for non-commutative ops, and for commutative ones below reduceLargeBytes.
// Any p, any n.
// Reference: Thakur, Rabenseifner & Gropp, IJHPCA 2005, §4.
func reduceBinomial[T any](r *run, send, recv []T, d Reduction[T], root int) {
	p, n := r.size, len(send)
	treeRoot := root
	if !d.commutative {
		treeRoot = 0
	}
	v := (r.rank - treeRoot + p) % p
	acc := recv
	if r.rank != root {
		// Not the root: recv may be nil (it matters only at the root), even on the tree's
		// root, rank 0, when a non-commutative op is reduced there and forwarded.
		acc = scratch[T](r, 0, n)
	}
	copy(acc, send)
	var tmp []T
	for mask := 1; mask < p; mask <<= 1 {
		if v&mask != 0 {
			r.send(asBytes(acc), (v-mask+treeRoot)%p)
			break
		}
		if v+mask < p {
			if tmp == nil {
				tmp = scratch[T](r, 1, n)
			}
			r.recv(asBytes(tmp), (v+mask+treeRoot)%p)
			if r.err == nil {
				d.combine(acc, tmp)
			}
		}
	}
	if treeRoot != root {
		switch r.rank {
		case treeRoot:
			r.send(asBytes(acc), root)
		case root:
			r.recv(asBytes(recv), treeRoot)
		}
	}
}
