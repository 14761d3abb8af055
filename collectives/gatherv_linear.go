package collectives

// gathervLinear: every rank sends its block straight to the root, which receives them in rank
// order into their places. The block lengths are known only at the root, so no tree can forward
// them without an extra round.
//
// Cost for p ranks and N bytes in all: (p-1) α + N β at the root. Always chosen for Gatherv.
// Any p, any counts.
// Reference: MPI 4.1 §6.5 (the definition itself).
func gathervLinear(r *run, send, recv []byte, counts, displs []int, root int) {
	if r.rank != root {
		r.send(send, root)
		return
	}
	for i := 0; i < r.size; i++ {
		if i == root {
			if r.err == nil {
				copy(r.part(recv, counts, displs, i), send)
			}
			continue
		}
		r.recv(r.part(recv, counts, displs, i), i)
	}
}
