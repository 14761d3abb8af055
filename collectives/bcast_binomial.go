package collectives

// bcastBinomial broadcasts buf from root along a binomial tree. Ranks are renumbered relative to
// the root (v = r - root mod p); v receives from v minus its lowest set bit, then sends to
// v + 2^k for every 2^k below that bit, largest first, so the informed set doubles each round.
//
// Cost for p ranks and n bytes: ⌈lg p⌉ (α + nβ). Latency-optimal; the root sends n bytes
// ⌈lg p⌉ times, so for large n scatter+allgather moves less. Chosen below bcastLargeBytes or on
// fewer than bcastLargeMinRanks ranks. Any p.
// Reference: Thakur, Rabenseifner & Gropp, IJHPCA 2005, §3.
func bcastBinomial(r *run, buf []byte, root int) {
	p := r.size
	v := (r.rank - root + p) % p
	mask := 1
	for mask < p {
		if v&mask != 0 {
			r.recv(buf, (v-mask+root)%p)
			break
		}
		mask <<= 1
	}
	for mask >>= 1; mask > 0; mask >>= 1 {
		if v+mask < p {
			r.send(buf, (v+mask+root)%p)
		}
	}
}
