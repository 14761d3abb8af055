package farm

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// display shows the progress of a farm's maps, and its notices, on Options.Output.
type display struct {
	mode Progress // ProgressBar, ProgressLines or ProgressOff: Auto is resolved
	out  io.Writer
	mu   sync.Mutex // guards writes to out and every bar's counts; taken after Farm.mu when both are held
}

// newDisplay resolves ProgressAuto: a bar on a terminal, lines elsewhere.
func newDisplay(mode Progress, out io.Writer) *display {
	if mode == ProgressAuto {
		mode = ProgressLines
		if isTerminal(out) {
			mode = ProgressBar
		}
	}
	return &display{mode: mode, out: out}
}

// stderrTerminal is the variable by which gompirun tells a rank that its standard error (a
// pipe to gompirun) reaches a terminal a piece at a time (bootstrap.EnvStderrTerminal).
const stderrTerminal = "GOMPI_STDERR_TERMINAL"

// isTerminal reports whether w is a terminal, or is standard error in a rank that gompirun
// says reaches its terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if ok && f == os.Stderr && os.Getenv(stderrTerminal) == "1" {
		return true
	}
	return ok && term.IsTerminal(int(f.Fd()))
}

// bar is the progress of one map.
type bar struct {
	d      *display
	name   string
	total  int
	done   int                      // guarded by d.mu
	tenths int                      // tenths of the way printed so far (lines); guarded by d.mu
	pb     *progressbar.ProgressBar // when drawing a bar
}

// start begins showing a map of total tasks.
func (d *display) start(name string, total int) *bar {
	b := &bar{d: d, name: name, total: total}
	if d.mode == ProgressBar && total > 0 {
		d.mu.Lock()
		b.pb = progressbar.NewOptions(total,
			progressbar.OptionSetWriter(d.out),
			progressbar.OptionSetDescription(name),
			progressbar.OptionShowCount(),
			progressbar.OptionSetItsString("tasks"),
			progressbar.OptionShowIts(),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(50*time.Millisecond),
			progressbar.OptionSetWidth(30),
			progressbar.OptionSetRenderBlankState(true),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(d.out) }),
		)
		d.mu.Unlock()
	}
	return b
}

// add counts n more tasks done. Lines are printed at every tenth of the way and at the end.
func (b *bar) add(n int) {
	d := b.d
	if d.mode == ProgressOff || b.total == 0 {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	b.done += n
	if b.pb != nil {
		_ = b.pb.Add(n)
		return
	}
	if t := b.done * 10 / b.total; t > b.tenths || b.done == b.total {
		b.tenths = t
		fmt.Fprintf(d.out, "%s: %d/%d\n", b.name, b.done, b.total)
	}
}

// finish ends the display of a map; ok is false when it stopped before every task was done.
func (b *bar) finish(ok bool) {
	d := b.d
	if d.mode == ProgressOff || b.total == 0 {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case b.pb != nil && ok:
		if !b.pb.IsFinished() {
			_ = b.pb.Finish()
		}
	case b.pb != nil:
		_ = b.pb.Exit()
		fmt.Fprintf(d.out, "\n%s: stopped at %d/%d\n", b.name, b.done, b.total)
	case !ok:
		fmt.Fprintf(d.out, "%s: stopped at %d/%d\n", b.name, b.done, b.total)
	}
}

// notice writes a line of the farm's own, whatever the progress mode.
func (d *display) notice(msg string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.mode == ProgressBar {
		fmt.Fprint(d.out, "\r\033[2K") // over the bar; the next update draws it again
	}
	fmt.Fprintln(d.out, msg)
}
