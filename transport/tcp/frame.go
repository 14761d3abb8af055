package tcp

import (
	"encoding/binary"
	"fmt"
	"io"

	"github.com/gompi/gompi/transport"
)

// Wire format of a frame (docs/PROTOCOL.md): a 48-byte header in big-endian byte order, then
// PayloadLen bytes of payload.
//
//	offset size field
//	0      1    version (frameVersion)
//	1      1    kind (transport.Kind)
//	2      2    flags
//	4      4    context id
//	8      4    tag (0..MaxTag)
//	12     4    reserved, zero
//	16     8    length: payload bytes (Eager, Data) or announced message bytes (RTS)
//	24     8    id: sender-side rendezvous id
//	32     8    aux: receiver-side rendezvous id
//	40     8    offset: Data: where this fragment's payload starts in the message; else 0
//
// The source rank is not on the wire: each connection joins exactly one pair of ranks,
// established by the handshake.
//
// Version 1 had no offset (40 bytes) and sent a rendezvous payload in one Data frame.
const (
	headerSize   = 48
	frameVersion = 2
	// maxLength bounds the length field (1 TiB): larger values are corruption, not messages.
	maxLength = 1 << 40
)

// encodeHeader writes h into b.
func encodeHeader(b *[headerSize]byte, h *transport.Header) {
	b[0] = frameVersion
	b[1] = byte(h.Kind)
	binary.BigEndian.PutUint16(b[2:], h.Flags)
	binary.BigEndian.PutUint32(b[4:], h.Context)
	binary.BigEndian.PutUint32(b[8:], uint32(h.Tag))
	binary.BigEndian.PutUint32(b[12:], 0)
	binary.BigEndian.PutUint64(b[16:], uint64(h.Length))
	binary.BigEndian.PutUint64(b[24:], h.ID)
	binary.BigEndian.PutUint64(b[32:], h.Aux)
	binary.BigEndian.PutUint64(b[40:], uint64(h.Offset))
}

// decodeHeader parses and checks a header. eagerLimit bounds the payload of Eager frames, so
// that a frame cannot make the receiver allocate more than the protocol allows unasked.
func decodeHeader(b *[headerSize]byte, eagerLimit int) (transport.Header, error) {
	var h transport.Header
	if b[0] != frameVersion {
		return h, fmt.Errorf("frame version %d, want %d", b[0], frameVersion)
	}
	h.Kind = transport.Kind(b[1])
	if !h.Kind.Valid() {
		return h, fmt.Errorf("unknown frame kind %d", b[1])
	}
	h.Flags = binary.BigEndian.Uint16(b[2:])
	h.Context = binary.BigEndian.Uint32(b[4:])
	tag := binary.BigEndian.Uint32(b[8:])
	if tag > 1<<31-1 {
		return h, fmt.Errorf("tag %d out of range", tag)
	}
	h.Tag = int(tag)
	if r := binary.BigEndian.Uint32(b[12:]); r != 0 {
		return h, fmt.Errorf("reserved header field is %#x, want 0", r)
	}
	length := binary.BigEndian.Uint64(b[16:])
	if length > maxLength {
		return h, fmt.Errorf("frame length %d exceeds %d", length, uint64(maxLength))
	}
	h.Length = int64(length)
	if h.Kind == transport.Eager && h.Length > int64(eagerLimit) {
		return h, fmt.Errorf("eager frame of %d bytes exceeds the eager limit %d", h.Length, eagerLimit)
	}
	h.ID = binary.BigEndian.Uint64(b[24:])
	h.Aux = binary.BigEndian.Uint64(b[32:])
	offset := binary.BigEndian.Uint64(b[40:])
	if offset != 0 && h.Kind != transport.Data {
		return h, fmt.Errorf("%v frame with offset %d", h.Kind, offset)
	}
	if offset > maxLength-length {
		return h, fmt.Errorf("fragment at offset %d of %d bytes ends beyond %d", offset, length, uint64(maxLength))
	}
	h.Offset = int64(offset)
	return h, nil
}

// readHeader reads and checks one header from r into the scratch buffer b.
func readHeader(r io.Reader, b *[headerSize]byte, eagerLimit int) (transport.Header, error) {
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return transport.Header{}, err
	}
	return decodeHeader(b, eagerLimit)
}
