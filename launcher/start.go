package launcher

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/gompi/gompi/bootstrap"
)

// start starts every rank. On error, the ranks already started are left for the caller to kill.
func (r *runner) start() (int, error) {
	r.events = make(chan exitEvent, len(r.slots))
	if err := checkDescriptors(len(r.slots)); err != nil {
		return ExitLaunchFailed, err
	}
	for _, s := range r.slots {
		p := &proc{slot: s, exit: RankExit{Rank: s.Rank, Host: s.Host, Status: -1}}
		r.procs = append(r.procs, p)
		if err := r.startRank(p); err != nil {
			code := ExitLaunchFailed
			switch {
			case errors.Is(err, exec.ErrNotFound), errors.Is(err, fs.ErrNotExist):
				code = ExitNotFound
			case errors.Is(err, fs.ErrPermission), errors.Is(err, syscall.ENOEXEC):
				code = ExitNotRunnable
			}
			return code, fmt.Errorf("launcher: start rank %d on %s: %w", s.Rank, s.Host, err)
		}
	}
	return ExitOK, nil
}

func (r *runner) startRank(p *proc) error {
	s := p.slot
	gompi := r.job.gompiEnv(s)
	var cmd *exec.Cmd
	if s.Local {
		cmd = exec.Command(r.program, r.cfg.Args...)
		cmd.Env = localEnv(r.user, gompi)
	} else {
		env := append([]string{}, r.user...)
		for _, kv := range gompi {
			if !strings.HasPrefix(kv, bootstrap.EnvSecret+"=") { // sent on stdin, see agentArgs
				env = append(env, kv)
			}
		}
		argv := agentArgs(r.cfg.LaunchAgent, s.Host, env, r.program, r.cfg.Args)
		cmd = exec.Command(argv[0], argv[1:]...)
	}
	// Own process group, so that stopping the rank reaches its children too; killed if the
	// launcher dies, so that no rank outlives it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}

	var closeAfterStart []*os.File
	defer func() {
		for _, f := range closeAfterStart {
			f.Close()
		}
	}()
	type stream struct {
		rd   *os.File
		dst  *sink
		tag  bool
		name string
	}
	var streams []stream
	for _, name := range []string{"stdout", "stderr"} {
		rd, wr, err := os.Pipe()
		if err != nil {
			return err
		}
		closeAfterStart = append(closeAfterStart, wr)
		p.pipes = append(p.pipes, rd)
		dst, tag := r.stdout, r.cfg.TagOutput
		if name == "stderr" {
			cmd.Stderr, dst = wr, r.stderr
		} else {
			cmd.Stdout = wr
		}
		if r.cfg.OutputDir != "" {
			f, err := os.Create(filepath.Join(r.cfg.OutputDir, fmt.Sprintf("rank.%d.%s", s.Rank, name)))
			if err != nil {
				return fmt.Errorf("output file: %w", err)
			}
			r.undo = append(r.undo, func() { f.Close() })
			dst, tag = &sink{w: f}, false
		}
		streams = append(streams, stream{rd, dst, tag, name})
	}
	userStdin := s.Rank == 0 && r.cfg.Stdin != nil
	if userStdin || !s.Local {
		rd, wr, err := os.Pipe()
		if err != nil {
			return err
		}
		closeAfterStart = append(closeAfterStart, rd)
		cmd.Stdin = rd
		p.stdinW = wr
	}
	if err := cmd.Start(); err != nil {
		if p.stdinW != nil {
			p.stdinW.Close()
		}
		return err
	}
	p.cmd, p.started, p.exit.PID = cmd, true, cmd.Process.Pid
	if !s.Local {
		// A remote rank's first line of input is the job secret (agentArgs); 65 bytes fit
		// the pipe, so this does not block. A rank that has died already makes it fail, and
		// its exit is reported like any other.
		_, _ = io.WriteString(p.stdinW, r.job.secret+"\n")
		if !userStdin {
			p.stdinW.Close()
			p.stdinW = nil
		}
	}
	if r.cfg.Verbose {
		// The secret is not for terminals or logs.
		line := strings.ReplaceAll(strings.Join(cmd.Args, " "), r.job.secret, "<secret>")
		r.verbose("rank %d%s: pid %d: %s", s.Rank, r.where(p), cmd.Process.Pid, line)
	}
	p.drained = make(chan struct{})
	var mine sync.WaitGroup
	for _, st := range streams {
		f := newForwarder(st.dst, s.Rank, st.tag, r.cfg.TimestampOutput)
		if name := st.name; name == "stderr" {
			f.panicTag(s.Rank)
			f.crashed = &p.crashed
		}
		r.readers.Add(1)
		mine.Add(1)
		go func() {
			defer r.readers.Done()
			defer mine.Done()
			f.run(st.rd)
		}()
	}
	go func() {
		mine.Wait()
		close(p.drained)
	}()
	if p.stdinW != nil {
		// Not waited for: reading the launcher's stdin may block for ever (a terminal).
		go func(w *os.File) {
			io.Copy(w, r.cfg.Stdin)
			w.Close()
		}(p.stdinW)
	}
	i := s.Rank
	go func() {
		cmd.Wait() // the status is in cmd.ProcessState
		r.events <- exitEvent{i: i, state: cmd.ProcessState}
	}()
	return nil
}

// Descriptors gompirun holds per rank while the job starts: the read ends of the rank's
// stdout and stderr pipes, the pidfd Go's os/exec waits on, and the rank's connection to the
// bootstrap service (closed once the rank has joined); and a margin for everything else.
const (
	fdsPerRank = 4
	fdsMargin  = 64
)

// checkDescriptors fails, saying what to do, when gompirun's descriptor limit (RLIMIT_NOFILE,
// whose soft limit Go raises to the hard one at start) cannot hold what n ranks need, rather
// than failing at the rank where it runs out, with "too many open files".
func checkDescriptors(n int) error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return nil // unknown: let the start say
	}
	need := uint64(fdsPerRank*n + fdsMargin)
	if lim.Cur >= need {
		return nil
	}
	if lim.Max >= need {
		lim.Cur = need
		if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim) == nil {
			return nil
		}
	}
	return fmt.Errorf("launcher: %d ranks need about %d open files in gompirun (%d per rank and %d more), but its limit is %d (ulimit -n); raise it (ulimit -n %d) or run fewer ranks",
		n, need, fdsPerRank, fdsMargin, lim.Cur, need)
}
