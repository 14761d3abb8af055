package comm

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/gompi/gompi/internal/waits"
)

// Hang reports. Under gompirun (GOMPI_HANG_DIR set), Init turns on the registry of what the
// rank's goroutines wait for (package waits: a goroutine registers only when it parks, so the
// cost is off the fast path) and answers SIGUSR2 by writing what they wait for now to
// DIR/report.RANK.json; DIR/ready.RANK says it can. gompirun asks every rank on --timeout and
// on SIGQUIT, and prints who waits on whom (docs/LAUNCHER.md, "A hang explains itself").

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

// writeHangReport writes the rank's report, whole or not at all (a rename).
func writeHangReport(dir string, rank int) {
	b, err := json.Marshal(waits.Snapshot(rank))
	if err != nil {
		return
	}
	tmp := filepath.Join(dir, fmt.Sprintf(".report.%d.tmp", rank))
	if os.WriteFile(tmp, b, 0o600) == nil {
		_ = os.Rename(tmp, filepath.Join(dir, fmt.Sprintf("report.%d.json", rank)))
	}
}

// firstGoner is a world that knows which peer went first (gompi's engine).
type firstGoner interface {
	FirstGone() (peer int, graceful, ok bool)
}

// writeBlame tells gompirun, when the rank fails because a peer went (err wraps
// ErrPeerFailed), which peer this rank saw go first and whether it finalized: DIR/blame.RANK
// holds "PEER left" or "PEER died". gompirun names that peer as where the failure began, even
// when it exited with status 0 (a rank that returned early), rather than this rank.
func writeBlame(rank int, err error) {
	dir := os.Getenv(waits.EnvDir)
	if dir == "" || !errors.Is(err, ErrPeerFailed) {
		return
	}
	g, ok := world.w.(firstGoner)
	if !ok {
		return
	}
	peer, graceful, ok := g.FirstGone()
	if !ok {
		return
	}
	how := "died"
	if graceful {
		how = "left"
	}
	_ = os.WriteFile(filepath.Join(dir, fmt.Sprintf("blame.%d", rank)), []byte(fmt.Sprintf("%d %s\n", peer, how)), 0o600)
}
