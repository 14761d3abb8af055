// Package peerauth is the handshake that opens every connection between two ranks of a job, on
// any stream (TCP between hosts, a Unix socket between ranks sharing memory): both sides prove
// they know the job secret without sending it, and the acceptor learns the dialer's rank.
package peerauth

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"time"
)

// The handshake opens every connection. The dialing rank d sends a hello naming the job and
// both ranks with a fresh nonce; the accepting rank a answers with its own nonce and an HMAC
// over everything so far; d checks it and answers with its own HMAC; a checks that and sends one
// byte of acceptance. Both MACs use the job secret, so neither side learns anything from a
// stranger and a replayed exchange fails on the fresh nonces. The secret never crosses the wire.
//
//	hello  (d→a): magic[6] jobID[16] from[4] to[4] nonceD[32]
//	answer (a→d): nonceA[32] macA[32]
//	proof  (d→a): macD[32]
//	accept (a→d): 0x01
const (
	nonceSize = 32
	// JobIDSize is the length of the job id both sides state.
	JobIDSize = 16
	helloSize = len(helloMagic) + JobIDSize + 4 + 4 + nonceSize
)

var helloMagic = [6]byte{'G', 'O', 'M', 'P', 'I', 1}

// ErrRefused is wrapped by every error that ends a handshake because the peer is not a
// member of the job (or not the rank it claims to be).
var ErrRefused = errors.New("handshake failed")

// JobID returns the 16-byte form of a job id: id itself when it has 16 bytes, else id cut or
// padded with zeros to 16.
func JobID(id []byte) []byte {
	if len(id) == JobIDSize {
		return id
	}
	out := make([]byte, JobIDSize)
	copy(out, id)
	return out
}

func mac(secret []byte, role byte, jobID []byte, from, to uint32, n1, n2 []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte{role})
	m.Write(jobID)
	var b [8]byte
	binary.BigEndian.PutUint32(b[:4], from)
	binary.BigEndian.PutUint32(b[4:], to)
	m.Write(b[:])
	m.Write(n1)
	m.Write(n2)
	return m.Sum(nil)
}

// Dial runs the dialer's side on conn, as rank from connecting to the lower rank to. jobID
// has JobIDSize bytes.
func Dial(conn net.Conn, secret, jobID []byte, from, to int, timeout time.Duration) error {
	conn.SetDeadline(time.Now().Add(timeout))
	defer conn.SetDeadline(time.Time{})
	hello := make([]byte, 0, helloSize)
	hello = append(hello, helloMagic[:]...)
	hello = append(hello, jobID...)
	hello = binary.BigEndian.AppendUint32(hello, uint32(from))
	hello = binary.BigEndian.AppendUint32(hello, uint32(to))
	nonceD := make([]byte, nonceSize)
	rand.Read(nonceD)
	hello = append(hello, nonceD...)
	if _, err := conn.Write(hello); err != nil {
		return err
	}
	answer := make([]byte, nonceSize+sha256.Size)
	if _, err := io.ReadFull(conn, answer); err != nil {
		return fmt.Errorf("%w: reading answer from rank %d: %w", ErrRefused, to, err)
	}
	nonceA, macA := answer[:nonceSize], answer[nonceSize:]
	if !hmac.Equal(macA, mac(secret, 'A', jobID, uint32(from), uint32(to), nonceD, nonceA)) {
		return fmt.Errorf("%w: rank %d does not know the job secret", ErrRefused, to)
	}
	if _, err := conn.Write(mac(secret, 'D', jobID, uint32(from), uint32(to), nonceA, nonceD)); err != nil {
		return err
	}
	var ok [1]byte
	if _, err := io.ReadFull(conn, ok[:]); err != nil || ok[0] != 1 {
		return fmt.Errorf("%w: rank %d refused the connection", ErrRefused, to)
	}
	return nil
}

// Accept runs the acceptor's side on conn, as rank self of a job of size ranks, and returns
// the dialer's rank, which must be above self.
func Accept(conn net.Conn, secret, jobID []byte, self, size int, timeout time.Duration) (int, error) {
	conn.SetDeadline(time.Now().Add(timeout))
	defer conn.SetDeadline(time.Time{})
	hello := make([]byte, helloSize)
	if _, err := io.ReadFull(conn, hello); err != nil {
		return -1, fmt.Errorf("%w: reading hello: %w", ErrRefused, err)
	}
	if !bytes.Equal(hello[:len(helloMagic)], helloMagic[:]) {
		return -1, fmt.Errorf("%w: not a gompi peer (bad magic %q)", ErrRefused, hello[:len(helloMagic)])
	}
	p := hello[len(helloMagic):]
	job, p := p[:JobIDSize], p[JobIDSize:]
	from, to := binary.BigEndian.Uint32(p), binary.BigEndian.Uint32(p[4:])
	nonceD := p[8:]
	if !bytes.Equal(job, jobID) {
		return -1, fmt.Errorf("%w: peer belongs to another job", ErrRefused)
	}
	if int(to) != self || int(from) <= self || int(from) >= size {
		return -1, fmt.Errorf("%w: peer claims to be rank %d dialing rank %d", ErrRefused, from, to)
	}
	nonceA := make([]byte, nonceSize)
	rand.Read(nonceA)
	answer := append(nonceA[:nonceSize:nonceSize], mac(secret, 'A', jobID, from, to, nonceD, nonceA)...)
	if _, err := conn.Write(answer); err != nil {
		return -1, err
	}
	proof := make([]byte, sha256.Size)
	if _, err := io.ReadFull(conn, proof); err != nil {
		return -1, fmt.Errorf("%w: reading proof: %w", ErrRefused, err)
	}
	if !hmac.Equal(proof, mac(secret, 'D', jobID, from, to, nonceA, nonceD)) {
		return -1, fmt.Errorf("%w: peer claiming rank %d does not know the job secret", ErrRefused, from)
	}
	if _, err := conn.Write([]byte{1}); err != nil {
		return -1, err
	}
	return int(from), nil
}
