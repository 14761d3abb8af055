package collectives

import "slices"

// allgatherBruck: rank r keeps the blocks it has in the order r, r+1, r+2, ... (mod p). In round
// k (k = 1, 2, 4, ...) it sends its first min(k, p-k) blocks to rank r-k and appends the ones
// rank r+k sends, so the run of known blocks doubles. After ⌈lg p⌉ rounds it has all p, and one
// rotation puts them in rank order.
//
// Cost for p ranks and n bytes per rank: ⌈lg p⌉ α + (p-1) n β, plus a local rotation (two
// copies) of p·n bytes. Latency-optimal for any p (recursive doubling is only for powers of two).
// Chosen on at least allgatherBruckMinRanks ranks while the result is smaller than
// allgatherBruckMaxBytes. Any p, any n.
// Reference: Bruck, Ho, Kipnis, Upfal & Weathersby, IEEE TPDS 8(11), 1997.
func allgatherBruck(r *run, send, recv []byte) {
	p, nb := r.size, len(send)
	copy(recv[:nb], send)
	for k := 1; k < p; k <<= 1 {
		cnt := min(k, p-k)
		r.sendrecv(recv[:cnt*nb], (r.rank-k+p)%p, recv[k*nb:(k+cnt)*nb], (r.rank+k)%p)
	}
	// recv holds the blocks of ranks r, r+1, ...: rotate right by r blocks.
	rotateRight(recv, r.rank*nb)
}

// rotateRight rotates buf right by shift bytes (0 <= shift <= len(buf)) without allocating:
// through a stack buffer at the sizes Bruck is chosen for, by three reversals above them.
func rotateRight(buf []byte, shift int) {
	if shift == 0 || shift == len(buf) {
		return
	}
	if len(buf) <= allgatherBruckMaxBytes {
		var tmp [allgatherBruckMaxBytes]byte
		t := tmp[:len(buf)]
		copy(t, buf)
		copy(buf[shift:], t)
		copy(buf, t[len(buf)-shift:])
		return
	}
	slices.Reverse(buf)
	slices.Reverse(buf[:shift])
	slices.Reverse(buf[shift:])
}
