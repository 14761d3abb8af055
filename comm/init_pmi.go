package comm

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/gompi/gompi/bootstrap"
	"github.com/gompi/gompi/internal/backend"
	"github.com/gompi/gompi/internal/engine"
	"github.com/gompi/gompi/internal/join"
	"github.com/gompi/gompi/internal/pmi"
	"github.com/gompi/gompi/internal/waits"
)

// pmiBootKey is the PMI key under which rank 0 publishes "v1,<bootstrap address>,<job id>,<secret
// in hex>". The key/value space belongs to the job step alone (Slurm, Hydra), so the secret
// stays among the job's processes.
const pmiBootKey = "gompi-bootstrap"

// envPMITimeout bounds how long Init waits at the PMI fence for every task of the job (a Go
// duration; default join.Timeout).
const envPMITimeout = "GOMPI_PMI_TIMEOUT"

// pmiTimeout reads envPMITimeout through get.
func pmiTimeout(get func(string) string) (time.Duration, error) {
	s := get(envPMITimeout)
	if s == "" {
		return join.Timeout, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s=%q is not a positive duration such as 2m", envPMITimeout, s)
	}
	return d, nil
}

// pmiJob is what a world joined through PMI holds until Finalize: the PMI session and, on rank
// 0, the bootstrap service every rank used to start.
var pmiJob struct {
	client *pmi.Client
	server *bootstrap.Server
}

// startPMI joins a job whose processes a PMI launcher started (srun --mpi=pmi2, MPICH's
// mpiexec): rank 0 starts a bootstrap service and publishes its address, a job id and a fresh
// secret in the PMI key/value space; after a PMI fence every rank reads them and joins the job
// as a rank started by gompirun does (internal/join: shared memory within a node, TCP across).
// ok is false when the environment has no PMI server (neither PMI_FD nor PMI_PORT).
//
// A rank that fails here after the PMI session opened asks the launcher, through PMI abort, to
// end the whole job, so the others do not wait for it until join.Timeout.
func startPMI() (w backend.World, ok bool, err error) {
	if !pmi.Present(os.Getenv) {
		return nil, false, nil
	}
	if os.Getenv(pmi.EnvSize) == "1" {
		return engine.NewSingleton(), true, nil // a one-task step: no peers to find
	}
	waits.SetPhase("in Init, joining the PMI job")
	defer waits.SetPhase("")
	c, err := pmi.FromEnv(os.Getenv)
	// The descriptor is the client's now (or closed): a child process must not take its number,
	// which may be reused, for a PMI socket.
	os.Unsetenv(pmi.EnvFD)
	if err != nil {
		return nil, true, fmt.Errorf("comm: join the job of the PMI launcher: %w", err)
	}
	startStderrHangReports(c.Rank())
	if c.Size() == 1 {
		c.Finalize()
		return engine.NewSingleton(), true, nil
	}
	env, srv, err := pmiEnv(c, os.Getenv)
	if err == nil {
		t, jerr := join.Start(env)
		if err = jerr; err == nil {
			pmiJob.client, pmiJob.server = c, srv
			return engine.NewWorld(t), true, nil
		}
	}
	if srv != nil {
		srv.Close()
	}
	err = fmt.Errorf("comm: rank %d: join the job of the PMI launcher: %w", c.Rank(), err)
	// Say why now: the launcher may kill this process too as soon as it reads the abort.
	fmt.Fprintf(os.Stderr, "gompi: %v (ending the job: PMI abort)\n", err)
	c.Abort(1, err.Error())
	return nil, true, printedError{err}
}

// printedError is an Init error already written on standard error: Main does not repeat it.
type printedError struct{ error }

func (e printedError) Unwrap() error { return e.error }

