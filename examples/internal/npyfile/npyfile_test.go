package npyfile

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The files in testdata were written by NumPy 1.24 (format version 1.0, as numpy.save writes
// by default), with:
//
//	m = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.5]])
//	np.save('matrix-c.npy', m); np.save('matrix-fortran.npy', np.asfortranarray(m))
//	v = np.array([0.5, -1.25, 3.0, 1e-300, 7.0])
//	np.save('vector.npy', v); np.save('vector-bigendian.npy', v.astype('>f8'))
//	np.save('vector-int64.npy', np.arange(5)); np.save('vector-float32.npy', v.astype(np.float32))

func TestReadVectorFromNumPy(t *testing.T) {
	want := fmt.Sprint([]float64{0.5, -1.25, 3.0, 1e-300, 7.0})
	for _, name := range []string{"vector.npy", "vector-bigendian.npy"} {
		v, err := ReadVector(filepath.Join("testdata", name))
		if err != nil {
			t.Errorf("%s: %v", name, err)
		} else if got := fmt.Sprint(v); got != want {
			t.Errorf("%s: read %s, want %s", name, got, want)
		}
	}
}

func TestReadMatrixFromNumPy(t *testing.T) {
	for _, name := range []string{"matrix-c.npy", "matrix-fortran.npy"} {
		data, rows, cols, err := ReadMatrix(filepath.Join("testdata", name))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if got, want := fmt.Sprint(rows, cols, data), "2 3 [1 2 3 4 5 6.5]"; got != want {
			t.Errorf("%s: read %s, want %s (row-major)", name, got, want)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []int{0, 1, 1001} {
		v := make([]float64, n)
		for i := range v {
			v[i] = math.Sin(float64(i)) * math.Pow(10, float64(i%41-20))
		}
		name := filepath.Join(dir, fmt.Sprintf("v%d.npy", n))
		if err := WriteVector(name, v); err != nil {
			t.Fatal(err)
		}
		back, err := ReadVector(name)
		if err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		if len(back) != n {
			t.Fatalf("n=%d: read back %d elements", n, len(back))
		}
		for i := range v {
			if math.Float64bits(back[i]) != math.Float64bits(v[i]) {
				t.Fatalf("n=%d: element %d read back as %v, wrote %v", n, i, back[i], v[i])
			}
		}
	}
}

// TestWriteVectorAsNumPy checks that WriteVector writes the very bytes numpy.save wrote.
func TestWriteVectorAsNumPy(t *testing.T) {
	name := filepath.Join(t.TempDir(), "vector.npy")
	if err := WriteVector(name, []float64{0.5, -1.25, 3.0, 1e-300, 7.0}); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join("testdata", "vector.npy"))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("WriteVector wrote\n%q\nnumpy.save wrote\n%q", got, want)
	}
}

// npyV1 returns a .npy file of format version 1.0 with the given header dictionary (padded as
// numpy.save pads it) followed by data.
func npyV1(dict string, data []byte) []byte {
	hdr := dict + " "
	for (10+len(hdr)+1)%64 != 0 {
		hdr += " "
	}
	hdr += "\n"
	b := append([]byte("\x93NUMPY\x01\x00"), 0, 0)
	binary.LittleEndian.PutUint16(b[8:], uint16(len(hdr)))
	return append(append(b, hdr...), data...)
}

// TestBadFiles checks that each kind of wrong or damaged file is an error naming the file and
// what is wrong with it, and that none panics.
func TestBadFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	good, err := os.ReadFile(filepath.Join("testdata", "vector.npy"))
	if err != nil {
		t.Fatal(err)
	}
	f8 := make([]byte, 8*5)
	cases := []struct {
		name   string
		path   string
		matrix bool
		want   []string // substrings of the error
	}{
		{"int64", filepath.Join("testdata", "vector-int64.npy"), false,
			[]string{"vector-int64.npy", "dtype <i8 (int64)", "shape (5,)", "want a vector of float64"}},
		{"float32", filepath.Join("testdata", "vector-float32.npy"), false,
			[]string{"vector-float32.npy", "dtype <f4 (float32)", "want a vector of float64"}},
		{"matrix as vector", filepath.Join("testdata", "matrix-c.npy"), false,
			[]string{"matrix-c.npy", "dtype <f8 (float64), shape (2, 3)", "shape (N,)"}},
		{"vector as matrix", filepath.Join("testdata", "vector.npy"), true,
			[]string{"vector.npy", "shape (5,)", "want a matrix of float64"}},
		{"scalar", write("scalar.npy", npyV1("{'descr': '<f8', 'fortran_order': False, 'shape': (), }", f8[:8])), false,
			[]string{"scalar.npy", "shape ()"}},
		{"structured dtype", write("struct.npy", npyV1("{'descr': [('a', '<f8'), ('b', '<i4')], 'fortran_order': False, 'shape': (5,), }", f8)), false,
			[]string{"struct.npy", "dtype [('a', '<f8'), ('b', '<i4')]", "want a vector of float64"}},
		{"unknown dtype", write("zz.npy", npyV1("{'descr': 'zz9', 'fortran_order': False, 'shape': (5,), }", f8)), false,
			[]string{"zz.npy", "dtype zz9, shape (5,)"}},
		{"missing", filepath.Join(dir, "nosuch.npy"), false,
			[]string{"nosuch.npy", "no such file"}},
		{"text", write("text.npy", []byte("1.0 2.0 3.0\n")), false,
			[]string{"text.npy", "not a NumPy .npy file", "magic"}},
		{"empty", write("empty.npy", nil), false,
			[]string{"empty.npy", "0-byte file"}},
		{"cut short", write("short.npy", good[:len(good)-12]), false,
			[]string{"short.npy", "shape (5,) needs 40 bytes of data, the file has 28"}},
		{"huge shape", write("huge.npy", npyV1("{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904, 4), }", f8)), true,
			[]string{"huge.npy", "shape (4611686018427387904, 4) is not the shape of an array"}},
		{"large shape", write("large.npy", npyV1("{'descr': '<f8', 'fortran_order': False, 'shape': (1000, 1000), }", f8)), true,
			[]string{"large.npy", "shape (1000, 1000) needs 8000000 bytes of data, the file has 40"}},
		{"negative shape", write("negative.npy", npyV1("{'descr': '<f8', 'fortran_order': False, 'shape': (-5,), }", f8)), false,
			[]string{"negative.npy", "shape (-5,)"}},
		{"header longer than the file", write("longhdr.npy", append([]byte("\x93NUMPY\x01\x00\xff\xff"), "{}\n"...)), false,
			[]string{"longhdr.npy", "header claims 65535 bytes"}},
		{"header without newline", write("nonl.npy", append([]byte("\x93NUMPY\x01\x00\x04\x00"), "{}  "...)), false,
			[]string{"nonl.npy", "malformed header"}},
		{"header keys out of order", write("order.npy", npyV1("{'shape': (5,), 'fortran_order': False, 'descr': '<f8', }", f8)), false,
			[]string{"order.npy", "not a NumPy .npy file"}},
		{"version 3", write("v3.npy", append([]byte("\x93NUMPY\x03\x00\x04\x00\x00\x00"), "{}\n "...)), false,
			[]string{"v3.npy", "version 3.0"}},
	}
	for _, c := range cases {
		var err error
		if c.matrix {
			_, _, _, err = ReadMatrix(c.path)
		} else {
			_, err = ReadVector(c.path)
		}
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

func TestWriteVectorError(t *testing.T) {
	err := WriteVector(filepath.Join(t.TempDir(), "nosuchdir", "y.npy"), []float64{1})
	if err == nil || !strings.Contains(err.Error(), "nosuchdir") {
		t.Errorf("writing into a missing directory: error %v, want one naming the path", err)
	}
}
