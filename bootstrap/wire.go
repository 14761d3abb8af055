package bootstrap

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// The bootstrap wire protocol.
//
// Handshake (mutual proof of the job secret; nothing else is sent before it succeeds):
//
//	server → client: magic (8 bytes) | server nonce (32)
//	client → server: magic (8)       | HMAC-SHA256(secret, "gompi-bootstrap client" | server nonce) (32) | client nonce (32)
//	server → client: HMAC-SHA256(secret, "gompi-bootstrap server" | client nonce) (32)
//
// A server that does not like the client's answer closes the connection without a word; a
// client that does not like the server's answer closes too (it reached the wrong job).
//
// Messages, both directions, after the handshake: a 12-byte header, big-endian,
//
//	op (1) | status (1) | key length (2) | request id (4) | value length (4)
//
// followed by the key and the value. Lengths are checked against MaxKeyLen and MaxValueLen
// (plus maxErrLen for error texts, and maxManyLen for the answer to a GetMany) before
// anything is allocated for them.
//
// A GetMany request (op 5) has no key; its value lists the keys, each as a 2-byte big-endian
// length and the key's bytes. Its answer's value lists the values in the same order, each as
// a 4-byte big-endian length and the value's bytes. It is answered when every key is set.
const (
	magic     = "GOMPIBS1"
	nonceLen  = 32
	macLen    = sha256.Size
	headerLen = 12
	maxErrLen = 4096
)

// Ops of a message.
const (
	opSet    = 1 // client: set key to value
	opGet    = 2 // client: get key (answered when it is set)
	opCancel = 3 // client: forget request id (a Get whose context ended)
	opReply  = 4 // server: answer to request id; value is the Get result or an error text
	opMany   = 5 // client: get every key listed in value (answered when all are set)
)

// maxManyLen bounds the answer to a GetMany: the values of a few thousand ranks' addresses
// fit many times over, and a client never allocates more than this for one answer.
const maxManyLen = 64 << 20

// Statuses of a reply.
const (
	statusOK       = 0
	statusExists   = 1 // ErrKeyExists
	statusTooLarge = 2 // ErrTooLarge
	statusClosed   = 3 // ErrClosed (server shutting down)
	statusGone     = 4 // ErrRankGone (the key's rank ended before it set it)
)

const (
	clientLabel = "gompi-bootstrap client"
	serverLabel = "gompi-bootstrap server"
)

// message is one decoded message. key and value are freshly allocated per message.
type message struct {
	op     uint8
	status uint8
	id     uint32
	key    string
	value  []byte
}

func newNonce() ([]byte, error) {
	n := make([]byte, nonceLen)
	if _, err := rand.Read(n); err != nil {
		return nil, fmt.Errorf("bootstrap: random nonce: %w", err)
	}
	return n, nil
}

func proof(secret []byte, label string, nonce []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(label))
	m.Write(nonce)
	return m.Sum(nil)
}

// encode appends m's wire form to buf and returns it.
func (m *message) encode(buf []byte) []byte {
	var h [headerLen]byte
	h[0] = m.op
	h[1] = m.status
	binary.BigEndian.PutUint16(h[2:], uint16(len(m.key)))
	binary.BigEndian.PutUint32(h[4:], m.id)
	binary.BigEndian.PutUint32(h[8:], uint32(len(m.value)))
	buf = append(buf, h[:]...)
	buf = append(buf, m.key...)
	return append(buf, m.value...)
}

// readMessage reads one message, refusing unknown ops and oversize lengths before allocating.
func readMessage(r io.Reader) (*message, error) {
	var h [headerLen]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, err
	}
	m := &message{op: h[0], status: h[1], id: binary.BigEndian.Uint32(h[4:])}
	kl := int(binary.BigEndian.Uint16(h[2:]))
	vl := int64(binary.BigEndian.Uint32(h[8:]))
	if m.op < opSet || m.op > opMany {
		return nil, errorf(ErrProtocol, "unknown op %d", m.op)
	}
	if kl > MaxKeyLen {
		return nil, errorf(ErrProtocol, "key of %d bytes exceeds %d", kl, MaxKeyLen)
	}
	limit := int64(MaxValueLen)
	switch {
	case m.op == opReply && m.status != statusOK:
		limit = maxErrLen
	case m.op == opReply:
		limit = maxManyLen
	}
	if vl > limit {
		return nil, errorf(ErrProtocol, "value of %d bytes exceeds %d", vl, limit)
	}
	buf := make([]byte, kl+int(vl))
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, fmt.Errorf("bootstrap: message body: %w", noEOF(err))
	}
	m.key = string(buf[:kl])
	m.value = buf[kl:]
	return m, nil
}

