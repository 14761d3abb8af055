package comm

import (
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"unicode/utf8"

	"github.com/gompi/gompi/internal/backend"
)

// The header of a Go value: the first message of every value, on the program's (dest, tag).
// docs/PROTOCOL.md ("Go values") describes the layout in prose; this file is its only encoder
// and decoder. Integers are little-endian.
//
//	offset size field
//	0      3    magic "GOV"
//	3      1    version, 1
//	4      1    mode: 1 single (everything in this message), 2 parts (parts follow)
//	5      1    reserved, 0
//	6      2    flags: bit 0 the gob stream starts with the rest of the value; bit 1 the gob
//	            stream follows in chunks (parts mode) instead of being in this message
//	8      4    part tag: the tag of the parts on the communicator's parts context (parts mode)
//	12     4    chunk: the length of every chunk of the gob stream but the last (streamed)
//	16     4    number of part descriptors
//	20     4    reserved, 0
//	24     8    gob length: bytes of the gob stream in this message
//	32     ...  part descriptors, then the gob stream, then (single mode) the raw parts
//
// A part descriptor is 24 bytes and the field's name, padded to a multiple of 8:
//
//	0  1 kind: 1 raw slice, 2 string, 3 gob batches
//	1  1 element kind (reflect.Kind; raw slices only)
//	2  2 element size in bytes (raw slices only)
//	4  2 name length: 0 for the value itself, else the name of a field of the value
//	6  2 reserved, 0
//	8  8 n: bytes (raw slice, string) or elements (batches)
//	16 8 offset of the bytes in this message (single mode, raw slices and strings), else 0
const (
	headerLen    = 32
	descLen      = 24
	wireVersion  = 1
	modeSingle   = 1
	modeParts    = 2
	flagRest     = 1 << 0
	flagStreamed = 1 << 1

	// maxParts bounds the number of part descriptors a header may carry.
	maxParts = 1 << 16
	// maxChunk bounds the chunk length a header may announce.
	maxChunk = 1 << 30
	// maxLength bounds every length on the wire, as the engine bounds a frame's (2^40).
	maxLength = 1 << 40
)

// partKind says how one part of a value travels.
type partKind uint8

const (
	partRaw     partKind = 1 // a slice of fixed-size numbers: its memory as it is
	partString  partKind = 2 // a string: its bytes
	partBatches partKind = 3 // a map or slice of other elements: gob batches in the gob stream
)

func (k partKind) travelsRaw() bool { return k == partRaw || k == partString }

// partDesc describes one part of a value.
type partDesc struct {
	kind  partKind
	elem  reflect.Kind // raw slices: the element's kind
	esize int          // raw slices: the element's size
	name  string       // the field's name, "" for the value itself
	n     int          // bytes (raw slice, string) or elements (batches)
	off   int          // single mode: where the bytes start in the message
}

// header is a decoded value header.
type header struct {
	mode     uint8
	flags    uint16
	partTag  int
	chunk    int
	gobLen   int // bytes of the gob stream in the header's message
	gobOff   int // where they start
	parts    []partDesc
	totalLen int // length of the message the header came in
}

// what names the value a header describes, for errors: "a struct with parts Data, Name".
func (h *header) what() string {
	if len(h.parts) == 0 {
		return "a gob-encoded value"
	}
	if h.parts[0].name == "" {
		return h.parts[0].describe()
	}
	s := "a struct with"
	for i, p := range h.parts {
		if i > 0 {
			s += ","
		}
		s += " " + p.describe()
	}
	return s
}

func (p partDesc) describe() string {
	var t string
	switch p.kind {
	case partRaw:
		t = "[]" + p.elem.String()
	case partString:
		t = "string"
	default:
		t = "map or slice"
	}
	if p.name == "" {
		return t
	}
	return "field " + p.name + " (" + t + ")"
}

// elemSizes is the size of each element kind that travels raw.
var elemSizes = map[reflect.Kind]int{
	reflect.Int8: 1, reflect.Int16: 2, reflect.Int32: 4, reflect.Int64: 8, reflect.Int: 8,
	reflect.Uint8: 1, reflect.Uint16: 2, reflect.Uint32: 4, reflect.Uint64: 8, reflect.Uint: 8,
	reflect.Uintptr: 8, reflect.Float32: 4, reflect.Float64: 8, reflect.Complex64: 8,
	reflect.Complex128: 16,
}

func pad8(n int) int { return (n + 7) &^ 7 }

// headerSize returns the length of a header with parts, without its gob stream.
func headerSize(parts []partDesc) int {
	n := headerLen
	for _, p := range parts {
		n += descLen + pad8(len(p.name))
	}
	return n
}

// appendHeader encodes h (its gob stream not included) after b.
func appendHeader(b []byte, h *header) []byte {
	var fixed [headerLen]byte
	copy(fixed[:], "GOV")
	fixed[3] = wireVersion
	fixed[4] = h.mode
	binary.LittleEndian.PutUint16(fixed[6:], h.flags)
	binary.LittleEndian.PutUint32(fixed[8:], uint32(h.partTag))
	binary.LittleEndian.PutUint32(fixed[12:], uint32(h.chunk))
	binary.LittleEndian.PutUint32(fixed[16:], uint32(len(h.parts)))
	binary.LittleEndian.PutUint64(fixed[24:], uint64(h.gobLen))
	b = append(b, fixed[:]...)
	for _, p := range h.parts {
		var d [descLen]byte
		d[0] = byte(p.kind)
		d[1] = byte(p.elem)
		binary.LittleEndian.PutUint16(d[2:], uint16(p.esize))
		binary.LittleEndian.PutUint16(d[4:], uint16(len(p.name)))
		binary.LittleEndian.PutUint64(d[8:], uint64(p.n))
		binary.LittleEndian.PutUint64(d[16:], uint64(p.off))
		b = append(b, d[:]...)
		b = append(b, p.name...)
		b = append(b, make([]byte, pad8(len(p.name))-len(p.name))...)
	}
	return b
}

