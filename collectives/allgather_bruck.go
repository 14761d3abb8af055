package collectives

// allgatherBruck: rank r keeps the blocks it has in the order r, r+1, r+2, ... (mod p). In round
// k (k = 1, 2, 4, ...) it sends its first min(k, p-k) blocks to rank r-k and appends the ones
// rank r+k sends, so the run of known blocks doubles. After ⌈lg p⌉ rounds it has all p, and one
// rotation puts them in rank order.
//
// Cost for p ranks and n bytes per rank: ⌈lg p⌉ α + (p-1) n β, plus an in-place rotation of
// p·n bytes (two to three copies, see rotateLeft). Latency-optimal for any p (recursive doubling is only for powers of two).
// Chosen while the result is at most allgatherBruckMaxBytes. Any p, any n.
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

// rotateRight rotates buf right by shift bytes (0 <= shift <= len(buf)) without allocating.
func rotateRight(buf []byte, shift int) {
	rotateLeft(buf, len(buf)-shift)
}

// rotateScratch is the stack buffer of rotateLeft.
const rotateScratch = 8 << 10

// rotateLeft rotates buf left by k bytes (0 <= k <= len(buf)): buf[k:] moves to the front. When
// the shorter of the two parts fits a stack buffer it is set aside and the longer one moved with
// one copy. Otherwise the block-swap algorithm (Gries and Mills) swaps the shorter part with its
// final place, which leaves a smaller rotation of the rest, until the shorter part fits.
func rotateLeft(buf []byte, k int) {
	var tmp [rotateScratch]byte
	for k > 0 && k < len(buf) {
		n := len(buf)
		switch {
		case k <= len(tmp): // A B → B A with |A| = k small
			copy(tmp[:k], buf[:k])
			copy(buf, buf[k:])
			copy(buf[n-k:], tmp[:k])
			return
		case n-k <= len(tmp): // |B| small
			copy(tmp[:n-k], buf[k:])
			copy(buf[n-k:], buf[:k])
			copy(buf, tmp[:n-k])
			return
		case k <= n-k: // A BL BR, |BR| = |A| → BR BL A; BR BL still needs rotating left by k
			swapBytes(buf[:k], buf[n-k:], tmp[:])
			buf = buf[:n-k]
		default: // AL AR B, |AL| = |B| → B AR AL; AR AL still needs rotating left by k-|B|
			swapBytes(buf[:n-k], buf[k:], tmp[:])
			buf, k = buf[n-k:], k-(n-k)
		}
	}
}

// swapBytes exchanges the contents of x and y (same length, not overlapping) through tmp.
func swapBytes(x, y, tmp []byte) {
	for i := 0; i < len(x); i += len(tmp) {
		j := min(i+len(tmp), len(x))
		t := tmp[:j-i]
		copy(t, x[i:j])
		copy(x[i:j], y[i:j])
		copy(y[i:j], t)
	}
}
