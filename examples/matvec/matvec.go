package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"

	"github.com/gompi/gompi/collectives"
	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/examples/internal/blocks"
	"github.com/gompi/gompi/examples/internal/npyfile"
	"github.com/gompi/gompi/examples/internal/pyfmt"
)

// options are the program's flags.
type options struct {
	n              int    // size when generating A and x
	seed           uint64 // seed of the generated A and x
	aFile          string // .npy file holding A (N×N), or ""
	xFile          string // .npy file holding x (N), or ""
	yFile          string // .npy file to write y to, or ""
	generatorFlags bool   // -n or -seed was given on the command line
}

// input returns A and x: read from the .npy files when given, otherwise uniform random numbers
// in [0, 1) from a PCG generator seeded with o.seed.
func input(o options) (*mat.Dense, []float64, error) {
	if (o.aFile == "") != (o.xFile == "") {
		return nil, nil, errors.New("matvec: give both -A and -x, or neither")
	}
	if o.aFile == "" {
		if o.n < 0 {
			return nil, nil, fmt.Errorf("matvec: -n %d is negative", o.n)
		}
		if o.n > 1<<20 { // N² would come near overflowing an int
			return nil, nil, fmt.Errorf("matvec: -n %d: an N×N matrix of float64 takes 8·N² bytes, here %.3g TB", o.n, 8*float64(o.n)*float64(o.n)/1e12)
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
	if o.generatorFlags {
		return nil, nil, errors.New("matvec: -A and -x read A and x from files, -n and -seed make random ones: give one or the other")
	}
	a, rows, cols, err := npyfile.ReadMatrix(o.aFile)
	if err != nil {
		return nil, nil, fmt.Errorf("matvec: -A: %w", err)
	}
	x, err := npyfile.ReadVector(o.xFile)
	if err != nil {
		return nil, nil, fmt.Errorf("matvec: -x: %w", err)
	}
	if rows != cols || cols != len(x) {
		return nil, nil, fmt.Errorf("matvec: A (%s) is %d×%d and x (%s) has %d elements; want N×N and N",
			o.aFile, rows, cols, o.xFile, len(x))
	}
	if rows == 0 {
		return &mat.Dense{}, x, nil // gonum has no 0×0 matrix: the zero Dense stands for it
	}
	return mat.NewDense(rows, cols, a), x, nil
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

	first, rows := blocks.Even(n, p)
	counts, displs := make([]int, p), make([]int, p)
	for i := range counts {
		counts[i], displs[i] = rows[i]*n, first[i]*n
	}
	var all []float64
	if me == 0 && n > 0 {
		all = a.RawMatrix().Data // row-major with stride n, as input made it
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
	if o.yFile != "" {
		if err := npyfile.WriteVector(o.yFile, y); err != nil {
			return fmt.Errorf("matvec: -o: %w", err)
		}
	}
	return nil
}

// formatVector prints short vectors whole and long ones as their first and last 5 elements,
// each as Python prints a float: with the digits that read back as the same float64, so that
// they can be compared with NumPy's to the last bit.
func formatVector(y []float64) string {
	const edge = 5
	if len(y) <= 4*edge {
		return pyfmt.List(y)
	}
	head, tail := pyfmt.List(y[:edge]), pyfmt.List(y[len(y)-edge:])
	return fmt.Sprintf("%s, ... (%d more), %s", head[:len(head)-1], len(y)-2*edge, tail[1:])
}