// pmiEnv exchanges the bootstrap service's address and the job secret through PMI and returns
// the environment contract of a gompirun rank for this process; on rank 0 also the service.
// Variables the user may set for gompirun's ranks (GOMPI_TRANSPORT, GOMPI_SPIN_WAIT, ...) are
// read through get; GOMPI_BIND defaults to none, because the PMI launcher places its tasks
// (srun --cpu-bind).
func pmiEnv(c *pmi.Client, get func(string) string) (*bootstrap.Env, *bootstrap.Server, error) {
	rank, size := c.Rank(), c.Size()
	localRank, localSize, oneNode := pmiLocal(c, get)
	var srv *bootstrap.Server
	if rank == 0 {
		secret := make([]byte, 32)
		id := make([]byte, 16)
		rand.Read(secret)
		rand.Read(id)
		host := "127.0.0.1"
		if !oneNode {
			host = ""
		}
		var err error
		if srv, err = bootstrap.NewServer(net.JoinHostPort(host, "0"), secret); err != nil {
			return nil, nil, err
		}
		addr := srv.Addr()
		if !oneNode {
			_, port, _ := net.SplitHostPort(addr)
			ip, err := advertisedIP(get(bootstrap.EnvIface))
			if err != nil {
				return nil, srv, err
			}
			addr = net.JoinHostPort(ip, port)
		}
		val := strings.Join([]string{"v1", addr, hex.EncodeToString(id), hex.EncodeToString(secret)}, ",")
		if err := c.Put(pmiBootKey, val); err != nil {
			return nil, srv, err
		}
	}
	// A task that exits before Init, or runs no gompi program, never reaches the fence, and
	// PMI servers wait for it forever (Slurm does, unless srun --kill-on-bad-exit): bound the
	// wait as join bounds the rest of the start-up.
	timeout, err := pmiTimeout(get)
	if err != nil {
		return nil, srv, err
	}
	c.SetDeadline(time.Now().Add(timeout))
	if err := c.Fence(); err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return nil, srv, fmt.Errorf("not every one of the %d tasks reached Init within %v (%s): did one exit before, or run something other than a gompi program? (%v)",
				size, timeout, envPMITimeout, err)
		}
		return nil, srv, err
	}
	c.SetDeadline(time.Time{})
	val, found, err := c.Get(pmiBootKey)
	if err != nil {
		return nil, srv, err
	}
	f := strings.Split(val, ",")
	if !found || len(f) != 4 || f[0] != "v1" {
		return nil, srv, fmt.Errorf("PMI key %s is %q after the fence, want v1,<address>,<job id>,<secret> from rank 0 (is rank 0 a gompi program of this version?)", pmiBootKey, val)
	}
	vars := map[string]string{
		bootstrap.EnvRank:      strconv.Itoa(rank),
		bootstrap.EnvSize:      strconv.Itoa(size),
		bootstrap.EnvLocalRank: strconv.Itoa(localRank),
		bootstrap.EnvLocalSize: strconv.Itoa(localSize),
		bootstrap.EnvAddr:      f[1],
		bootstrap.EnvJobID:     f[2],
		bootstrap.EnvSecret:    f[3],
		bootstrap.EnvHost:      "",
		bootstrap.EnvBind:      "none",
	}
	// bootstrap.EnvHost stays empty: join chooses the address from the route to rank 0's
	// service (loopback when it is on loopback), within GOMPI_IFACE when the user gave one.
	if b := get(bootstrap.EnvBind); b != "" {
		vars[bootstrap.EnvBind] = b
	}
	env, err := bootstrap.ParseEnv(func(k string) string {
		if v, ok := vars[k]; ok {
			return v
		}
		return get(k)
	})
	return env, srv, err
}

// pmiLocal says which of the job's ranks share this process's node: from PMI_process_mapping,
// else from Slurm's SLURM_LOCALID and SLURM_STEP_NUM_NODES. oneNode is true when every rank
// is known to run on this node.
func pmiLocal(c *pmi.Client, get func(string) string) (localRank, localSize int, oneNode bool) {
	if m, found, err := c.Mapping(); err == nil && found {
		if blocks, err := pmi.ParseMapping(m); err == nil {
			if nodes, err := pmi.Nodes(blocks, c.Size()); err == nil {
				local, idx := pmi.Local(nodes, c.Rank())
				return idx, len(local), len(local) == c.Size()
			}
		}
	}
	localRank, localSize = 0, 1
	if id, err := strconv.Atoi(get("SLURM_LOCALID")); err == nil && id >= 0 {
		localRank, localSize = id, id+1
	}
	if n, err := strconv.Atoi(get("SLURM_STEP_NUM_NODES")); err == nil && n == 1 {
		return localRank, c.Size(), true
	}
	return localRank, localSize, false
}

// advertisedIP is the address rank 0 gives the other nodes for its bootstrap service: with
// iface (GOMPI_IFACE, as gompirun --iface takes it) the first address it allows; else the first
// address the host name resolves to that is not loopback, else the first global unicast
// address of an interface that is up.
func advertisedIP(iface string) (string, error) {
	if iface != "" {
		spec, err := bootstrap.ParseIfaceSpec(iface)
		if err != nil {
			return "", fmt.Errorf("%s: %w", bootstrap.EnvIface, err)
		}
		ifaces, err := bootstrap.Interfaces()
		if err != nil {
			return "", err
		}
		ip, _, err := bootstrap.ChooseAddr(ifaces, spec, nil)
		if err != nil {
			return "", err
		}
		return ip.String(), nil
	}
	if h, err := os.Hostname(); err == nil {
		if ips, err := net.LookupIP(h); err == nil {
			for _, ip := range ips {
				if !ip.IsLoopback() && ip.To4() != nil {
					return ip.String(), nil
				}
			}
		}
	}
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && n.IP.IsGlobalUnicast() {
				return n.IP.String(), nil
			}
		}
	}
	return "127.0.0.1", nil
}

// finishPMI ends a world joined through PMI, after the world's own Finalize: the PMI session
// ends, and rank 0's bootstrap service closes.
func finishPMI() {
	if pmiJob.client != nil {
		pmiJob.client.Finalize()
		pmiJob.client = nil
	}
	if pmiJob.server != nil {
		pmiJob.server.Close()
		pmiJob.server = nil
	}
}
