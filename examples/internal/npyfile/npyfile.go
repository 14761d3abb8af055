// Package npyfile reads and writes the NumPy .npy files of the lecture examples (psum -x,
// matvec -A -x -o): float64 vectors and matrices, as numpy.save writes them. It wraps
// codeberg.org/sbinet/npyio and adds what a file from a student needs: the dtype and shape
// checked against what the program wants before any data is read, the data's length checked
// against the file's size before anything is allocated, and errors that name the file, what it
// holds and what was wanted. A malformed file is an error, never a panic.
package npyfile

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"codeberg.org/sbinet/npyio"
)

// ReadVector reads a 1-D array of float64 (NumPy dtype '<f8' or '>f8', shape (N,)) from the
// .npy file name. Any other dtype or shape is an error naming the file, its dtype and shape.
func ReadVector(name string) ([]float64, error) {
	data, _, err := read(name, 1, "a vector of float64 (dtype <f8, shape (N,))")
	return data, err
}

// ReadMatrix reads a 2-D array of float64 (dtype '<f8' or '>f8', shape (rows, cols), in C or
// Fortran order) from the .npy file name and returns it in row-major order: element (i, j) is
// data[i*cols+j]. Any other dtype or shape is an error naming the file, its dtype and shape.
func ReadMatrix(name string) (data []float64, rows, cols int, err error) {
	data, shape, err := read(name, 2, "a matrix of float64 (dtype <f8, shape (M, N))")
	if err != nil {
		return nil, 0, 0, err
	}
	return data, shape[0], shape[1], nil
}

// WriteVector writes v to the file name as numpy.save(name, v) would for a float64 array v:
// format version 1.0, dtype '<f8', shape (len(v),), the header padded to 64 bytes. It writes the
// format itself rather than through npyio, whose writer (v0.14.0) gives an empty slice the
// shape () of a scalar and does not pad the header as the format asks.
func WriteVector(name string, v []float64) error {
	dict := fmt.Sprintf("{'descr': '<f8', 'fortran_order': False, 'shape': (%d,), }", len(v))
	pad := 63 - (len(npyio.Magic)+4+len(dict))%64 // spaces, then '\n' ends the header at a multiple of 64
	hdr := dict + strings.Repeat(" ", pad) + "\n"
	b := make([]byte, 0, len(npyio.Magic)+4+len(hdr)+8*len(v))
	b = append(b, npyio.Magic[:]...)
	b = append(b, 1, 0) // version 1.0
	b = binary.LittleEndian.AppendUint16(b, uint16(len(hdr)))
	b = append(b, hdr...)
	for _, x := range v {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(x))
	}
	if err := os.WriteFile(name, b, 0o644); err != nil {
		return err // an *fs.PathError, which names the file
	}
	return nil
}

// read reads name's float64 array of ndim dimensions, in row-major order, and its shape; want
// describes such an array for the error messages.
func read(name string, ndim int, want string) ([]float64, []int, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, nil, err // an *fs.PathError, which names the file
	}
	defer f.Close()
	h, dataBytes, err := readHeader(f)
	if err != nil {
		return nil, nil, fmt.Errorf("%s is not a NumPy .npy file we can read: %w", name, err)
	}
	dtype := strings.Trim(h.Descr.Type, `'"`)
	shape := h.Descr.Shape
	if (dtype != "<f8" && dtype != ">f8") || len(shape) != ndim { // numpy.save writes < or >, never =
		return nil, nil, fmt.Errorf("%s holds %s, shape %s; want %s", name, describeType(dtype), formatShape(shape), want)
	}
	n := int64(1) // elements; the bound keeps n*8 from overflowing
	for _, d := range shape {
		if d < 0 || (d > 0 && n > math.MaxInt64/8/int64(d)) {
			return nil, nil, fmt.Errorf("%s: shape %s is not the shape of an array", name, formatShape(shape))
		}
		n *= int64(d)
	}
	if n*8 > dataBytes {
		return nil, nil, fmt.Errorf("%s: shape %s needs %d bytes of data, the file has %d: it was cut short", name, formatShape(shape), n*8, dataBytes)
	}
	data := make([]float64, n)
	if n > 0 { // npyio reads len(data) elements; given an empty slice, it would make its own
		if err := h.r.Read(&data); err != nil {
			return nil, nil, fmt.Errorf("read %s: %w", name, err)
		}
	}
	if h.Descr.Fortran && ndim == 2 {
		data = transpose(data, shape[0], shape[1])
	}
	return data, shape, nil
}

