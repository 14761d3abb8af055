package launcher

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"
)

// MaxLine is the longest line forwarded whole. A longer line is forwarded in pieces of
// MaxLine bytes (the last one shorter), each ended by a newline and tagged like a line, so
// that the launcher's memory stays bounded and a rank writing an endless line cannot hold
// the terminal.
const MaxLine = 1 << 20

// TimestampLayout is the time format --timestamp-output puts before each line (local time,
// taken when the launcher reads the line).
const TimestampLayout = "2006-01-02T15:04:05.000000"

// sink is a destination shared by several forwarders: every write is one or more whole lines,
// made under mu, so lines from different ranks never interleave.
type sink struct {
	mu sync.Mutex // guards w and err; held for whole-line writes only
	w  io.Writer
	// err is the first write error; later output is dropped (and pipes still drained, so a
	// rank never blocks on a dead terminal).
	err error
}

func (s *sink) write(p []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return
	}
	if _, err := s.w.Write(p); err != nil {
		s.err = err
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
			f.dst.write(out)
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
	out = append(out, f.tag...)
	out = append(out, stamp...)
	out = append(out, line...)
	return append(out, '\n')
}
