package collectives

import (
	"os"
	"strings"
	"sync"

	"github.com/gompi/gompi/internal/backend"
)

// Node-aware (hierarchical) collectives. In a job over several hosts, messages within a host
// go through shared memory and messages between hosts through TCP, an order of magnitude
// slower. The algorithms of the other files treat every pair alike; these run in phases
// instead: within each host (over shared memory), then between one leader per host (the
// host's lowest rank), then within each host again, so that each host's data crosses the
// network once per step rather than once per rank.
//
//	Allreduce  reduce to the leader (binomial) · allreduce among leaders · bcast from the leader
//	Reduce     reduce to the leader · reduce among leaders to the root's leader · to the root
//	Bcast      root to its leader · bcast among leaders · bcast from each leader
//	Barrier    fan-in to the leader · dissemination among leaders · fan-out from the leader
//	Allgather  gather to the leader · ring of leaders passing hosts' blocks · bcast from the leader
//
// Each phase is one of the flat algorithms, run within the ranks of the phase (run.within).
// Ranks may sit on hosts in any layout and any number per host. Allreduce and Reduce need a
// commutative operation (a host's ranks need not be consecutive). They apply when the backend
// knows the hosts (gompirun's transports: backend.HostMap), the job spans more than one host
// and some host has more than one rank; GOMPI_COLL_HIER=off turns them off (and on forces
// them wherever they apply, which is the default: see docs/collectives.md for measurements).

// hierSetting is GOMPI_COLL_HIER, read once: "off" turns the node-aware algorithms off.
var hierSetting = sync.OnceValue(func() bool {
	return strings.ToLower(strings.TrimSpace(os.Getenv("GOMPI_COLL_HIER"))) != "off"
})

// hierOn is a variable so that tests may turn the node-aware algorithms off and on.
var hierOn = hierSetting

// hosts returns how c's ranks sit on hosts when the node-aware algorithms apply, else nil.
func (r *run) hosts() *backend.Hosts { return nodeAware(r.shadow()) }

// nodeAware returns how the ranks of shadow sit on hosts when the node-aware algorithms apply
// to it, else nil.
func nodeAware(shadow backend.Backend) *backend.Hosts {
	hm, ok := shadow.(backend.HostMap)
	if !ok {
		return nil
	}
	h := hm.Hosts()
	if h == nil || len(h.Leaders) < 2 || len(h.Leaders) == len(h.Of) || !hierOn() {
		return nil
	}
	return h
}

// hierAllreduce: reduce to each host's leader, allreduce among the leaders, bcast back.
func hierAllreduce[T any](r *run, h *backend.Hosts, send, recv []T, d Reduction[T]) {
	mine := h.Members[h.Of[r.me]]
	n := len(send)
	r.within(mine, func() { reduceBinomial(r, send, recv, d, 0) })
	if mine[0] == r.me {
		r.within(h.Leaders, func() {
			switch chooseAllreduce(r.size, n, n*sizeOf[T](), d.commutative, false) {
			case algRing:
				allreduceRing(r, recv, recv, d)
			default:
				allreduceRecursiveDoubling(r, recv, recv, d)
			}
		})
	}
	r.within(mine, func() { bcastBinomial(r, asBytes(recv), 0) })
}

// hierReduce: reduce to each host's leader, reduce among the leaders to the leader of the
// root's host, which hands the result to the root if it is not the root.
func hierReduce[T any](r *run, h *backend.Hosts, send, recv []T, d Reduction[T], root int) {
	mine := h.Members[h.Of[r.me]]
	rootHost := h.Of[root]
	rootLeader := h.Leaders[rootHost]
	n := len(send)
	// The partial result of this host: recv on the root when the root leads its host, else
	// a scratch vector (slot 2: the flat algorithms use 0 and 1).
	part := recv
	if r.me != root || root != rootLeader {
		part = scratch[T](r, 2, n)
	}
	r.within(mine, func() { reduceBinomial(r, send, part, d, 0) })
	if mine[0] == r.me {
		r.within(h.Leaders, func() { reduceBinomial(r, part, part, d, rootHost) })
	}
	if root != rootLeader {
		switch r.me {
		case rootLeader:
			r.send(asBytes(part), root)
		case root:
			r.recv(asBytes(recv), rootLeader)
		}
	}
}

