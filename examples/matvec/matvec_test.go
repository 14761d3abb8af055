package main

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"codeberg.org/sbinet/npyio"
	"gonum.org/v1/gonum/mat"

	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/examples/internal/npyfile"
	"github.com/gompi/gompi/transport/inproc"
)

// runMatvec runs the program on p in-process ranks and returns rank 0's output.
func runMatvec(p int, o options) (string, error) {
	var out string
	err := inproc.Run(p, func(c *comm.Comm) error {
		var w bytes.Buffer
		err := matvec(c, o, &w)
		if c.Rank() == 0 {
			out = w.String()
		}
		return err
	})
	return out, err
}

func TestMatvecRandom(t *testing.T) {
	for p := 1; p <= 8; p++ {
		for _, n := range []int{0, 1, 3, 16, 37} {
			out, err := runMatvec(p, options{n: n, seed: 3})
			if err != nil {
				t.Errorf("p=%d n=%d: %v", p, n, err)
				continue
			}
			if !strings.Contains(out, "max |y - A x| = ") {
				t.Errorf("p=%d n=%d: output %q lacks the error line", p, n, out)
			}
		}
	}
}

// TestMatvecNpy writes A and x as .npy files with known y = A x and checks the printed y.
func TestMatvecNpy(t *testing.T) {
	dir := t.TempDir()
	// A[i][j] = i+1 if j == i, 1 if j == i+1, else 0; x[j] = j+1: y[i] = (i+1)² + (i+2), last row (i+1)².
	const n = 5
	a := mat.NewDense(n, n, nil)
	x := make([]float64, n)
	for i := 0; i < n; i++ {
		a.Set(i, i, float64(i+1))
		if i+1 < n {
			a.Set(i, i+1, 1)
		}
		x[i] = float64(i + 1)
	}
	o := options{aFile: writeNpy(t, dir, "random-matrix.npy", a), xFile: writeNpy(t, dir, "random-vector.npy", x)}
	for p := 1; p <= 8; p++ {
		out, err := runMatvec(p, o)
		if err != nil {
			t.Errorf("p=%d: %v", p, err)
			continue
		}
		if want := "y = [3.0, 7.0, 13.0, 21.0, 25.0]\nmax |y - A x| = 0\n"; out != want {
			t.Errorf("p=%d: output %q, want %q", p, out, want)
		}
	}
	bad := o
	bad.xFile = writeNpy(t, dir, "short.npy", x[:3])
	if _, err := runMatvec(2, bad); err == nil || !strings.Contains(err.Error(), "5×5") {
		t.Errorf("A 5×5 with x of 3: error %v, want one naming the shapes", err)
	}
	bad.xFile = writeNpy(t, dir, "float32.npy", []float32{1, 2, 3, 4, 5})
	if _, err := runMatvec(2, bad); err == nil || !strings.Contains(err.Error(), "<f4") || !strings.Contains(err.Error(), "float64") {
		t.Errorf("x of float32: error %v, want one naming the element type", err)
	}
}

// dot2 returns the dot product of a and b as if computed in twice the working precision and
// rounded once (Ogita, Rump & Oishi, "Accurate sum and dot product", SIAM J. Sci. Comput. 2005,
// algorithm Dot2): a reference that any float64 matvec, and NumPy's, is within 1e-12 of.
func dot2(a, b []float64) float64 {
	var s, c float64
	for i := range a {
		p := a[i] * b[i]
		pe := math.FMA(a[i], b[i], -p) // the product's rounding error, exactly
		t := s + p
		z := t - s
		c += pe + (s - (t - z)) + (p - z) // plus the sum's rounding error, exactly (TwoSum)
		s = t
	}
	return s + c
}

// checkY compares y with want element by element, to 1e-12 times the row's size, the sum of
// |A_ij x_j| (aRows holds A row-major).
func checkY(t *testing.T, what string, y, want, aRows, x []float64) {
	t.Helper()
	n := len(x)
	if len(y) != n || len(want) != n {
		t.Errorf("%s: y has %d elements, want %d (reference %d)", what, len(y), n, len(want))
		return
	}
	for i := range n {
		scale := 0.0
		for j := range n {
			scale += math.Abs(aRows[i*n+j] * x[j])
		}
		if d := math.Abs(y[i] - want[i]); d > 1e-12*scale {
			t.Errorf("%s: y[%d] = %v, reference %v: differs by %g > 1e-12 × %g", what, i, y[i], want[i], d, scale)
			return
		}
	}
}

// printedY parses the y line of matvec's output: the elements it shows, in order.
func printedY(t *testing.T, out string) []float64 {
	t.Helper()
	line, _, _ := strings.Cut(out, "\n")
	line = strings.TrimPrefix(line, "y = [")
	line = strings.TrimSuffix(line, "]")
	var vals []float64
	for _, f := range strings.Split(line, ", ") {
		if strings.HasPrefix(f, "...") {
			continue
		}
		v, err := strconv.ParseFloat(f, 64)
		if err != nil {
			t.Fatalf("y line %q: %v", line, err)
		}
		vals = append(vals, v)
	}
	return vals
}

