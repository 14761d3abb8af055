package launcher

import (
	"fmt"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// Exit codes of a job (and of gompirun). A rank's own code passes through unchanged, so a
// rank that exits 124..127 on its own reads like the codes below; the message on standard
// error tells them apart.
const (
	ExitOK           = 0   // every rank exited with status 0
	ExitUsage        = 2   // bad command line (gompirun only)
	ExitTimeout      = 124 // --timeout expired; the ranks still running were stopped (as timeout(1))
	ExitLaunchFailed = 125 // the launcher itself failed: build, bootstrap service, output files, ...
	ExitNotRunnable  = 126 // the program exists but cannot be executed
	ExitNotFound     = 127 // the program was not found
	ExitSignalBase   = 128 // 128+N: the failing rank died by signal N, or gompirun got signal N
)

// RankExit is how one rank ended.
type RankExit struct {
	Rank    int
	Host    string
	PID     int            // process id on this machine (the launch agent's, for remote ranks); 0 if never started
	Status  int            // exit status; -1 when killed by a signal or never started
	Signal  syscall.Signal // the signal that killed it, or 0
	Stopped bool           // the launcher was stopping the job when the rank ended (another rank failed, timeout, interrupt)
}

// Failed reports whether the rank ended with a non-zero status or by a signal.
func (e RankExit) Failed() bool { return e.Status != 0 }

// Code is the exit code that stands for this rank's end: its status, or 128+signal.
func (e RankExit) Code() int {
	if e.Signal != 0 {
		return ExitSignalBase + int(e.Signal)
	}
	return e.Status
}

// How describes the end in words: "exited with status 3", "was killed by signal 9 (SIGKILL)".
func (e RankExit) How() string {
	if e.Signal != 0 {
		return "was killed by signal " + signalName(e.Signal)
	}
	return fmt.Sprintf("exited with status %d", e.Status)
}

func signalName(s syscall.Signal) string {
	if name := unix.SignalName(s); name != "" {
		return fmt.Sprintf("%d (%s)", int(s), name)
	}
	return fmt.Sprintf("%d", int(s))
}

// exitOf fills Status and Signal from a finished process.
func exitOf(e *RankExit, st *os.ProcessState) {
	e.Status, e.Signal = -1, 0
	if st == nil {
		return
	}
	if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		e.Signal = ws.Signal()
		return
	}
	e.Status = st.ExitCode()
}
