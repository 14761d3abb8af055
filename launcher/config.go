package launcher

import (
	"fmt"
	"github.com/gompi/gompi/bootstrap"
	"io"
	"os"
	"runtime"
	"slices"
	"time"
)

// DefaultGrace is how long ranks get between SIGTERM and SIGKILL when the job is stopped.
const DefaultGrace = 2 * time.Second

// Config describes one job. Only Program is required; every other field has a documented
// default for its zero value. A Config is read by Run and not modified.
type Config struct {
	// NP is the number of ranks. Zero means the total slots of Hosts, or one rank per CPU
	// when Hosts is empty (like mpirun).
	NP int
	// Program is the executable every rank runs: a path, a name looked up in PATH (or, like
	// mpirun, in the current directory), or a Go package directory, which is built first.
	Program string
	// Args are the program's arguments, passed untouched.
	Args []string
	// BuildTags are the build tags used when Program is a Go package directory.
	BuildTags []string
	// Env are extra variables for every rank (-x): "NAME=VALUE", or "NAME" to pass the
	// launcher's own value.
	Env []string
	// Hosts are where ranks run (see Place). Empty means every rank runs on this machine.
	Hosts []Host
	// LaunchAgent is the command that starts a rank on a host that is not local, given the
	// host and the command as further arguments (see agentArgs). Default: ["srun"] inside a
	// Slurm allocation (Slurm set), else ["ssh"]. An agent named srun is given the host as
	// -w HOST, one task, and the command's words as they are (see agentArgs).
	LaunchAgent []string
	// Slurm is the Slurm allocation the launcher runs in (ReadSlurm), or nil. When set, NP
	// defaults to the allocation's tasks and Hosts to its nodes, whose node LocalNode starts
	// its ranks directly; an NP or Hosts given still wins. RunMPI passes the allocation on to
	// mpirun, which reads it itself.
	Slurm *SlurmAllocation
	// BootstrapAddr is host[:port] where the bootstrap service listens in a multi-host job.
	// Default: the local address of the route to the first remote host, any port. Single-host
	// jobs always listen on 127.0.0.1.
	BootstrapAddr string
	// Iface says which network interfaces a multi-host job uses (--iface; the syntax of
	// bootstrap.ParseIfaceSpec: "eth0", "10.0.0.0/8", "^docker0"): the bootstrap service
	// listens on this host's first allowed address unless BootstrapAddr is set, and every rank
	// on one of its own (GOMPI_IFACE). Default: the interface that routes to the first remote
	// host here, and to the bootstrap service's host on the others.
	Iface string
	// Transport is the value of GOMPI_TRANSPORT: "auto" (the default) connects ranks on the
	// same host through shared memory and the others through TCP, "shm" uses shared memory
	// only (every rank must be on this host), "tcp" uses TCP for every pair.
	Transport string
	// BindTo is the value of GOMPI_BIND: "core" (the default) binds each rank to its own
	// share of its host's CPUs when the host's ranks fit them, "none" leaves placement to the
	// kernel.
	BindTo string
	// TagOutput prefixes every line on the terminal with "[rank] ".
	TagOutput bool
	// TimestampOutput prefixes every line with the time it was read (TimestampLayout).
	TimestampOutput bool
	// OutputDir, when set, sends each rank's output to DIR/rank.N.stdout and DIR/rank.N.stderr
	// instead of the terminal (TimestampOutput applies there too, TagOutput does not).
	OutputDir string
	// Timeout bounds the whole job; zero means no bound. When it expires the ranks still
	// running are stopped and the job ends with ExitTimeout.
	Timeout time.Duration
	// KeepGoing lets the other ranks run on when one fails, instead of stopping them; the
	// failure is still reported, and is the job's exit code (see keepgoing.go).
	KeepGoing bool
	// ReportHangAfter, when positive, prints the hang report (hang.go) once every running rank
	// has waited that long for a message, and again when the ranks move on and stall anew.
	ReportHangAfter time.Duration
	// Grace is the time between SIGTERM and SIGKILL when the job is stopped. Default: DefaultGrace.
	Grace time.Duration
	// Stdin is copied to rank 0's standard input. Nil means no input (end of file at once).
	Stdin io.Reader
	// Stdout and Stderr receive the ranks' output and, on Stderr, the launcher's messages.
	// Default: os.Stdout and os.Stderr.
	Stdout, Stderr io.Writer
	// Signals are forwarded to every rank as they arrive (gompirun feeds it SIGINT and
	// SIGTERM). The first one ends the job with exit code 128+signal after the grace
	// period; a second one kills every rank at once.
	Signals <-chan os.Signal
	// Verbose makes the launcher say what it does (placement, commands, bootstrap address) and
	// every rank say how it was placed and which transport it uses to each peer.
	Verbose bool

	localNames []string // host names that are this machine besides localhost (the Slurm node)
}

// withDefaults checks c and returns a copy with defaults filled in.
func (c Config) withDefaults() (Config, error) {
	if c.Program == "" {
		return c, fmt.Errorf("launcher: no program to run")
	}
	if c.NP < 0 {
		return c, fmt.Errorf("launcher: number of ranks %d: want at least 1", c.NP)
	}
	if c.Slurm != nil {
		if len(c.Hosts) == 0 {
			c.Hosts = c.Slurm.Nodes
			if c.Slurm.LocalNode != "" {
				c.localNames = []string{c.Slurm.LocalNode}
			}
			if c.NP == 0 {
				c.NP = c.Slurm.Tasks
			}
		}
		if len(c.LaunchAgent) == 0 {
			c.LaunchAgent = []string{"srun"}
		}
	}
	if c.NP == 0 {
		if len(c.Hosts) > 0 {
			c.NP = TotalSlots(c.Hosts)
		} else {
			c.NP = runtime.NumCPU()
		}
	}
	for _, h := range c.Hosts {
		if h.Name == "" || h.Slots < 1 {
			return c, fmt.Errorf("launcher: host %q with %d slots: want a name and at least 1 slot", h.Name, h.Slots)
		}
	}
	if _, err := bootstrap.ParseIfaceSpec(c.Iface); err != nil {
		return c, fmt.Errorf("launcher: --iface: %w", err)
	}
	if c.Transport == "" {
		c.Transport = bootstrap.Transports[0]
	}
	if c.BindTo == "" {
		c.BindTo = "core"
	}
	if c.BindTo != "core" && c.BindTo != "none" {
		return c, fmt.Errorf("launcher: --bind-to %q: want core or none", c.BindTo)
	}
	if !slices.Contains(bootstrap.Transports, c.Transport) {
		return c, fmt.Errorf("launcher: unknown transport %q (known: %v)", c.Transport, bootstrap.Transports)
	}
	if len(c.LaunchAgent) == 0 {
		c.LaunchAgent = []string{"ssh"}
	}
	if c.Timeout < 0 {
		return c, fmt.Errorf("launcher: negative timeout %v", c.Timeout)
	}
	if c.Grace <= 0 {
		c.Grace = DefaultGrace
	}
	if c.Stdout == nil {
		c.Stdout = os.Stdout
	}
	if c.Stderr == nil {
		c.Stderr = os.Stderr
	}
	return c, nil
}
