package collectives

// gatherBinomial gathers along a binomial tree rooted at root. Relative rank v (v = r - root
// mod p) collects the blocks of its subtree, ranks [v, v + lowest set bit of v), from its
// children v + 2^k, smallest first, into one buffer in relative order, then sends it all to its
// parent. The root finally rotates relative order into rank order.
//
// Cost for p ranks and n bytes per rank: ⌈lg p⌉ α + (p-1) n β (every byte crosses one link
// per level, the root receives (p-1)n in ⌈lg p⌉ messages). Always chosen: the linear gather
// pays (p-1) α at the root for the same volume. Any p, any n.
// Reference: Thakur, Rabenseifner & Gropp, IJHPCA 2005, §3.
func gatherBinomial(r *run, send, recv []byte, root int) {
	p, nb := r.size, len(send)
	v := (r.rank - root + p) % p
	abs := func(u int) int { return (u + root) % p }
	sub := p
	if v != 0 {
		sub = min(v&-v, p-v)
	}
	var tmp []byte
	switch {
	case v == 0 && root == 0:
		tmp = recv
	case sub == 1:
		tmp = send
	default:
		tmp = make([]byte, sub*nb)
	}
	if sub > 1 || v == 0 {
		copy(tmp, send)
	}
	for mask := 1; mask < p; mask <<= 1 {
		if v&mask != 0 {
			r.send(tmp[:sub*nb], abs(v-mask))
			break
		}
		if child := v + mask; child < p {
			cs := min(mask, p-child)
			r.recv(tmp[mask*nb:(mask+cs)*nb], abs(child))
		}
	}
	if v == 0 && root != 0 {
		for j := 0; j < p; j++ {
			a := abs(j)
			copy(recv[a*nb:(a+1)*nb], tmp[j*nb:(j+1)*nb])
		}
	}
}
