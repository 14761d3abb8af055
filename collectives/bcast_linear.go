package collectives

// bcastLinear broadcasts buf from root by sending it to every other rank in turn, rank order
// starting after the root; the others receive once, from the root.
//
// Cost for p ranks and n bytes: (p-1)(α + nβ) at the root, α + nβ at every other rank. No rank
// forwards: a rank waits only for the root, never for a peer that may not be running. That is
// what wins for small messages on a host with more ranks than cores, where a tree's inner rank
// may sit descheduled while its subtree waits (measured, docs/collectives.md). Any p.
func bcastLinear(r *run, buf []byte, root int) {
	p := r.size
	if r.rank != root {
		r.recv(buf, root)
		return
	}
	for i := 1; i < p; i++ {
		r.send(buf, (root+i)%p)
	}
}
