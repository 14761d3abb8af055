// Package join makes the transport of a rank started by gompirun: it reads the launcher's
// environment (bootstrap.Env), fits the process to its share of the host (package placement),
// learns through the bootstrap store which ranks share its host, and connects shared memory
// to those (transport/shm) and TCP to the others (transport/tcp), under one transport for the
// engine. comm.Init calls it; nothing else should.
package join

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gompi/gompi/bootstrap"
	"github.com/gompi/gompi/internal/placement"
	"github.com/gompi/gompi/transport"
	"github.com/gompi/gompi/transport/shm"
	"github.com/gompi/gompi/transport/tcp"
)

// Timeout bounds the whole start-up of a rank: bootstrap, and every connection to its peers.
const Timeout = 60 * time.Second

// Start joins the job described by env and returns the rank's transport. It applies the
// rank's placement first, before any transport starts a goroutine, and reports the placement
// and the transports on standard error when env.Verbose.
func Start(env *bootstrap.Env) (transport.Transport, error) {
	plan := placement.Decide(placement.HostFacts(env))
	plan.Apply()
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	var store bootstrap.Store
	if env.Size > 1 {
		client, err := bootstrap.Dial(ctx, env.Addr, env.Secret)
		if err != nil {
			return nil, fmt.Errorf("bootstrap service at %s: %w", env.Addr, err)
		}
		defer client.Close()
		store = client
	}
	local := []int{env.Rank}
	var hosts []int // by world rank, when known
	if env.Transport != "tcp" && env.Size > 1 {
		var err error
		if local, hosts, err = sameHost(ctx, env, store); err != nil {
			return nil, err
		}
		if env.Transport == "shm" && len(local) < env.Size {
			return nil, fmt.Errorf("%s=shm, but ranks %s run on other hosts: use auto (shared memory within a host, TCP across) or tcp",
				bootstrap.EnvTransport, ranges(others(env.Size, local)))
		}
	}
	remote := others(env.Size, append(local[:len(local):len(local)], env.Rank))

	var sm *shm.Transport
	if len(local) > 1 {
		var err error
		sm, err = shm.New(ctx, shm.Config{Rank: env.Rank, Size: env.Size, Local: local, JobID: []byte(env.JobID),
			Secret: env.Secret, Store: store, CMA: env.CMA, Spin: plan.Wait.Spin, Yield: plan.Wait.Yield})
		if err != nil {
			return nil, fmt.Errorf("%w (shared memory between the ranks of this host failed to start; %s=tcp, gompirun --transport tcp, avoids it)", err, bootstrap.EnvTransport)
		}
	}
	tcfg := tcp.Config{Rank: env.Rank, Size: env.Size, JobID: []byte(env.JobID), Secret: env.Secret,
		Store: store, Peers: remote, SpinWait: plan.TCPSpin(len(remote))}
	var tc *tcp.Transport
	if len(remote) > 0 || sm == nil {
		var err error
		if tcfg.Host, tcfg.Iface, err = env.ListenAddr(); err != nil {
			if sm != nil {
				sm.Abort()
			}
			return nil, fmt.Errorf("rank %d: choose the address to listen on: %w", env.Rank, err)
		}
		if tc, err = tcp.New(ctx, tcfg); err != nil {
			if sm != nil {
				sm.Abort()
			}
			return nil, err
		}
	}
	if env.Verbose {
		report(env, plan, sm, local, remote, tcfg.SpinWait)
	}
	switch {
	case tc == nil:
		return sm, nil
	case sm == nil:
		return tc, nil
	}
	m, _ := newMux(env.Rank, env.Size, sm, tc)
	m.hosts = hosts
	for _, r := range local {
		if r != env.Rank {
			m.route(r, sm)
		}
	}
	for _, r := range remote {
		m.route(r, tc)
	}
	return m, nil
}

// sameHost publishes which host this rank is on and returns the ranks on the same one,
// (one Set and one GetMany: the job's start-up makes two requests per rank to the launcher,
// not one per pair of ranks),
// ascending, and the host of every rank (numbered in the order of each host's lowest rank).
// Two ranks share a host when they run on the same kernel (boot id) in the same network
// namespace, where their Unix sockets can meet.
func sameHost(ctx context.Context, env *bootstrap.Env, store bootstrap.Store) ([]int, []int, error) {
	me := hostID()
	if err := store.Set(ctx, "gompi/host/"+strconv.Itoa(env.Rank), []byte(me)); err != nil {
		return nil, nil, fmt.Errorf("publish this rank's host: %w", err)
	}
	keys := make([]string, env.Size)
	for r := range keys {
		keys[r] = "gompi/host/" + strconv.Itoa(r)
	}
	// One request for all: the launcher answers once every rank has published its host.
	ids, err := bootstrap.GetMany(ctx, store, keys)
	if err != nil {
		return nil, nil, fmt.Errorf("look up the hosts of the job's %d ranks: %w", env.Size, err)
	}
	var local []int
	hosts := make([]int, env.Size)
	number := map[string]int{}
	for r := range env.Size {
		id := string(ids[r])
		if id == me {
			local = append(local, r)
		}
		if _, ok := number[id]; !ok {
			number[id] = len(number)
		}
		hosts[r] = number[id]
	}
	return local, hosts, nil
}

// hostID names this host as far as shared memory is concerned: the kernel's boot id and the
// network namespace (abstract Unix sockets belong to one). Where either is unreadable, the
// host name stands in.
func hostID() string {
	boot, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		h, _ := os.Hostname()
		boot = []byte(h)
	}
	ns, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		ns = "?"
	}
	return strings.TrimSpace(string(boot)) + "/" + ns
}

// others returns the ranks below size that are not in some.
func others(size int, some []int) []int {
	var out []int
	for r := range size {
		if !slices.Contains(some, r) {
			out = append(out, r)
		}
	}
	return out
}

// ranges writes ascending ranks compactly: "1-3,5".
func ranges(rs []int) string {
	var b strings.Builder
	for i := 0; i < len(rs); {
		j := i
		for j+1 < len(rs) && rs[j+1] == rs[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(rs[i]))
		if j > i {
			b.WriteString("-" + strconv.Itoa(rs[j]))
		}
		i = j + 1
	}
	if b.Len() == 0 {
		return "none"
	}
	return b.String()
}

// report says on standard error how the rank was placed and how it reaches each peer.
func report(env *bootstrap.Env, plan placement.Plan, sm *shm.Transport, local, remote []int, tcpSpin any) {
	var parts []string
	if sm != nil {
		peers := others(env.Size, append(remote[:len(remote):len(remote)], env.Rank))
		how := "large messages through the rings"
		if env.CMA {
			how = "single copy for large messages"
			for _, r := range peers {
				if !sm.CMA(r) {
					how = "large messages through the rings: the system refused the single copy"
					break
				}
			}
		}
		parts = append(parts, fmt.Sprintf("shm to ranks %s (%s)", ranges(peers), how))
	}
	if len(remote) > 0 {
		parts = append(parts, fmt.Sprintf("tcp to ranks %s (reader spin %v)", ranges(remote), tcpSpin))
	}
	if len(parts) == 0 {
		parts = append(parts, "no peers")
	}
	fmt.Fprintf(os.Stderr, "gompi: rank %d: placement: %v; %s\n", env.Rank, plan, strings.Join(parts, ", "))
}
