package collectives

import "github.com/gompi/gompi/comm"

// alltoallPairwise exchanges personalized blocks in p-1 steps: in step s rank r sends its block
// for r+s and receives the block of r-s (mod p); when p is a power of two the pairs are r and
// r XOR s instead, so that both directions of a link carry one exchange at a time. It serves both
// Alltoall and Alltoallv (block lengths and places in bytes).
//
// Cost for p ranks and n bytes per block: (p-1)(α + nβ). Each step has one send and one receive
// per rank, so no rank is flooded and the memory in flight stays at one block. Always chosen
// (small blocks on many ranks would favour Bruck's log-step variant, not implemented). Any p.
// Reference: Thakur, Rabenseifner & Gropp, IJHPCA 2005, §3.
func alltoallPairwise(r *run, send []byte, sendCounts, sendDispls []int, recv []byte, recvCounts, recvDispls []int) {
	p, me := r.size, r.rank
	if r.err == nil {
		own := r.part(send, sendCounts, sendDispls, me)
		dst := r.part(recv, recvCounts, recvDispls, me)
		if len(own) != len(dst) {
			r.failf(comm.ErrSizeMismatch, "sends %d bytes to itself but expects %d", len(own), len(dst))
		} else {
			copy(dst, own)
		}
	}
	pow2 := p&(p-1) == 0
	for s := 1; s < p; s++ {
		dst, src := (me+s)%p, (me-s+p)%p
		if pow2 {
			dst, src = me^s, me^s
		}
		r.sendrecv(r.part(send, sendCounts, sendDispls, dst), dst, r.part(recv, recvCounts, recvDispls, src), src)
	}
}