// TestMatvec1001 multiplies a 1001×1001 matrix by a vector, both from .npy files npyio wrote,
// on 1..4 ranks, and checks the y written by -o against an accurate product to 1e-12; the
// printed elements must be y's to the last bit.
func TestMatvec1001(t *testing.T) {
	const n = 1001
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(14, 1001))
	a := mat.NewDense(n, n, nil)
	x := make([]float64, n)
	for i := range n {
		for j := range n {
			a.Set(i, j, rng.Float64()-0.5)
		}
		x[i] = rng.Float64() - 0.5
	}
	want := make([]float64, n)
	for i := range n {
		want[i] = dot2(a.RawRowView(i), x)
	}
	o := options{aFile: writeNpy(t, dir, "A.npy", a), xFile: writeNpy(t, dir, "x.npy", x)}
	for p := 1; p <= 4; p++ {
		o.yFile = filepath.Join(dir, fmt.Sprintf("y%d.npy", p))
		out, err := runMatvec(p, o)
		if err != nil {
			t.Errorf("p=%d: %v", p, err)
			continue
		}
		y, err := npyfile.ReadVector(o.yFile)
		if err != nil {
			t.Fatalf("p=%d: -o: %v", p, err)
		}
		checkY(t, fmt.Sprintf("p=%d", p), y, want, a.RawMatrix().Data, x)
		shown := printedY(t, out)
		if len(shown) != 10 {
			t.Fatalf("p=%d: the y line shows %d elements, want the first and last 5: %q", p, len(shown), out)
		}
		for k, v := range shown {
			i := k
			if k >= 5 {
				i = n - 10 + k
			}
			if math.Float64bits(v) != math.Float64bits(y[i]) {
				t.Errorf("p=%d: printed y[%d] = %v, the file has %v", p, i, v, y[i])
			}
		}
	}
}

// TestMatvecNumPy reads A and x written by NumPy (testdata; A also in Fortran order) and
// compares y with NumPy's own A @ x, to 1e-12. The files were made with NumPy 1.24 by
//
//	rng = np.random.default_rng(14)
//	A = rng.random((37, 37)) - 0.5; x = rng.random(37) - 0.5
//	np.save('A.npy', A); np.save('A-fortran.npy', np.asfortranarray(A))
//	np.save('x.npy', x); np.save('y-numpy.npy', A @ x)
func TestMatvecNumPy(t *testing.T) {
	want, err := npyfile.ReadVector(filepath.Join("testdata", "y-numpy.npy"))
	if err != nil {
		t.Fatal(err)
	}
	x, err := npyfile.ReadVector(filepath.Join("testdata", "x.npy"))
	if err != nil {
		t.Fatal(err)
	}
	aRows, _, _, err := npyfile.ReadMatrix(filepath.Join("testdata", "A.npy"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, aFile := range []string{"A.npy", "A-fortran.npy"} {
		for p := 1; p <= 4; p++ {
			o := options{aFile: filepath.Join("testdata", aFile), xFile: filepath.Join("testdata", "x.npy"), yFile: filepath.Join(dir, "y.npy")}
			if _, err := runMatvec(p, o); err != nil {
				t.Errorf("%s p=%d: %v", aFile, p, err)
				continue
			}
			y, err := npyfile.ReadVector(o.yFile)
			if err != nil {
				t.Fatal(err)
			}
			checkY(t, fmt.Sprintf("%s p=%d", aFile, p), y, want, aRows, x)
		}
	}
}

// writeNpy writes v (a []float64 or a *mat.Dense) to dir/name with npyio and returns the path.
func writeNpy(t *testing.T, dir, name string, v any) string {
	t.Helper()
	path := filepath.Join(dir, name)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f) // npyio writes element by element
	if err := npyio.Write(w, v); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestMatvecBadInput(t *testing.T) {
	dir := t.TempDir()
	x := writeNpy(t, dir, "x.npy", []float64{1, 2, 3})
	ints := writeNpy(t, dir, "ints.npy", []int64{1, 2, 3})
	for _, c := range []struct {
		name string
		o    options
		want []string
	}{
		{"-A without -x", options{aFile: x}, []string{"give both -A and -x"}},
		{"vector as A", options{aFile: x, xFile: x}, []string{"matvec: -A", "x.npy", "shape (3,)", "want a matrix of float64"}},
		{"int64 x", options{aFile: filepath.Join("testdata", "A.npy"), xFile: ints}, []string{"matvec: -x", "ints.npy", "<i8 (int64)"}},
		{"-A with -n", options{aFile: x, xFile: x, n: 3, generatorFlags: true}, []string{"-n and -seed"}},
		{"-n too large", options{n: 1 << 32}, []string{"-n 4294967296", "8·N² bytes"}},
		{"-o into a missing directory", options{n: 3, yFile: filepath.Join(dir, "nosuchdir", "y.npy")}, []string{"matvec: -o", "nosuchdir"}},
	} {
		_, err := runMatvec(2, c.o)
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not say %q", c.name, err, w)
			}
		}
	}
}
