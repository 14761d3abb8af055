package launcher

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// RunMPI hands the job to OpenMPI's mpirun instead of running it itself (gompirun --mpi): a
// Program that is a Go package directory is built with the mpi build tag (so comm.Init selects
// the OpenMPI backend), then `mpirun --oversubscribe [--allow-run-as-root] -n NP PROGRAM ARGS`
// runs it, with -x, --host/--hostfile, --iface, --tag-output and --timestamp-output translated to
// mpirun's flags of the same meaning. mpirun forwards the output and ends the job when a rank
// fails; gompirun returns its exit code, or ExitTimeout after cfg.Timeout. Inside a Slurm
// allocation (cfg.Slurm) mpirun gets no -n unless cfg.NP is set: it reads the allocation
// itself. Options that only gompirun's own launcher has (--output-dir, --launch-agent,
// --bootstrap-addr, --keep-going) are refused, each by name.
func RunMPI(ctx context.Context, cfg Config) (*Result, error) {
	var only []string
	for _, o := range []struct {
		set  bool
		flag string
	}{{cfg.OutputDir != "", "--output-dir"}, {cfg.BootstrapAddr != "", "--bootstrap-addr"}, {len(cfg.LaunchAgent) > 0, "--launch-agent"}, {cfg.KeepGoing, "--keep-going"}} {
		if o.set {
			only = append(only, o.flag)
		}
	}
	if len(only) > 0 {
		err := fmt.Errorf("launcher: %s: not available with --mpi (mpirun starts and watches the ranks; mpirun picks its own agent for remote ranks: OMPI_MCA_plm_rsh_agent in the environment)", strings.Join(only, ", "))
		return &Result{ExitCode: ExitUsage, Reason: err.Error()}, err
	}
	cfg, slurm, err := mpiDefaults(cfg)
	if err != nil {
		return &Result{ExitCode: ExitUsage, Reason: err.Error()}, err
	}
	if slurm != nil && cfg.Verbose {
		took := fmt.Sprintf("%d ranks, its %d tasks", slurm.Tasks, slurm.Tasks)
		if cfg.NP > 0 {
			took = fmt.Sprintf("%d ranks, as -n says", cfg.NP)
		}
		fmt.Fprintf(cfg.Stderr, "gompirun: inside Slurm job %s: mpirun takes the nodes from the allocation, and %s\n", slurm.JobID, took)
	}
	mpirun, err := exec.LookPath("mpirun")
	if err != nil {
		err = fmt.Errorf("launcher: --mpi needs OpenMPI's mpirun on PATH (Debian: apt-get install openmpi-bin libopenmpi-dev): %w", err)
		return &Result{ExitCode: ExitNotFound, Reason: err.Error()}, err
	}
	prog := cfg.Program
	if isPackageDir(prog) {
		bin, cleanup, err := buildProgram(prog, append([]string{"mpi"}, cfg.BuildTags...))
		if err != nil {
			return &Result{ExitCode: ExitLaunchFailed, Reason: err.Error()}, err
		}
		defer cleanup()
		prog = bin
	}
	args := mpirunArgs(cfg, os.Geteuid() == 0, prog)
	if cfg.Verbose {
		fmt.Fprintf(cfg.Stderr, "gompirun: %s %s\n", mpirun, strings.Join(args, " "))
	}
	if cfg.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cfg.Timeout)
		defer cancel()
	}
	cmd := exec.Command(mpirun, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = cfg.Stdin, cfg.Stdout, cfg.Stderr
	if err := cmd.Start(); err != nil {
		err = fmt.Errorf("launcher: start mpirun: %w", err)
		return &Result{ExitCode: ExitLaunchFailed, Reason: err.Error()}, err
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	res := &Result{}
	var got os.Signal
	for {
		select {
		case err := <-waited:
			if ctx.Err() == context.DeadlineExceeded {
				res.ExitCode, res.Reason = ExitTimeout, fmt.Sprintf("timeout after %v", cfg.Timeout)
				fmt.Fprintf(cfg.Stderr, "gompirun: %s; mpirun stopped\n", res.Reason)
				return res, nil
			}
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				ws := ee.Sys().(syscall.WaitStatus)
				res.ExitCode = ws.ExitStatus()
				if ws.Signaled() {
					res.ExitCode = ExitSignalBase + int(ws.Signal())
				}
				res.Reason = "mpirun " + ee.ProcessState.String()
			} else if err != nil {
				return &Result{ExitCode: ExitLaunchFailed, Reason: err.Error()}, err
			}
			if got != nil {
				res.ExitCode = ExitSignalBase + int(got.(syscall.Signal))
			}
			return res, nil
		case <-ctx.Done():
			// mpirun ends its ranks on SIGTERM; SIGKILL follows after the grace period.
			cmd.Process.Signal(syscall.SIGTERM)
			grace := time.AfterFunc(cfg.Grace, func() { cmd.Process.Kill() })
			defer grace.Stop()
			ctx = context.Background()
		case s := <-cfg.Signals:
			got = s
			cmd.Process.Signal(s)
		}
	}
}

// mpiDefaults is cfg with the defaults of a job handed to mpirun. Inside a Slurm allocation
// mpirun reads the allocation itself (its ras/slurm component), so it is given no -n or
// --host of gompirun's making, only those the user gave: NP stays 0 unless set.
func mpiDefaults(cfg Config) (Config, *SlurmAllocation, error) {
	slurm, userNP := cfg.Slurm, cfg.NP
	cfg.Slurm = nil
	cfg, err := cfg.withDefaults()
	if err == nil && slurm != nil && userNP == 0 {
		cfg.NP = 0
	}
	return cfg, slurm, err
}

// mpirunArgs translates cfg into mpirun's command line; NP 0 gives no -n (mpirun's own
// default: the slots of a Slurm allocation).
func mpirunArgs(cfg Config, root bool, prog string) []string {
	args := []string{"--oversubscribe"}
	if root {
		args = append(args, "--allow-run-as-root")
	}
	if cfg.NP > 0 {
		args = append(args, "-n", strconv.Itoa(cfg.NP))
	}
	if cfg.Iface != "" {
		// OpenMPI takes the same names and CIDR blocks, as an include or an exclude list,
		// for its TCP messages (btl) and its run-time's (oob).
		kind, list := "include", cfg.Iface
		if rest, ok := strings.CutPrefix(list, "^"); ok {
			kind, list = "exclude", rest
		}
		args = append(args, "--mca", "btl_tcp_if_"+kind, list, "--mca", "oob_tcp_if_"+kind, list)
	}
	if cfg.TagOutput {
		args = append(args, "--tag-output")
	}
	if cfg.TimestampOutput {
		args = append(args, "--timestamp-output")
	}
	for _, e := range cfg.Env {
		args = append(args, "-x", e)
	}
	if len(cfg.Hosts) > 0 {
		var hs []string
		for _, h := range cfg.Hosts {
			hs = append(hs, h.Name+":"+strconv.Itoa(h.Slots))
		}
		args = append(args, "--host", strings.Join(hs, ","))
	}
	args = append(args, prog)
	return append(args, cfg.Args...)
}
