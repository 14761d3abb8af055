package launcher

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/term"
)

// MaxLine is the longest line forwarded whole. A longer line is forwarded in pieces of
// MaxLine bytes (the last one shorter), each ended by a newline and tagged like a line, so
// that the launcher's memory stays bounded and a rank writing an endless line cannot hold
// the terminal.
const MaxLine = 1 << 20

// TimestampLayout is the time format --timestamp-output puts before each line (local time,
// taken when the launcher reads the line).
const TimestampLayout = "2006-01-02T15:04:05.000000"

// liveTerminal reports whether the ranks' standard error goes to a terminal as it is written
// (not tagged, stamped or to files), so that a progress bar can be drawn there (sink.live).
func liveTerminal(cfg Config) bool {
	f, ok := cfg.Stderr.(*os.File)
	return ok && !cfg.TagOutput && !cfg.TimestampOutput && cfg.OutputDir == "" && term.IsTerminal(int(f.Fd()))
}

// sink is a destination shared by several forwarders: every write is one or more whole lines,
// made under mu, so lines from different ranks never interleave.
type sink struct {
	mu sync.Mutex // guards w, err and open; held for whole-line writes only
	w  io.Writer
	// err is the first write error; later output is dropped (and pipes still drained, so a
	// rank never blocks on a dead terminal).
	err error
	// live: w is a terminal, and a rank's line that redraws itself (a progress bar: pieces
	// that start with a carriage return, and no newline until it is done) is forwarded piece
	// by piece (see forwarder.run). openBy is the forwarder whose line the terminal's cursor
	// is in, nil when at the start of a line; another writer first ends that line, so that
	// lines are never glued to a bar.
	live   bool
	openBy *forwarder
}

// write writes whole lines of the launcher's own.
func (s *sink) write(p []byte) { s.writeFrom(nil, p, false) }

// writeFrom writes p for forwarder f (nil: the launcher); open says p leaves f's line
// unfinished (a piece of a redrawing line).
func (s *sink) writeFrom(f *forwarder, p []byte, open bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil || len(p) == 0 {
		return
	}
	if s.openBy != nil && (s.openBy != f || f == nil) {
		if _, err := s.w.Write([]byte{'\n'}); err != nil {
			s.err = err
			return
		}
		s.openBy = nil
	}
	if _, err := s.w.Write(p); err != nil {
		s.err = err
	}
	s.openBy = nil
	if open {
		s.openBy = f
	}
}

// printf writes a launcher message as one whole line.
func (s *sink) printf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if !bytes.HasSuffix([]byte(msg), []byte("\n")) {
		msg += "\n"
	}
	s.write([]byte(msg))
}

// forwarder copies one stream of one rank to a sink, line by line.
type forwarder struct {
	dst       *sink
	tag       []byte // "[rank] " or nil
	timestamp bool
	now       func() time.Time // clock for timestamps (tests replace it)
	// rankTag is "[rank] " for a stream whose crash report (a Go panic or fatal error) is tagged
	// with its rank even without --tag-output (panicTag); panicking: the report has begun,
	// and every line from there on (the goroutines' stacks) is tagged.
	rankTag   []byte
	panicking bool
	crashed   *atomic.Bool // set when a crash report begins (the rank's proc.crashed), or nil
}

// panicTag makes f tag a Go crash report with the rank (a standard error stream): from a line
// that starts "panic: " or "fatal error: " on, every line is tagged, so that the report of a
// rank that crashed says which rank it was, as its own output without --tag-output does not.
func (f *forwarder) panicTag(rank int) {
	f.rankTag = []byte("[rank " + strconv.Itoa(rank) + "] ")
}

func newForwarder(dst *sink, rank int, tag, timestamp bool) *forwarder {
	f := &forwarder{dst: dst, timestamp: timestamp, now: time.Now}
	if tag {
		f.tag = []byte("[" + strconv.Itoa(rank) + "] ")
	}
	return f
}

// run reads r until EOF or an error and forwards every line, batching the whole lines of each
// read into one write. A final line without a newline is forwarded with one added.
func (f *forwarder) run(r io.Reader) {
	buf := make([]byte, 64<<10)
	var partial []byte // the unfinished line so far
	var out []byte     // the batch for one write
	for {
		n, err := r.Read(buf)
		data := buf[:n]
		out = out[:0]
		var stamp []byte
		if f.timestamp && n > 0 {
			stamp = append(f.now().AppendFormat(nil, TimestampLayout), ' ')
		}
		for len(data) > 0 {
			i := bytes.IndexByte(data, '\n')
			if i < 0 {
				partial = append(partial, data...)
				out, partial = f.appendPieces(out, stamp, partial)
				if f.dst.live && f.tag == nil && stamp == nil && bytes.IndexByte(partial, '\r') >= 0 {
					// A line that redraws itself on a terminal: forward what there is now
					// (after the whole lines before it), and the rest as it comes.
					f.dst.writeFrom(f, out, false)
					out = out[:0]
					f.dst.writeFrom(f, partial, true)
					partial = partial[:0]
				}
				break
			}
			if len(partial) > 0 {
				partial = append(partial, data[:i]...)
				out, partial = f.appendPieces(out, stamp, partial)
				out = f.appendLine(out, stamp, partial)
				partial = partial[:0]
			} else {
				out = f.appendLine(out, stamp, data[:i])
			}
			data = data[i+1:]
		}
		if err != nil && len(partial) > 0 {
			if stamp == nil && f.timestamp {
				stamp = append(f.now().AppendFormat(nil, TimestampLayout), ' ')
			}
			out = f.appendLine(out, stamp, partial)
			partial = nil
		}
		if len(out) > 0 {
			f.dst.writeFrom(f, out, false)
		}
		if len(partial) == 0 && cap(partial) > 4*len(buf) {
			partial = nil // let a long line's memory go
		}
		if err != nil {
			return
		}
	}
}

// appendPieces forwards MaxLine-byte pieces of line while more than MaxLine bytes remain
// (a line of L bytes goes out as ceil(L/MaxLine) pieces) and returns the rest.
func (f *forwarder) appendPieces(out, stamp, line []byte) ([]byte, []byte) {
	for len(line) > MaxLine {
		out = f.appendLine(out, stamp, line[:MaxLine])
		line = line[MaxLine:]
	}
	return out, line
}

func (f *forwarder) appendLine(out, stamp, line []byte) []byte {
	if f.rankTag != nil && f.tag == nil && !f.panicking &&
		(bytes.HasPrefix(line, []byte("panic: ")) || bytes.HasPrefix(line, []byte("fatal error: "))) {
		f.panicking = true
		if f.crashed != nil {
			f.crashed.Store(true)
		}
	}
	if f.panicking && f.tag == nil {
		out = append(out, f.rankTag...)
	}
	out = append(out, f.tag...)
	out = append(out, stamp...)
	out = append(out, line...)
	return append(out, '\n')
}
