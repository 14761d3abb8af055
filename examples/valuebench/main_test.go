package main

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/transport/inproc"
)

// TestValueSmall runs the benchmark in-process on every kind of value, small.
func TestValueSmall(t *testing.T) {
	for _, kind := range []string{"struct", "floats", "string", "map"} {
		var out strings.Builder
		err := inproc.Run(3, func(c *comm.Comm) error { return run(c, kind, 3<<20+5, &syncWriter{b: &out}) })
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		if lines := strings.Split(strings.TrimSpace(out.String()), "\n"); len(lines) != 2 || !lineRE.MatchString(lines[0]) || !lineRE.MatchString(lines[1]) {
			t.Errorf("%s: output %q", kind, out.String())
		}
	}
}

// syncWriter lets the ranks of an in-process job print into one builder.
type syncWriter struct {
	mu sync.Mutex
	b  *strings.Builder
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// TestCheckFindsDamage flips one byte of a filled buffer and expects check to name it.
func TestCheckFindsDamage(t *testing.T) {
	b := make([]byte, 3*block+100)
	fill(b)
	if err := check(b); err != nil {
		t.Fatalf("intact: %v", err)
	}
	if err := check(string(b)); err != nil {
		t.Fatalf("intact string: %v", err)
	}
	b[2*block+7] ^= 1
	if err := check(b); err == nil || !strings.Contains(err.Error(), "byte "+strconv.Itoa(2*block+7)) {
		t.Errorf("flipped byte %d: %v", 2*block+7, err)
	}
}

// TestValue3GiBRoundTrip (issue 12, acceptance 4): a 3 GiB value, a struct holding a []byte,
// goes from rank 0 to rank 1 and back in-process, and arrives whole both ways. The way back
// lands in rank 0's original slice, cleared first (RecvValue reuses a slice with room enough,
// as gob does), so the job never holds more than two copies: 6 GiB.
func TestValue3GiBRoundTrip(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 3 GiB each way and needs 6 GiB of memory")
	}
	if raceEnabled {
		t.Skip("the race detector's shadow memory for 6 GiB of values does not fit")
	}
	const n = 3 << 30
	err := inproc.Run(2, func(c *comm.Comm) error {
		if c.Rank() == 1 {
			var got Record
			if _, err := c.RecvValue(&got, 0, 1); err != nil {
				return err
			}
			if err := checkSample(got, n); err != nil {
				return err
			}
			return c.SendValue(got, 0, 2)
		}
		v := makeValue("struct", n).(Record)
		if err := c.SendValue(v, 1, 1); err != nil {
			return err
		}
		clear(v.Data)
		back := Record{Data: v.Data[:0]}
		st, err := c.RecvValue(&back, 1, 2)
		if err != nil {
			return err
		}
		if st.Bytes < n {
			t.Errorf("status says %d bytes, want at least %d", st.Bytes, n)
		}
		if &back.Data[0] != &v.Data[0] {
			t.Errorf("the way back did not reuse the destination's slice")
		}
		return checkSample(back, n)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// checkSample checks r's fields, and the bytes of every 16th block of its Data and of its last
// block: a block that landed in the wrong place, or did not land, is seen, at an eighth of the
// cost of checking every byte.
func checkSample(r Record, n int) error {
	if r.Name != "valuebench" || r.Step != 42 || len(r.Data) != n {
		return fmt.Errorf("received Record{Name %q, Step %d, %d bytes of Data}, want {valuebench, 42, %d}", r.Name, r.Step, len(r.Data), n)
	}
	want := make([]byte, block)
	last := (n - 1) / block
	for k := 0; k <= last; k++ {
		if k%16 != 0 && k != last {
			continue
		}
		p := r.Data[k*block : min(n, (k+1)*block)]
		blockOf(k, want[:len(p)])
		if !bytes.Equal(p, want[:len(p)]) {
			return fmt.Errorf("block %d of Data (bytes %d to %d) is wrong", k, k*block, k*block+len(p))
		}
	}
	return nil
}

// lineRE matches a rank's report.
var lineRE = regexp.MustCompile(`^rank (\d): (sent|received) (\w+), (\d+) bytes, in ([0-9.]+) s: ([0-9.]+) GB/s; peak RSS (\d+) MiB, value (\d+) MiB$`)

// TestValue1GiBUnderGompirun (issue 12, acceptance 4): a 1 GiB value, a struct holding a
// []byte, sent between two ranks that gompirun starts, over shared memory and over TCP, keeps
// each rank's peak resident set (VmHWM) under 1.5 GiB + 100 MiB.
func TestValue1GiBUnderGompirun(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 1 GiB between two processes of over 1 GiB each")
	}
	const limitMiB = 1536 + 100
	dir := t.TempDir()
	gompirun, bench := filepath.Join(dir, "gompirun"), filepath.Join(dir, "valuebench")
	build(t, gompirun, "../../cmd/gompirun")
	build(t, bench, ".")
	for _, transport := range []string{"shm", "tcp"} {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		out, err := exec.CommandContext(ctx, gompirun, "-n", "2", "--transport", transport, bench, "-size", "1G").CombinedOutput()
		cancel()
		if err != nil {
			t.Fatalf("%s: gompirun: %v\n%s", transport, err, out)
		}
		ranks := 0
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			m := lineRE.FindStringSubmatch(line)
			if m == nil {
				continue
			}
			ranks++
			t.Logf("%s: %s", transport, line)
			if m[3] != "struct" || m[4] != strconv.Itoa(1<<30) {
				t.Errorf("%s: %q: not a 1 GiB struct", transport, line)
			}
			if peak, _ := strconv.Atoi(m[7]); peak > limitMiB {
				t.Errorf("%s: rank %s peaked at %d MiB, over the %d MiB allowed", transport, m[1], peak, limitMiB)
			}
		}
		if ranks != 2 {
			t.Errorf("%s: %d reports from ranks, want 2; output:\n%s", transport, ranks, out)
		}
	}
}

// build builds the package in dir pkg into the executable bin.
func build(t *testing.T, bin, pkg string) {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	if out, err := exec.Command(goBin, "build", "-o", bin, pkg).CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, out)
	}
}
