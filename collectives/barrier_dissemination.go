package collectives

// barrierDissemination synchronizes all ranks: in round k (k = 1, 2, 4, ...) rank r signals rank
// r+k and waits for rank r-k (mod p). After ⌈lg p⌉ rounds every rank has heard, directly or
// through others, from every rank, so none leaves before all have arrived.
//
// Cost for p ranks: ⌈lg p⌉ α, with empty messages. Any p, unlike recursive doubling no extra
// step for non-powers of two. Always chosen (there is no data to make another choice pay).
// Reference: Hensgen, Finkel & Manber, "Two algorithms for barrier synchronization", IJPP 1988.
func barrierDissemination(r *run) {
	p := r.size
	for k := 1; k < p; k <<= 1 {
		r.sendrecv(nil, (r.rank+k)%p, nil, (r.rank-k+p)%p)
	}
}