// hierBcast: the root hands buf to its host's leader, the leaders broadcast it, and each
// leader broadcasts it within its host.
func hierBcast(r *run, h *backend.Hosts, buf []byte, root int) {
	mine := h.Members[h.Of[r.me]]
	rootHost := h.Of[root]
	rootLeader := h.Leaders[rootHost]
	if root != rootLeader {
		switch r.me {
		case root:
			r.send(buf, rootLeader)
		case rootLeader:
			r.recv(buf, root)
		}
	}
	if mine[0] == r.me {
		r.within(h.Leaders, func() {
			if len(buf) >= bcastLargeBytes && r.size >= bcastLargeMinRanks {
				bcastScatterAllgather(r, buf, rootHost)
			} else {
				bcastBinomial(r, buf, rootHost)
			}
		})
	}
	// Within the root's host the root already has buf; it receives it again from its leader
	// when it is not the leader (a copy over shared memory, which keeps the tree simple).
	r.within(mine, func() { bcastBinomial(r, buf, 0) })
}

// hierBarrier: each host's ranks report to their leader (a binomial fan-in of empty
// messages), the leaders run a dissemination barrier, and each leader releases its host (a
// binomial fan-out).
func hierBarrier(r *run, h *backend.Hosts) {
	mine := h.Members[h.Of[r.me]]
	r.within(mine, func() { fanIn(r) })
	if mine[0] == r.me {
		r.within(h.Leaders, func() { barrierDissemination(r) })
	}
	r.within(mine, func() { bcastBinomial(r, nil, 0) })
}

// fanIn sends an empty message up a binomial tree to rank 0, once every rank below in the
// tree has reported: when it returns on rank 0, every rank has called it.
func fanIn(r *run) {
	for mask := 1; mask < r.size; mask <<= 1 {
		if r.rank&mask != 0 {
			r.send(nil, r.rank-mask)
			return
		}
		if r.rank+mask < r.size {
			r.recv(nil, r.rank+mask)
		}
	}
}

// hierAllgather: each host's leader gathers its ranks' blocks into their places in recv, the
// leaders pass each host's blocks around a ring of leaders (a host's blocks need not be
// adjacent in recv: they travel one block per message), and each leader broadcasts the whole
// of recv within its host. n is the length of one block in bytes.
func hierAllgather(r *run, h *backend.Hosts, send, recv []byte, n int) {
	mine := h.Members[h.Of[r.me]]
	blk := func(q int) []byte {
		if r.err != nil {
			return nil
		}
		return recv[q*n : (q+1)*n]
	}
	if r.err == nil {
		copy(blk(r.me), send)
	}
	r.within(mine, func() {
		if r.rank != 0 {
			r.send(send, 0)
			return
		}
		for i := 1; i < r.size; i++ {
			r.recv(blk(mine[i]), i)
		}
	})
	if mine[0] == r.me {
		r.within(h.Leaders, func() {
			nh := r.size
			right, left := (r.rank+1)%nh, (r.rank-1+nh)%nh
			for s := 0; s < nh-1; s++ {
				out := h.Members[(r.rank-s+nh)%nh]  // the host whose blocks go right
				in := h.Members[(r.rank-s-1+nh)%nh] // the host whose blocks come from the left
				for j := 0; j < max(len(out), len(in)); j++ {
					switch {
					case j < len(out) && j < len(in):
						r.sendrecv(blk(out[j]), right, blk(in[j]), left)
					case j < len(out):
						r.send(blk(out[j]), right)
					default:
						r.recv(blk(in[j]), left)
					}
				}
			}
		})
	}
	r.within(mine, func() { bcastBinomial(r, recv, 0) })
}