// header is a parsed .npy header with the reader positioned at the data.
type header struct {
	npyio.Header
	r *npyio.Reader
}

// readHeader parses the header of the .npy file f and returns it with the number of bytes of
// data after it. It checks the fixed preamble itself first (magic, version, header length
// against the file's size), so that npyio never allocates a header length a damaged file makes
// up, and it turns a panic in npyio's header parser into an error.
func readHeader(f *os.File) (h header, dataBytes int64, err error) {
	st, err := f.Stat()
	if err != nil {
		return h, 0, err
	}
	var pre [12]byte // magic (6), major, minor, header length (2 bytes in version 1, else 4)
	if _, err := io.ReadFull(f, pre[:10]); err != nil {
		return h, 0, fmt.Errorf("%d-byte file, shorter than a .npy preamble", st.Size())
	}
	if !bytes.Equal(pre[:6], npyio.Magic[:]) {
		return h, 0, errors.New("it does not start with the .npy magic bytes \\x93NUMPY")
	}
	var hdrLen, preLen int64
	switch pre[6] {
	case 1:
		hdrLen, preLen = int64(binary.LittleEndian.Uint16(pre[8:10])), 10
	case 2:
		if _, err := io.ReadFull(f, pre[10:12]); err != nil {
			return h, 0, errors.New("the file ends inside the preamble")
		}
		hdrLen, preLen = int64(binary.LittleEndian.Uint32(pre[8:12])), 12
	default:
		return h, 0, fmt.Errorf(".npy format version %d.%d (this reader knows versions 1.0 and 2.0)", pre[6], pre[7])
	}
	if preLen+hdrLen > st.Size() {
		return h, 0, fmt.Errorf("its header claims %d bytes, more than the file's %d", hdrLen, st.Size())
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return h, 0, err
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("malformed header (%v)", p)
		}
	}()
	r, err := npyio.NewReader(bufio.NewReaderSize(f, 1<<16)) // npyio reads element by element
	if err != nil {
		return h, 0, err
	}
	return header{Header: r.Header, r: r}, st.Size() - preLen - hdrLen, nil
}

// describeType names a NumPy dtype string and, when npyio knows it, the Go type it holds:
// "dtype <i8 (int64)". npyio.TypeFrom panics on a dtype it cannot parse (a structured dtype,
// or bytes a damaged file made up); then the dtype string is all there is to say.
func describeType(dtype string) (s string) {
	s = "dtype " + dtype
	defer func() {
		if recover() != nil {
			s = "dtype " + dtype
		}
	}()
	if t := npyio.TypeFrom(dtype); t != nil {
		s = fmt.Sprintf("dtype %s (%s)", dtype, t)
	}
	return s
}

// formatShape writes a shape as NumPy prints it: (), (5,), (3, 4).
func formatShape(shape []int) string {
	parts := make([]string, len(shape))
	for i, d := range shape {
		parts[i] = strconv.Itoa(d)
	}
	if len(shape) == 1 {
		return "(" + parts[0] + ",)"
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// transpose turns a rows×cols matrix stored column by column (Fortran order) into row-major order.
func transpose(data []float64, rows, cols int) []float64 {
	out := make([]float64, len(data))
	for j := range cols {
		for i := range rows {
			out[i*cols+j] = data[j*rows+i]
		}
	}
	return out
}
