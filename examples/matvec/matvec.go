package main

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"strings"

	"codeberg.org/sbinet/npyio"
	"gonum.org/v1/gonum/mat"

	"github.com/gompi/gompi/collectives"
	"github.com/gompi/gompi/comm"
)

// options are the program's flags.
type options struct {
	n     int    // size when generating A and x
	seed  uint64 // seed of the generated A and x
	aFile string // .npy file holding A (N×N), or ""
	xFile string // .npy file holding x (N), or ""
}

// input returns A and x: read from the .npy files when given, otherwise uniform random numbers
// in [0, 1) from a PCG generator seeded with o.seed.
func input(o options) (*mat.Dense, []float64, error) {
	if (o.aFile == "") != (o.xFile == "") {
		return nil, nil, fmt.Errorf("matvec: give both -A and -x, or neither")
	}
	if o.aFile == "" {
		if o.n < 0 {
			return nil, nil, fmt.Errorf("matvec: -n %d is negative", o.n)
		}
		rng := rand.New(rand.NewPCG(o.seed, 0))
		a := make([]float64, o.n*o.n)
		for i := range a {
			a[i] = rng.Float64()
		}
		x := make([]float64, o.n)
		for i := range x {
			x[i] = rng.Float64()
		}
		if o.n == 0 {
			return &mat.Dense{}, x, nil
		}
		return mat.NewDense(o.n, o.n, a), x, nil
	}
	var a mat.Dense
	if err := readNpy(o.aFile, &a); err != nil {
		return nil, nil, err
	}
	var x []float64
	if err := readNpy(o.xFile, &x); err != nil {
		return nil, nil, err
	}
	if r, c := a.Dims(); r != c || c != len(x) {
		return nil, nil, fmt.Errorf("matvec: A is %d×%d and x has %d elements; want N×N and N", r, c, len(x))
	}
	return &a, x, nil
}

func readNpy(name string, ptr any) error {
	f, err := os.Open(name)
	if err != nil {
		return fmt.Errorf("matvec: %w", err)
	}
	defer f.Close()
	r, err := npyio.NewReader(f)
	if err != nil {
		return fmt.Errorf("matvec: read %s: %w", name, err)
	}
	if t := strings.Trim(r.Header.Descr.Type, "'\""); t != "<f8" && t != "=f8" && t != "|f8" {
		return fmt.Errorf("matvec: %s holds %s elements (shape %v); matvec reads float64 arrays: save it with a.astype(numpy.float64)",
			name, t, r.Header.Descr.Shape)
	}
	if err := r.Read(ptr); err != nil {
		return fmt.Errorf("matvec: read %s: %w", name, err)
	}
	return nil
}

// rowBlocks returns the first row and the row count of each of p ranks for an N-row matrix,
// dealt out as evenly as possible (the first N%p ranks get one more row; ranks beyond N none).
func rowBlocks(n, p int) (first, rows []int) {
	first, rows = make([]int, p), make([]int, p)
	for i := range rows {
		rows[i] = n / p
		if i < n%p {
			rows[i]++
		}
		if i > 0 {
			first[i] = first[i-1] + rows[i-1]
		}
	}
	return first, rows
}

// matvec is the program. Rank 0 gets A and x and broadcasts N and x; A's rows are scattered in
// blocks; each rank multiplies its rows by x with gonum; Allgatherv assembles y on every rank.
// Rank 0 then prints y and "max |y - A x| = E" against a serial product to out, and fails if E
// exceeds 1e-12 relative to the size of the terms (max |A| |x| summed over a row).
func matvec(c *comm.Comm, o options, out io.Writer) error {
	p, me := c.Size(), c.Rank()
	var a *mat.Dense
	var x []float64
	var inputErr error
	size := []int{-1}
	if me == 0 {
		if a, x, inputErr = input(o); inputErr == nil {
			size[0] = len(x)
		}
	}
	if err := collectives.Bcast(c, size, 0); err != nil {
		return err
	}
	if inputErr != nil {
		return inputErr
	}
	if size[0] < 0 {
		return fmt.Errorf("matvec: rank 0 could not read the input")
	}
	n := size[0]
	if me != 0 {
		x = make([]float64, n)
	}
	if err := collectives.Bcast(c, x, 0); err != nil {
		return err
	}

	first, rows := rowBlocks(n, p)
	counts, displs := make([]int, p), make([]int, p)
	for i := range counts {
		counts[i], displs[i] = rows[i]*n, first[i]*n
	}
	var all []float64
	if me == 0 && n > 0 {
		all = a.RawMatrix().Data // row-major with stride n: NewDense and npyio both pack rows
		if a.RawMatrix().Stride != n {
			all = mat.DenseCopyOf(a).RawMatrix().Data
		}
	}
	local := make([]float64, rows[me]*n)
	if err := collectives.Scatterv(c, collectives.Blocks[float64]{Buf: all, Counts: counts, Displs: displs}, local, 0); err != nil {
		return err
	}

	yLocal := make([]float64, rows[me])
	if rows[me] > 0 && n > 0 {
		mat.NewVecDense(rows[me], yLocal).MulVec(mat.NewDense(rows[me], n, local), mat.NewVecDense(n, x))
	}
	y := make([]float64, n)
	if err := collectives.Allgatherv(c, yLocal, collectives.Blocks[float64]{Buf: y, Counts: rows, Displs: first}); err != nil {
		return err
	}
	if me != 0 {
		return nil
	}

	// Serial reference: the same gonum product on the whole matrix at once. The scale of the
	// terms (the largest row sum of |A_ij x_j|) sets the tolerance.
	ref := make([]float64, n)
	if n > 0 {
		mat.NewVecDense(n, ref).MulVec(a, mat.NewVecDense(n, x))
	}
	var maxErr, scale float64
	for i := 0; i < n; i++ {
		abs := 0.0
		for j := 0; j < n; j++ {
			abs += math.Abs(a.At(i, j) * x[j])
		}
		maxErr = max(maxErr, math.Abs(y[i]-ref[i]))
		scale = max(scale, abs)
	}
	fmt.Fprintf(out, "y = %s\n", formatVector(y))
	fmt.Fprintf(out, "max |y - A x| = %g\n", maxErr)
	if maxErr > 1e-12*max(scale, 1) {
		return fmt.Errorf("matvec: max |y - A x| = %g exceeds 1e-12 × %g", maxErr, max(scale, 1))
	}
	return nil
}

// formatVector prints short vectors whole and long ones as their first and last 5 elements.
func formatVector(y []float64) string {
	const edge = 5
	var b strings.Builder
	b.WriteByte('[')
	for i, v := range y {
		if len(y) > 4*edge && i == edge {
			fmt.Fprintf(&b, " … (%d more) …", len(y)-2*edge)
		}
		if len(y) > 4*edge && i >= edge && i < len(y)-edge {
			continue
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%.6g", v)
	}
	b.WriteByte(']')
	return b.String()
}
