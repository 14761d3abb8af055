package collectives

// scattervLinear: the root sends each rank its block directly, in rank order. Only the root
// knows the block lengths, so no tree can forward them without an extra round.
//
// Cost for p ranks and N bytes in all: (p-1) α + N β at the root. Always chosen for Scatterv.
// Any p, any counts.
// Reference: MPI 4.1 §6.6 (the definition itself).
func scattervLinear(r *run, send []byte, counts, displs []int, recv []byte, root int) {
	if r.rank != root {
		r.recv(recv, root)
		return
	}
	for i := 0; i < r.size; i++ {
		if i == root {
			if r.err == nil {
				copy(recv, r.part(send, counts, displs, i))
			}
			continue
		}
		r.send(r.part(send, counts, displs, i), i)
	}
}
