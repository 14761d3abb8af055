// Package launcher starts the ranks of a gompi job and watches over them; cmd/gompirun is its
// command line. It sits beside the library, not in it: it serves the bootstrap store
// (package bootstrap) that the ranks' TCP transport dials, gives every rank the environment of
// DESIGN.md §5, forwards output line by line, and ends the job as a whole when one rank fails,
// the timeout expires or the user interrupts it. docs/LAUNCHER.md is the user's guide.
package launcher

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gompi/gompi/bootstrap"
)

// Result is how a job ended.
type Result struct {
	// ExitCode is what gompirun exits with: ExitOK, the failing rank's Code, ExitTimeout,
	// 128+signal after an interrupt, or one of the launch failure codes.
	ExitCode int
	// Reason says in one line why the job ended when ExitCode is not ExitOK.
	Reason string
	// Ranks holds every rank's end, by rank (empty when the job never started).
	Ranks []RankExit
}

// outputDrain bounds the wait for a rank's output after the job ended: processes that escaped
// the rank's process group may keep its pipes open.
const outputDrain = 5 * time.Second

// Run runs the job described by cfg and returns how it ended. It returns an error, along with
// a Result whose ExitCode says what kind, when the job could not be started (bad
// configuration, build failure, program not found, ...). Cancelling ctx stops the job like
// SIGTERM to gompirun. Run may be called concurrently for separate jobs.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return &Result{ExitCode: ExitUsage, Reason: err.Error()}, err
	}
	r := &runner{
		cfg:    cfg,
		stdout: &sink{w: cfg.Stdout},
		stderr: &sink{w: cfg.Stderr, live: liveTerminal(cfg)},
		slots:  Place(cfg.Hosts, cfg.NP),
	}
	for i := range r.slots {
		if slices.Contains(cfg.localNames, r.slots[i].Host) {
			r.slots[i].Local = true
		}
	}
	if cfg.Slurm != nil {
		r.verbose("%s", cfg.Slurm.describe())
	}
	defer r.cleanup()
	if code, err := r.prepare(); err != nil {
		return &Result{ExitCode: code, Reason: err.Error()}, err
	}
	if code, err := r.start(); err != nil {
		r.stopAll(syscall.SIGKILL)
		r.waitAll()
		return &Result{ExitCode: code, Reason: err.Error(), Ranks: r.exits()}, err
	}
	res := r.watch(ctx)
	r.cleanupStragglers()
	return res, nil
}

// runner is the state of one job.
type runner struct {
	cfg            Config
	stdout, stderr *sink
	slots          []Slot
	program        string   // resolved program
	user           []string // resolved -x entries
	job            job
	server         *bootstrap.Server
	procs          []*proc
	events         chan exitEvent
	readers        sync.WaitGroup // output forwarders
	kept           []*proc        // ranks that failed while the others went on (KeepGoing)
	undo           []func()       // cleanups, run in reverse order
}

// proc is one rank's process.
type proc struct {
	slot    Slot
	cmd     *exec.Cmd
	exit    RankExit
	started bool        // the process was started
	done    bool        // the process has ended and been waited for
	pipes   []*os.File  // read ends of its output pipes (closed if the output never ends)
	stdinW  *os.File    // write end of rank 0's stdin pipe
	crashed atomic.Bool // its standard error began a Go crash report (panic, fatal error)
	// drained is closed once its output has been forwarded to its end (nil if never started)
	drained chan struct{}
}

type exitEvent struct {
	i     int
	state *os.ProcessState
}

func (r *runner) note(format string, args ...any) {
	r.stderr.printf("gompirun: "+format, args...)
}

func (r *runner) verbose(format string, args ...any) {
	if r.cfg.Verbose {
		r.note(format, args...)
	}
}

func (r *runner) cleanup() {
	for i := len(r.undo) - 1; i >= 0; i-- {
		r.undo[i]()
	}
}

