package collectives

// alltoallBruck exchanges personalized blocks of b bytes in ⌈lg p⌉ steps instead of p-1. Each
// rank first rotates its blocks so that position i holds its block for rank me+i. In step k it
// sends every block whose position has bit k set, packed, to rank me+2^k, and puts the blocks
// arriving from rank me-2^k in the same positions. A block at position i thus travels i ranks
// forward in all, to its destination; at the end position i holds the block of rank me-i.
//
// Cost for p ranks and b bytes per block: ⌈lg p⌉ α + ⌈lg p⌉ (p/2) b β, plus the local copies:
// more bytes than pairwise exchange, far fewer steps, so it is for small blocks, where each step
// costs a wait for a peer (and, with more ranks than cores, often a peer's turn on a core).
// Chosen for blocks up to alltoallBruckBytes on at least alltoallBruckMinRanks ranks. Any p.
// Reference: Bruck, Ho, Kipnis, Upfal & Weathersby, IEEE TPDS 8(11), 1997; Thakur, Rabenseifner
// & Gropp, IJHPCA 2005, §3.
func alltoallBruck(r *run, send, recv []byte, b int) {
	p, me := r.size, r.rank
	if p == 1 || b == 0 {
		copy(recv, send)
		return
	}
	tmp := scratch[byte](r, 0, p*b)
	for i := range p {
		copy(tmp[i*b:(i+1)*b], send[(me+i)%p*b:((me+i)%p+1)*b])
	}
	for pof := 1; pof < p; pof <<= 1 {
		m := 0 // positions with this bit set
		for i := range p {
			if i&pof != 0 {
				m++
			}
		}
		pack := scratch[byte](r, 1, 2*m*b)
		out, in := pack[:m*b], pack[m*b:]
		j := 0
		for i := range p {
			if i&pof != 0 {
				copy(out[j*b:(j+1)*b], tmp[i*b:(i+1)*b])
				j++
			}
		}
		r.sendrecv(out, (me+pof)%p, in, (me-pof+p)%p)
		if r.err != nil {
			continue
		}
		j = 0
		for i := range p {
			if i&pof != 0 {
				copy(tmp[i*b:(i+1)*b], in[j*b:(j+1)*b])
				j++
			}
		}
	}
	if r.err != nil {
		return
	}
	for i := range p {
		src := (me - i + p) % p
		copy(recv[src*b:(src+1)*b], tmp[i*b:(i+1)*b])
	}
}
