package collectives

// bcastScatterAllgather broadcasts a large buf from root in two phases (van de Geijn): buf is cut
// into p blocks, a binomial scatter gives relative rank v (v = r - root mod p) block v, and a
// ring allgather then passes the blocks around until every rank has all of them.
//
// Cost for p ranks and n bytes: (⌈lg p⌉ + p - 1) α + 2 (p-1)/p n β, against ⌈lg p⌉ n β for the
// binomial tree: it wins once n and p are large. Chosen from bcastLargeBytes up on at least
// bcastLargeMinRanks ranks. Any p; n need
// not divide by p (blocks differ by at most a byte, and may be empty).
// Reference: Barnett, Payne, van de Geijn & Watts, "Broadcasting on meshes with wormhole
// routing", JPDC 1996; Thakur, Rabenseifner & Gropp, IJHPCA 2005, §3.
func bcastScatterAllgather(r *run, buf []byte, root int) {
	p := r.size
	n := len(buf)
	v := (r.rank - root + p) % p
	abs := func(u int) int { return (u + root) % p }
	// span returns the bytes of blocks [from, to) (relative numbering).
	span := func(from, to int) []byte {
		lo, _ := block(n, p, from)
		_, hi := block(n, p, min(to, p)-1)
		return buf[lo:hi]
	}

	// Scatter: v's subtree is [v, v + lowest set bit of v); the root's is everything.
	mask := 1
	for mask < p {
		if v&mask != 0 {
			r.recv(span(v, v+mask), abs(v-mask))
			break
		}
		mask <<= 1
	}
	for mask >>= 1; mask > 0; mask >>= 1 {
		if v+mask < p {
			r.send(span(v+mask, v+2*mask), abs(v+mask))
		}
	}

	// Ring allgather in relative numbering: in step s, v passes block v-s to v+1.
	right, left := abs(v+1), abs(v-1+p)
	for s := 0; s < p-1; s++ {
		sb := (v - s + p) % p
		rb := (v - s - 1 + p) % p
		r.sendrecv(span(sb, sb+1), right, span(rb, rb+1), left)
	}
}
