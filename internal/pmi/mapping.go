package pmi

import (
	"fmt"
	"strconv"
	"strings"
)

// Block is one triple of a PMI_process_mapping vector: Nodes nodes from node Start on, each
// holding PerNode consecutive ranks.
type Block struct{ Start, Nodes, PerNode int }

// maxMappingNumber bounds every number of a mapping; no job has more nodes or ranks per node.
const maxMappingNumber = 1 << 24

// ParseMapping parses the value of PMI_process_mapping, as MPICH defines it and Slurm and
// Hydra send it: "(vector,(0,2,4))" says ranks 0-3 run on node 0 and 4-7 on node 1;
// "(vector,(0,4,1))" with 8 ranks says ranks are dealt round robin over 4 nodes (the vector
// repeats until every rank has a node). An empty vector, "(vector)", is valid and says nothing.
func ParseMapping(s string) ([]Block, error) {
	t := strings.ReplaceAll(s, " ", "")
	rest, ok := strings.CutPrefix(t, "(vector")
	if !ok || !strings.HasSuffix(rest, ")") {
		return nil, fmt.Errorf("pmi: PMI_process_mapping %q: want (vector,(start,nodes,ranks-per-node),...)", clip(s))
	}
	rest = rest[:len(rest)-1]
	var blocks []Block
	for rest != "" {
		r, ok := strings.CutPrefix(rest, ",(")
		end := strings.IndexByte(r, ')')
		if !ok || end < 0 {
			return nil, fmt.Errorf("pmi: PMI_process_mapping %q: want (vector,(start,nodes,ranks-per-node),...)", clip(s))
		}
		f := strings.Split(r[:end], ",")
		if len(f) != 3 {
			return nil, fmt.Errorf("pmi: PMI_process_mapping %q: triple (%s) has %d numbers, want 3", clip(s), clip(r[:end]), len(f))
		}
		var n [3]int
		for i, x := range f {
			v, err := strconv.Atoi(x)
			if err != nil || v < 0 || v > maxMappingNumber {
				return nil, fmt.Errorf("pmi: PMI_process_mapping %q: %q is not a number in 0..%d", clip(s), clip(x), maxMappingNumber)
			}
			n[i] = v
		}
		blocks = append(blocks, Block{n[0], n[1], n[2]})
		rest = r[end+1:]
	}
	return blocks, nil
}

// Nodes returns the node of each of size ranks under the mapping blocks: the vector is
// repeated until every rank has one. It fails when blocks place no rank at all.
func Nodes(blocks []Block, size int) ([]int, error) {
	per := 0
	for _, b := range blocks {
		per += b.Nodes * b.PerNode
	}
	if per == 0 {
		return nil, fmt.Errorf("pmi: the process mapping %v places no rank", blocks)
	}
	nodes := make([]int, 0, size)
	for len(nodes) < size {
		for _, b := range blocks {
			for node := b.Start; node < b.Start+b.Nodes; node++ {
				for range b.PerNode {
					if len(nodes) == size {
						return nodes, nil
					}
					nodes = append(nodes, node)
				}
			}
		}
	}
	return nodes, nil
}

// Local returns the ranks on the same node as rank, ascending, and rank's index among them.
func Local(nodes []int, rank int) (local []int, index int) {
	for r, n := range nodes {
		if n == nodes[rank] {
			if r == rank {
				index = len(local)
			}
			local = append(local, r)
		}
	}
	return local, index
}
