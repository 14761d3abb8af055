package collectives

// allgatherRing passes blocks around the ring: in step s rank r sends the block of rank r-s to
// r+1 and receives the block of rank r-s-1 from r-1, writing it straight into place. It serves
// both Allgather and Allgatherv (block lengths and places in bytes, counts and displs).
//
// Cost for p ranks and N bytes in all: (p-1) α + (p-1)/p N β (for equal blocks). Bandwidth-
// optimal and each rank talks only to its neighbours. Chosen for Allgather above
// allgatherBruckMaxBytes of result, and always for Allgatherv. Any p, any counts.
// Reference: Thakur, Rabenseifner & Gropp, IJHPCA 2005, §3.
func allgatherRing(r *run, send, recv []byte, counts, displs []int) {
	p := r.size
	if r.err == nil {
		copy(r.part(recv, counts, displs, r.rank), send)
	}
	right, left := (r.rank+1)%p, (r.rank-1+p)%p
	for s := 0; s < p-1; s++ {
		sb, rb := (r.rank-s+p)%p, (r.rank-s-1+p)%p
		r.sendrecv(r.part(recv, counts, displs, sb), right, r.part(recv, counts, displs, rb), left)
	}
}