// encodeKeys is the value of a GetMany request for keys.
func encodeKeys(keys []string) ([]byte, error) {
	var buf []byte
	for _, k := range keys {
		if len(k) > MaxKeyLen {
			return nil, errorf(ErrTooLarge, "key of %d bytes exceeds %d", len(k), MaxKeyLen)
		}
		buf = binary.BigEndian.AppendUint16(buf, uint16(len(k)))
		buf = append(buf, k...)
	}
	if len(buf) > MaxValueLen {
		return nil, errorf(ErrTooLarge, "a GetMany of %d keys takes %d bytes, more than %d", len(keys), len(buf), MaxValueLen)
	}
	return buf, nil
}

// decodeKeys reads the keys of a GetMany request.
func decodeKeys(b []byte) ([]string, error) {
	var keys []string
	for len(b) > 0 {
		if len(b) < 2 {
			return nil, errorf(ErrProtocol, "GetMany: %d stray bytes after %d keys", len(b), len(keys))
		}
		n := int(binary.BigEndian.Uint16(b))
		if n > MaxKeyLen || len(b) < 2+n {
			return nil, errorf(ErrProtocol, "GetMany: key %d claims %d bytes, %d left", len(keys), n, len(b)-2)
		}
		keys = append(keys, string(b[2:2+n]))
		b = b[2+n:]
	}
	return keys, nil
}

// encodeValues is the value of the answer to a GetMany; it fails with ErrTooLarge past
// maxManyLen.
func encodeValues(vals [][]byte) ([]byte, error) {
	n := 0
	for _, v := range vals {
		n += 4 + len(v)
	}
	if n > maxManyLen {
		return nil, errorf(ErrTooLarge, "the answer to a GetMany of %d keys takes %d bytes, more than %d", len(vals), n, maxManyLen)
	}
	buf := make([]byte, 0, n)
	for _, v := range vals {
		buf = binary.BigEndian.AppendUint32(buf, uint32(len(v)))
		buf = append(buf, v...)
	}
	return buf, nil
}

// decodeValues reads the answer to a GetMany of n keys.
func decodeValues(b []byte, n int) ([][]byte, error) {
	out := make([][]byte, 0, n)
	for len(out) < n {
		if len(b) < 4 {
			return nil, errorf(ErrProtocol, "GetMany answer: %d values of %d, then %d bytes", len(out), n, len(b))
		}
		l := binary.BigEndian.Uint32(b)
		if uint64(l) > uint64(len(b)-4) {
			return nil, errorf(ErrProtocol, "GetMany answer: value %d claims %d bytes, %d left", len(out), l, len(b)-4)
		}
		out = append(out, b[4:4+l:4+l])
		b = b[4+l:]
	}
	if len(b) > 0 {
		return nil, errorf(ErrProtocol, "GetMany answer: %d stray bytes after %d values", len(b), n)
	}
	return out, nil
}

// noEOF turns a clean EOF inside a message into ErrUnexpectedEOF: only a message boundary
// is a clean place for the stream to end.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// statusOf maps an error from the store to a reply status.
func statusOf(err error) uint8 {
	switch {
	case err == nil:
		return statusOK
	case errors.Is(err, ErrKeyExists):
		return statusExists
	case errors.Is(err, ErrTooLarge):
		return statusTooLarge
	case errors.Is(err, ErrRankGone):
		return statusGone
	default:
		return statusClosed
	}
}

// errOf maps a reply status and error text back to an error wrapping the right sentinel.
func errOf(status uint8, text []byte) error {
	var s error
	switch status {
	case statusOK:
		return nil
	case statusExists:
		s = ErrKeyExists
	case statusTooLarge:
		s = ErrTooLarge
	case statusClosed:
		s = ErrClosed
	case statusGone:
		s = ErrRankGone
	default:
		return errorf(ErrProtocol, "unknown reply status %d", status)
	}
	// The server's text begins with the sentinel's own (its error wrapped it): said once.
	return errorf(s, "server: %s", strings.TrimPrefix(string(text), s.Error()+": "))
}

// handshakeLimit bounds the handshake: a silent peer is dropped after it. A variable only so
// tests can shorten it.
var handshakeLimit = 10 * time.Second