// errNotValue is the cause given when a message is not a value's header.
var errNotValue = errors.New("not a value sent with SendValue or IsendValue")

// decodeHeader reads and checks the header at the start of msg. Nothing in msg can make it
// panic or allocate more than msg's length: every count and length is checked first.
func decodeHeader(msg []byte) (*header, error) {
	if len(msg) < headerLen || string(msg[:3]) != "GOV" {
		return nil, errNotValue
	}
	if msg[3] != wireVersion {
		return nil, fmt.Errorf("value header of version %d, this gompi reads version %d", msg[3], wireVersion)
	}
	h := &header{mode: msg[4], flags: binary.LittleEndian.Uint16(msg[6:]), totalLen: len(msg)}
	bad := func(format string, args ...any) (*header, error) {
		return nil, fmt.Errorf("malformed value header: "+format, args...)
	}
	if h.mode != modeSingle && h.mode != modeParts {
		return bad("mode %d", h.mode)
	}
	if msg[5] != 0 || binary.LittleEndian.Uint32(msg[20:]) != 0 || h.flags&^(flagRest|flagStreamed) != 0 {
		return bad("reserved bits set")
	}
	tag := binary.LittleEndian.Uint32(msg[8:])
	chunk := binary.LittleEndian.Uint32(msg[12:])
	nparts := binary.LittleEndian.Uint32(msg[16:])
	gobLen := binary.LittleEndian.Uint64(msg[24:])
	if tag > backend.MaxTag {
		return bad("part tag %d", tag)
	}
	h.partTag = int(tag)
	streamed := h.flags&flagStreamed != 0
	if streamed && (h.mode != modeParts || chunk == 0 || chunk > maxChunk || gobLen != 0) {
		return bad("streamed gob with mode %d, chunk %d, %d inline bytes", h.mode, chunk, gobLen)
	}
	if !streamed && chunk != 0 {
		return bad("chunk length %d without a streamed gob", chunk)
	}
	h.chunk = int(chunk)
	if nparts > maxParts || int(nparts) > (len(msg)-headerLen)/descLen {
		return bad("%d parts in a %d-byte message", nparts, len(msg))
	}
	off := headerLen
	h.parts = make([]partDesc, nparts)
	batches := false
	for i := range h.parts {
		if len(msg)-off < descLen {
			return bad("part %d is cut off", i)
		}
		d := msg[off : off+descLen]
		p := partDesc{kind: partKind(d[0]), elem: reflect.Kind(d[1]), esize: int(binary.LittleEndian.Uint16(d[2:]))}
		nameLen := int(binary.LittleEndian.Uint16(d[4:]))
		n, poff := binary.LittleEndian.Uint64(d[8:]), binary.LittleEndian.Uint64(d[16:])
		if binary.LittleEndian.Uint16(d[6:]) != 0 {
			return bad("reserved bits set in part %d", i)
		}
		off += descLen
		if nameLen > len(msg)-off || pad8(nameLen) > len(msg)-off {
			return bad("name of part %d is cut off", i)
		}
		p.name = string(msg[off : off+nameLen])
		off += pad8(nameLen)
		if !utf8.ValidString(p.name) || (p.name == "" && len(h.parts) > 1) {
			return bad("part %d has name %q", i, p.name)
		}
		if n > maxLength || poff > maxLength {
			return bad("part %d has length %d at offset %d", i, n, poff)
		}
		p.n, p.off = int(n), int(poff)
		switch p.kind {
		case partRaw:
			if size, ok := elemSizes[p.elem]; !ok || size != p.esize || p.n == 0 || p.n%p.esize != 0 {
				return bad("part %d: %d bytes of %v of size %d", i, p.n, p.elem, p.esize)
			}
		case partString:
			if p.elem != 0 || p.esize != 0 || p.n == 0 {
				return bad("part %d: string of %d bytes, element %v of size %d", i, p.n, p.elem, p.esize)
			}
		case partBatches:
			if p.elem != 0 || p.esize != 0 || p.off != 0 || p.n == 0 {
				return bad("part %d: batches of %d elements at %d, element %v of size %d", i, p.n, p.off, p.elem, p.esize)
			}
			batches = true
		default:
			return bad("part %d has kind %d", i, p.kind)
		}
		if p.kind.travelsRaw() && (h.mode == modeParts) != (p.off == 0) {
			return bad("part %d at offset %d in mode %d", i, p.off, h.mode)
		}
		h.parts[i] = p
	}
	if (h.flags&flagRest != 0 || batches) != (streamed || gobLen > 0) {
		return bad("gob stream of %d bytes (streamed %v) for a rest %v and batches %v", gobLen, streamed, h.flags&flagRest != 0, batches)
	}
	if gobLen > uint64(len(msg)-off) {
		return bad("gob stream of %d bytes in %d", gobLen, len(msg)-off)
	}
	h.gobOff, h.gobLen = off, int(gobLen)
	end := off + h.gobLen
	if h.mode == modeParts && end != len(msg) {
		return bad("%d bytes after the gob stream", len(msg)-end)
	}
	for i, p := range h.parts {
		if h.mode != modeSingle || !p.kind.travelsRaw() {
			continue
		}
		if p.off < end || p.n > len(msg)-p.off {
			return bad("part %d: %d bytes at offset %d of a %d-byte message, after byte %d", i, p.n, p.off, len(msg), end)
		}
		end = p.off + p.n
	}
	if end != len(msg) {
		return bad("%d bytes after the last part", len(msg)-end)
	}
	return h, nil
}
