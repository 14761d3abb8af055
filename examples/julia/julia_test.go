package main

import (
	"bytes"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/transport/inproc"
)

// TestJulia runs the program on 1 to 4 in-process ranks with a small image and checks its
// report and the PNG it writes.
func TestJulia(t *testing.T) {
	dir := t.TempDir()
	for p := 1; p <= 4; p++ {
		o := options{width: 61, height: 37, iter: 200, cr: -0.8, ci: 0.156, png: filepath.Join(dir, fmt.Sprintf("julia%d.png", p))}
		var out bytes.Buffer
		err := inproc.Run(p, func(c *comm.Comm) error {
			var w bytes.Buffer
			err := julia(c, o, &w)
			if c.Rank() == 0 {
				out = w
			}
			return err
		})
		if err != nil {
			t.Errorf("p=%d: %v", p, err)
			continue
		}
		report := regexp.MustCompile(fmt.Sprintf(`^julia: 61×37 pixels, c = -0.8\+0.156i, up to 200 iterations, %d ranks
serial:  [0-9.]+ s
static:  [0-9.]+ s \(blocks of rows; each rank's time:((?: [0-9.]+)+) s\)
dynamic: [0-9.]+ s \(rows from the farm\)
checked: static and dynamic images equal the serial one
wrote .*julia%d.png
$`, p, p))
		m := report.FindStringSubmatch(out.String())
		if m == nil || len(strings.Fields(m[1])) != p {
			t.Errorf("p=%d: report\n%s", p, out.String())
		}
		f, err := os.Open(o.png)
		if err != nil {
			t.Errorf("p=%d: %v", p, err)
			continue
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil || img.Bounds().Dx() != 61 || img.Bounds().Dy() != 37 {
			t.Errorf("p=%d: PNG %v, error %v; want 61×37", p, img.Bounds(), err)
		}
	}
}

// TestRow checks escape counts: far from the set a pixel escapes at once; the image's centre
// (z = 0) for c = 0 never escapes (|z| stays 0).
func TestRow(t *testing.T) {
	o := options{width: 3, height: 3, iter: 50}
	mid := row(o, 1)
	if mid[1] != 50 {
		t.Errorf("centre of z² escaped after %d iterations, want never (50)", mid[1])
	}
	o.cr = 3
	if r := row(o, 0); r[0] > 1 || r[2] > 1 {
		t.Errorf("corners for c = 3 escape after %v iterations, want at most 1", r)
	}
	if got := fmt.Sprint(blocks(10, 3)); got != "[0 4 7 10]" {
		t.Errorf("blocks(10, 3) = %s", got)
	}
}
