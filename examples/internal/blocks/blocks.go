// Package blocks is the decomposition the lecture examples share: n items (vector elements,
// matrix rows, Monte Carlo chunks, bootstrap resamples) dealt out to p workers (ranks, or
// goroutines inside a rank) in contiguous blocks, as evenly as possible. It sits beside the
// examples, not in the library: MPI programs choose their own decomposition, and the lecture
// programs all choose this one.
package blocks

// Even returns the first item and the number of items of each of p blocks of n items: the first
// n%p blocks get one item more than the others, and when n < p the last p-n blocks are empty.
// The counts are what Scatterv and Gatherv take as a Blocks' Counts, the firsts its Displs.
func Even(n, p int) (first, counts []int) {
	first, counts = make([]int, p), make([]int, p)
	for i := range counts {
		counts[i] = n / p
		if i < n%p {
			counts[i]++
		}
		if i > 0 {
			first[i] = first[i-1] + counts[i-1]
		}
	}
	return first, counts
}
