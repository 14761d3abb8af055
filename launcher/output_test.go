package launcher

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// chunkReader returns data in reads of the given sizes, cycling through them.
type chunkReader struct {
	data  []byte
	sizes []int
	i     int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := min(r.sizes[r.i%len(r.sizes)], len(r.data), len(p))
	r.i++
	copy(p, r.data[:n])
	r.data = r.data[n:]
	return n, nil
}

func forward(t *testing.T, input string, sizes []int, tag, stamp bool) string {
	t.Helper()
	var out bytes.Buffer
	f := newForwarder(&sink{w: &out}, 3, tag, stamp)
	f.now = func() time.Time { return time.Date(2025, 1, 2, 3, 4, 5, 6000, time.Local) }
	f.run(&chunkReader{data: []byte(input), sizes: sizes})
	return out.String()
}

func TestForwarderLines(t *testing.T) {
	cases := []struct {
		name       string
		in         string
		tag, stamp bool
		want       string
	}{
		{"plain", "a\nbb\n", false, false, "a\nbb\n"},
		{"tagged", "a\nbb\n", true, false, "[3] a\n[3] bb\n"},
		{"final line without newline", "a\nlast", true, false, "[3] a\n[3] last\n"},
		{"empty lines kept", "\n\nx\n", true, false, "[3] \n[3] \n[3] x\n"},
		{"nothing", "", true, false, ""},
		{"timestamped", "a\n", true, true, "[3] 2025-01-02T03:04:05.000006 a\n"},
		{"timestamped final line", "a", false, true, "2025-01-02T03:04:05.000006 a\n"},
	}
	for _, tc := range cases {
		for _, sizes := range [][]int{{1}, {2, 3}, {1 << 20}} {
			if got := forward(t, tc.in, sizes, tc.tag, tc.stamp); got != tc.want {
				t.Errorf("%s, reads of %v bytes: got %q, want %q", tc.name, sizes, got, tc.want)
			}
		}
	}
}

func TestForwarderLongLine(t *testing.T) {
	long := strings.Repeat("x", 2*MaxLine+10)
	got := forward(t, "a\n"+long+"\nb\n", []int{65536, 1000, 7}, true, false)
	want := "[3] a\n[3] " + long[:MaxLine] + "\n[3] " + long[MaxLine:2*MaxLine] + "\n[3] " + long[2*MaxLine:] + "\n[3] b\n"
	if got != want {
		t.Fatalf("long line: got %d bytes, want %d (split at MaxLine)", len(got), len(want))
	}
}

func TestForwarderReadError(t *testing.T) {
	var out bytes.Buffer
	f := newForwarder(&sink{w: &out}, 0, false, false)
	f.run(io.MultiReader(strings.NewReader("whole\npart"), iotest.ErrReader(io.ErrClosedPipe)))
	if got := out.String(); got != "whole\npart\n" {
		t.Fatalf("got %q, want the whole line and the part", got)
	}
}

// A sink whose writer fails drops later output but does not stop the forwarder from reading.
func TestSinkWriteErrorDrains(t *testing.T) {
	s := &sink{w: errWriter{}}
	f := newForwarder(s, 0, false, false)
	r := &chunkReader{data: bytes.Repeat([]byte("line\n"), 10000), sizes: []int{100}}
	f.run(r)
	if len(r.data) != 0 {
		t.Fatalf("forwarder stopped reading with %d bytes left", len(r.data))
	}
	if s.err == nil {
		t.Fatal("sink did not record the write error")
	}
}

type errWriter struct{}

func (errWriter) Write([]byte) (int, error) { return 0, io.ErrClosedPipe }

// A line of exactly MaxLine bytes is one line, wherever the reads cut it.
func TestForwarderExactMaxLine(t *testing.T) {
	line := strings.Repeat("y", MaxLine)
	for _, sizes := range [][]int{{MaxLine}, {65536}, {MaxLine - 1, 5}} {
		if got := forward(t, line+"\n", sizes, false, false); got != line+"\n" {
			t.Errorf("reads of %v: got %d bytes in %d lines, want one line of %d", sizes, len(got), strings.Count(got, "\n"), MaxLine)
		}
	}
}

