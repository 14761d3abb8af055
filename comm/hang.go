package comm

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"

	"github.com/gompi/gompi/internal/waits"
)

// Hang reports. Under gompirun (GOMPI_HANG_DIR set), Init turns on the registry of what the
// rank's goroutines wait for (package waits: a goroutine registers only when it parks, so the
// cost is off the fast path) and answers SIGUSR2 by writing what they wait for now to
// DIR/report.RANK.json; DIR/ready.RANK says it can. gompirun asks every rank on --timeout and
// on SIGQUIT, and prints who waits on whom (docs/LAUNCHER.md, "A hang explains itself"). A
// rank that joined through PMI (srun) answers SIGUSR2 with a line on standard error instead.

// startHangReports sets this rank up to answer hang reports, when gompirun asks for them.
func startHangReports(rank int) {
	dir := os.Getenv(waits.EnvDir)
	if dir == "" {
		return
	}
	waits.Enable()
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGUSR2)
	go func() {
		for range ch {
			writeHangReport(dir, rank)
		}
	}()
	_ = os.WriteFile(filepath.Join(dir, fmt.Sprintf("ready.%d", rank)), nil, 0o600)
}

// startStderrHangReports sets this rank up to answer SIGUSR2 by printing what it waits for as
// one line on standard error, for launchers that cannot gather reports (srun, which forwards
// SIGUSR2 to every task: `scancel --signal=USR2 JOB.STEP`, or kill -USR2 the srun). Without it,
// SIGUSR2 would end the process.
func startStderrHangReports(rank int) {
	waits.Enable()
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGUSR2)
	go func() {
		for range ch {
			fmt.Fprintf(os.Stderr, "gompi: rank %d waits (SIGUSR2): %s\n", rank, hangSnapshot(rank).Text())
		}
	}()
}

// hangSnapshot is what the rank waits for now, with the program's call sites.
func hangSnapshot(rank int) waits.Report {
	rep := waits.Snapshot(rank)
	if len(rep.Waits) > 0 {
		buf := make([]byte, 1<<20)
		rep.Sites = callSites(string(buf[:runtime.Stack(buf, true)]))
	}
	return rep
}

// writeHangReport writes the rank's report, whole or not at all (a rename).
func writeHangReport(dir string, rank int) {
	b, err := json.Marshal(hangSnapshot(rank))
	if err != nil {
		return
	}
	tmp := filepath.Join(dir, fmt.Sprintf(".report.%d.tmp", rank))
	if os.WriteFile(tmp, b, 0o600) == nil {
		_ = os.Rename(tmp, filepath.Join(dir, fmt.Sprintf("report.%d.json", rank)))
	}
}

// originer is a world that knows where its failures began (gompi's engine).
type originer interface {
	Origin() (rank int, left, ok bool)
	TellOrigin()
}

// reportOrigin, when the rank fails because a peer went (err wraps ErrPeerFailed), tells its
// peers still there where the failure began (their errors then name that rank, not only this
// one), and tells gompirun: DIR/blame.RANK holds "PEER left" or "PEER died", the rank where
// the failure began as this rank knows it (the first peer it saw go, or where that peer said
// its own failure began). gompirun names that rank as where the failure began, even when it
// exited with status 0 (a rank that returned early), rather than this rank.
func reportOrigin(rank int, err error) {
	if !errors.Is(err, ErrPeerFailed) {
		return
	}
	g, ok := world.w.(originer)
	if !ok {
		return
	}
	g.TellOrigin()
	dir := os.Getenv(waits.EnvDir)
	if dir == "" {
		return
	}
	peer, left, ok := g.Origin()
	if !ok {
		return
	}
	how := "died"
	if left {
		how = "left"
	}
	_ = os.WriteFile(filepath.Join(dir, fmt.Sprintf("blame.%d", rank)), []byte(fmt.Sprintf("%d %s\n", peer, how)), 0o600)
}

// libraryPrefixes are the packages a parked goroutine's stack passes through between its wait
// and the program's call.
var libraryPrefixes = []string{"github.com/gompi/gompi/internal/", "github.com/gompi/gompi/comm", "github.com/gompi/gompi/collectives", "github.com/gompi/gompi/transport/", "github.com/gompi/gompi/farm", "runtime.", "sync.", "internal/"}

// callSites reads the stacks of every goroutine (runtime.Stack's text) and returns, for each
// one parked on a message (in the engine's request.token), the first call outside gompi's
// library: "main.main.func1 at main.go:19".
func callSites(stacks string) []string {
	var sites []string
	for _, g := range strings.Split(stacks, "\n\n") {
		if !strings.Contains(g, "gompi/internal/engine.(*request).token") {
			continue
		}
		lines := strings.Split(g, "\n")
		for i := 1; i+1 < len(lines); i += 2 {
			fn := lines[i]
			if j := strings.LastIndexByte(fn, '('); j > 0 {
				fn = fn[:j]
			}
			lib := false
			for _, p := range libraryPrefixes {
				if strings.HasPrefix(fn, p) {
					lib = true
					break
				}
			}
			if lib {
				continue
			}
			loc := strings.TrimSpace(lines[i+1])
			if j := strings.LastIndex(loc, " +0x"); j > 0 {
				loc = loc[:j]
			}
			sites = append(sites, fn+" at "+filepath.Base(loc))
			break
		}
	}
	return sites
}