// prepare resolves the program, the environment and the bootstrap service.
func (r *runner) prepare() (int, error) {
	var err error
	r.user, err = userEnv(r.cfg.Env, func(s string) { r.verbose("%s", s) })
	if err != nil {
		return ExitUsage, err
	}
	anyLocal := slices.ContainsFunc(r.slots, func(s Slot) bool { return s.Local })
	anyRemote := slices.ContainsFunc(r.slots, func(s Slot) bool { return !s.Local })
	if anyRemote && r.cfg.Transport == "shm" {
		return ExitUsage, fmt.Errorf("launcher: --transport shm needs every rank on this host, but ranks run on other hosts too: use --transport auto (shared memory within a host, TCP across) or tcp")
	}
	if isPackageDir(r.cfg.Program) {
		r.verbose("building %s", r.cfg.Program)
		bin, cleanup, err := buildProgram(r.cfg.Program, r.cfg.BuildTags)
		if err != nil {
			return ExitLaunchFailed, err
		}
		r.undo = append(r.undo, cleanup)
		r.program = bin
	} else {
		code, err := r.resolveProgram(anyLocal, anyRemote)
		if err != nil {
			return code, err
		}
	}
	if r.cfg.OutputDir != "" {
		if err := os.MkdirAll(r.cfg.OutputDir, 0o755); err != nil {
			return ExitLaunchFailed, fmt.Errorf("launcher: output directory: %w", err)
		}
	}

	id := make([]byte, 8)
	secret := make([]byte, 32)
	if _, err := rand.Read(id); err != nil {
		return ExitLaunchFailed, fmt.Errorf("launcher: job id: %w", err)
	}
	if _, err := rand.Read(secret); err != nil {
		return ExitLaunchFailed, fmt.Errorf("launcher: job secret: %w", err)
	}
	addr := "127.0.0.1:0"
	if anyRemote {
		if addr, err = r.bootstrapAddr(); err != nil {
			return ExitLaunchFailed, err
		}
	}
	r.server, err = bootstrap.NewServer(addr, secret)
	if err != nil {
		return ExitLaunchFailed, fmt.Errorf("launcher: bootstrap service: %w", err)
	}
	r.undo = append(r.undo, func() { r.server.Close() })
	host, _, _ := net.SplitHostPort(r.server.Addr())
	if anyRemote {
		host = "" // each rank chooses (gompiEnv)
	}
	r.job = job{
		id:        hex.EncodeToString(id),
		secret:    hex.EncodeToString(secret),
		bootstrap: r.server.Addr(),
		transport: r.cfg.Transport,
		bind:      r.cfg.BindTo,
		localHost: host,
		iface:     r.cfg.Iface,
		size:      len(r.slots),
		verbose:   r.cfg.Verbose,
		terminal:  r.stderr.live,
	}
	if err := r.hangDir(); err != nil {
		r.verbose("no hang reports: %v", err)
	}
	r.verbose("job %s: %d ranks, bootstrap service on %s", r.job.id, len(r.slots), r.job.bootstrap)
	return ExitOK, nil
}

// resolveProgram finds the program like a shell would, and like mpirun also in the current
// directory. Remote ranks get an absolute path when the program is a local file (shared file
// systems), and the bare name otherwise (looked up on the remote host).
func (r *runner) resolveProgram(anyLocal, anyRemote bool) (int, error) {
	p := r.cfg.Program
	if !strings.Contains(p, "/") {
		if _, err := exec.LookPath(p); err == nil {
			r.program = p
			return ExitOK, nil
		}
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			p = "./" + p
		} else if anyLocal {
			return ExitNotFound, fmt.Errorf("launcher: %s: program not found", p)
		} else {
			r.program = p
			return ExitOK, nil
		}
	}
	fi, err := os.Stat(p)
	switch {
	case err != nil && anyLocal:
		return ExitNotFound, fmt.Errorf("launcher: %s: program not found", p)
	case err == nil && anyLocal && (fi.IsDir() || fi.Mode()&0o111 == 0):
		return ExitNotRunnable, fmt.Errorf("launcher: %s: not an executable file (nor a Go package directory)", p)
	}
	if anyRemote && err == nil && !filepath.IsAbs(p) {
		if abs, err := filepath.Abs(p); err == nil {
			p = abs
		}
	}
	r.program = p
	return ExitOK, nil
}

// bootstrapAddr picks where the bootstrap service of a multi-host job listens.
func (r *runner) bootstrapAddr() (string, error) {
	if a := r.cfg.BootstrapAddr; a != "" {
		if _, _, err := net.SplitHostPort(a); err != nil {
			a = net.JoinHostPort(a, "0")
		}
		return a, nil
	}
	var remote string
	for _, s := range r.slots {
		if !s.Local {
			remote = s.Host
			break
		}
	}
	// A UDP "connection" sends nothing; it only asks the kernel which local address routes there.
	var route net.IP
	c, err := net.Dial("udp", net.JoinHostPort(remote, "9"))
	if err == nil {
		route = c.LocalAddr().(*net.UDPAddr).IP
		c.Close()
	}
	if r.cfg.Iface == "" {
		if route == nil {
			return "", fmt.Errorf("launcher: cannot find a local address that reaches host %s (%v); give one with --bootstrap-addr or --iface", remote, err)
		}
		return net.JoinHostPort(route.String(), "0"), nil
	}
	spec, _ := bootstrap.ParseIfaceSpec(r.cfg.Iface) // checked by withDefaults
	ifaces, err := bootstrap.Interfaces()
	if err != nil {
		return "", fmt.Errorf("launcher: %w", err)
	}
	ip, name, err := bootstrap.ChooseAddr(ifaces, spec, route)
	if err != nil {
		return "", fmt.Errorf("launcher: bootstrap service: %w", err)
	}
	r.verbose("bootstrap service on interface %s (--iface %s)", name, r.cfg.Iface)
	return net.JoinHostPort(ip.String(), "0"), nil
}
