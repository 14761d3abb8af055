package trace

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// EnvVar names the variable that turns tracing on: GOMPI_TRACE=PATH makes every rank record its
// operations and write them, at Finalize, to PartPath(PATH, rank). gompirun --trace sets it and
// merges the parts into PATH itself.
const EnvVar = "GOMPI_TRACE"

// PartVersion is the version of the part file format that WritePart writes and ReadPart reads.
const PartVersion = 1

// Part is one rank's share of a job's trace, as written at its Finalize.
//
// On disk (WritePart): one line of JSON holding every field but Events, with "events" the
// number of records, then that many Events, each as binary.Write writes it, little-endian.
type Part struct {
	Version int      `json:"version"`
	Job     string   `json:"job"`  // the job's id: the parts of one job share it
	Rank    int      `json:"rank"` // world rank
	Size    int      `json:"size"` // ranks in the job
	Host    string   `json:"host"` // the machine's name, for people
	Boot    string   `json:"boot"` // its kernel's boot id: equal boot ids share a wall clock
	Wall0   int64    `json:"wall0"`
	End     int64    `json:"end"`     // when recording stopped, on the rank's clock
	Dropped int64    `json:"dropped"` // events past the recorder's bound, not kept
	Clocks  []Clock  `json:"clocks"`  // offset estimates to rank 0, oldest first
	Names   []string `json:"names"`   // Event.Name and Event.Alg index this
	N       int      `json:"events"`  // len(Events), in the file's header
	Events  []Event  `json:"-"`
}

// eventSize is the size of one Event on disk.
var eventSize = binary.Size(Event{})

// PartPath is the file rank writes its part to when tracing to path.
func PartPath(path string, rank int) string { return path + ".rank-" + strconv.Itoa(rank) + ".part" }

// WritePart writes p to the file PartPath(path, p.Rank), replacing it.
func WritePart(path string, p *Part) error {
	name := PartPath(path, p.Rank)
	f, err := os.Create(name)
	if err != nil {
		return fmt.Errorf("trace: %w", err)
	}
	w := bufio.NewWriterSize(f, 1<<16)
	err = p.write(w)
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("trace: write %s: %w", name, err)
	}
	return nil
}

func (p *Part) write(w io.Writer) error {
	h := *p
	h.Version, h.N = PartVersion, len(p.Events)
	line, err := json.Marshal(&h)
	if err != nil {
		return err
	}
	if _, err := w.Write(append(line, '\n')); err != nil {
		return err
	}
	return binary.Write(w, binary.LittleEndian, p.Events)
}

// maxHeader bounds the header line of a part file.
const maxHeader = 16 << 20

// ReadPart reads the part file name.
func ReadPart(name string) (*Part, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("trace: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("trace: %w", err)
	}
	p, err := readPart(bufio.NewReaderSize(f, 1<<16), st.Size())
	if err != nil {
		return nil, fmt.Errorf("trace: read %s: %w", name, err)
	}
	return p, nil
}

// readPart reads a part of size bytes in all from r; the header's count of events is checked
// against size before anything is allocated for them.
func readPart(r *bufio.Reader, size int64) (*Part, error) {
	var line []byte
	for {
		chunk, err := r.ReadSlice('\n')
		line = append(line, chunk...)
		if err == nil {
			break
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return nil, fmt.Errorf("no header line: %w", err)
		}
		if len(line) > maxHeader {
			return nil, fmt.Errorf("header line longer than %d bytes", maxHeader)
		}
	}
	var p Part
	if err := json.Unmarshal(line, &p); err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	if p.Version != PartVersion {
		return nil, fmt.Errorf("part version %d, want %d", p.Version, PartVersion)
	}
	if p.Rank < 0 || p.Rank >= p.Size {
		return nil, fmt.Errorf("rank %d of %d", p.Rank, p.Size)
	}
	if p.N < 0 || int64(p.N)*int64(eventSize) != size-int64(len(line)) {
		return nil, fmt.Errorf("header says %d events (%d bytes), the file has %d bytes after it", p.N, p.N*eventSize, size-int64(len(line)))
	}
	p.Events = make([]Event, p.N)
	if err := binary.Read(r, binary.LittleEndian, p.Events); err != nil {
		return nil, fmt.Errorf("events: %w", err)
	}
	for i := range p.Events {
		e := &p.Events[i]
		if int(e.Name) >= len(p.Names) || int(e.Alg) >= len(p.Names) {
			return nil, fmt.Errorf("event %d names string %d of a table of %d", i, max(e.Name, e.Alg), len(p.Names))
		}
	}
	return &p, nil
}

// FindParts returns the part files of path (PartPath(path, N) for any N), by rank.
func FindParts(path string) ([]string, error) {
	matches, err := filepath.Glob(globEscape(path) + ".rank-*.part")
	if err != nil {
		return nil, fmt.Errorf("trace: %w", err)
	}
	rank := func(m string) int {
		n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(m, path+".rank-"), ".part"))
		if err != nil {
			return -1
		}
		return n
	}
	var found []string
	for _, m := range matches {
		if rank(m) >= 0 {
			found = append(found, m)
		}
	}
	sort.Slice(found, func(i, j int) bool { return rank(found[i]) < rank(found[j]) })
	return found, nil
}

// globEscape quotes the characters filepath.Match treats specially.
func globEscape(s string) string {
	var b strings.Builder
	for _, c := range s {
		if strings.ContainsRune(`*?[\`, c) {
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	return b.String()
}