// writeLog records each Write and signals it.
type writeLog struct {
	writes chan string
}

func (w *writeLog) Write(p []byte) (int, error) {
	w.writes <- string(p)
	return len(p), nil
}

// TestSinkLiveProgress: on a terminal (sink.live) a rank's line that redraws itself with
// carriage returns is forwarded a piece at a time, without a newline; a line from another rank
// or from the launcher first ends it; on a sink that is not live the same pieces wait for
// their newline.
func TestSinkLiveProgress(t *testing.T) {
	log := &writeLog{writes: make(chan string, 16)}
	s := &sink{w: log, live: true}
	ra, wa := io.Pipe()
	rb, wb := io.Pipe()
	fa, fb := newForwarder(s, 0, false, false), newForwarder(s, 1, false, false)
	done := make(chan struct{}, 2)
	go func() { fa.run(ra); done <- struct{}{} }()
	go func() { fb.run(rb); done <- struct{}{} }()
	expect := func(step string, want ...string) {
		t.Helper()
		for _, w := range want {
			if got := <-log.writes; got != w {
				t.Fatalf("%s: wrote %q, want %q", step, got, w)
			}
		}
	}
	io.WriteString(wa, "before\n\rbar 1")
	expect("a line, then a bar", "before\n", "\rbar 1")
	io.WriteString(wa, "\rbar 2")
	expect("the bar redrawn", "\rbar 2")
	io.WriteString(wb, "other\n")
	expect("another rank's line ends the bar's", "\n", "other\n")
	io.WriteString(wa, "\rbar 3")
	expect("the bar again", "\rbar 3")
	io.WriteString(wa, "\rbar 4\n")
	expect("the bar's last state and its newline", "\rbar 4\n")
	io.WriteString(wa, "\rbar 5")
	expect("a new bar", "\rbar 5")
	s.printf("gompirun: a message")
	expect("the launcher's line ends the bar's", "\n", "gompirun: a message\n")
	wa.Close()
	wb.Close()
	<-done
	<-done

	var out bytes.Buffer
	f := newForwarder(&sink{w: &out}, 0, false, false)
	f.run(&chunkReader{data: []byte("\rbar 1\rbar 2\n"), sizes: []int{6}})
	if got := out.String(); got != "\rbar 1\rbar 2\n" {
		t.Errorf("not live: %q", got)
	}
}

// TestForwarderPanicTagged: a rank's Go crash report on standard error is tagged with its rank
// from its first line to the end, without --tag-output; lines before it are not; with
// --tag-output the usual tag alone.
func TestForwarderPanicTagged(t *testing.T) {
	in := "working\npanic: boom\n\ngoroutine 1 [running]:\nmain.main()\n\t/x/main.go:9 +0x1d\n"
	var out bytes.Buffer
	f := newForwarder(&sink{w: &out}, 2, false, false)
	f.panicTag(2)
	f.run(&chunkReader{data: []byte(in), sizes: []int{7}})
	want := "working\n[rank 2] panic: boom\n[rank 2] \n[rank 2] goroutine 1 [running]:\n[rank 2] main.main()\n[rank 2] \t/x/main.go:9 +0x1d\n"
	if out.String() != want {
		t.Errorf("got %q, want %q", out.String(), want)
	}
	out.Reset()
	f = newForwarder(&sink{w: &out}, 2, true, false)
	f.panicTag(2)
	f.run(strings.NewReader("fatal error: all goroutines are asleep - deadlock!\n"))
	if want := "[2] fatal error: all goroutines are asleep - deadlock!\n"; out.String() != want {
		t.Errorf("tagged: got %q, want %q", out.String(), want)
	}
}
