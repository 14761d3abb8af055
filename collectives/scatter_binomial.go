package collectives

// scatterBinomial scatters along a binomial tree rooted at root, the mirror image of
// gatherBinomial: relative rank v (v = r - root mod p) receives from its parent the blocks of its
// whole subtree, ranks [v, v + lowest set bit of v), then passes each child v + 2^k the blocks of
// that child's subtree, largest first, and keeps its own.
//
// Cost for p ranks and n bytes per rank: ⌈lg p⌉ α + (p-1) n β. Always chosen for Scatter.
// Any p, any n.
// Reference: Thakur, Rabenseifner & Gropp, IJHPCA 2005, §3.
func scatterBinomial(r *run, send, recv []byte, root int) {
	p, nb := r.size, len(recv)
	v := (r.rank - root + p) % p
	abs := func(u int) int { return (u + root) % p }
	sub := p
	if v != 0 {
		sub = min(v&-v, p-v)
	}
	var tmp []byte
	switch {
	case v == 0 && root == 0:
		tmp = send
	case v == 0:
		tmp = make([]byte, p*nb)
		for j := 0; j < p; j++ {
			a := abs(j)
			copy(tmp[j*nb:(j+1)*nb], send[a*nb:(a+1)*nb])
		}
	case sub == 1:
		tmp = recv
	default:
		tmp = make([]byte, sub*nb)
	}
	mask := 1
	for mask < p {
		if v&mask != 0 {
			r.recv(tmp[:sub*nb], abs(v-mask))
			break
		}
		mask <<= 1
	}
	for mask >>= 1; mask > 0; mask >>= 1 {
		if child := v + mask; child < p {
			cs := min(mask, p-child)
			r.send(tmp[mask*nb:(mask+cs)*nb], abs(child))
		}
	}
	if v == 0 || sub > 1 {
		copy(recv, tmp[:nb])
	}
}
