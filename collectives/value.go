package collectives

import (
	"bytes"
	"context"
	"encoding/gob"

	"github.com/gompi/gompi/comm"
)

// The value variants move any Go value that encoding/gob can encode (structs with exported
// fields, maps, slices, strings, ...), like mpi4py's lowercase bcast, scatter, gather and
// allgather. Each value is encoded on its own, its length travels first, then the bytes go
// through the byte collectives. They cost an encoding and a decoding per value on top of the
// data movement: for numbers, the typed collectives are much faster.

// A value collective runs two collectives: the lengths of the encoded values, then the bytes.
// When the first fails on a rank, the communicator's collectives are broken there and the second
// only walks its schedule (aborts, discards), so that a rank that got through the first does not
// wait in the second for this one; the second's algorithm must therefore not depend on the
// lengths, which the failed rank does not know, so each is fixed here. They are always gompi's
// algorithms, never a native backend's: a native collective cannot walk its schedule that way
// (nor be left when ctx ends), and the values are Go's, which C ranks could not decode anyway.

// BcastValue returns root's v on every rank (v is ignored elsewhere; pass the zero value).
// If root cannot encode v, every rank returns an error wrapping comm.ErrInvalidArgument.
func BcastValue[T any](c *comm.Comm, v T, root int) (T, error) {
	return BcastValueContext(context.Background(), c, v, root)
}

// BcastValueContext is BcastValue bounded by ctx (see "Contexts" in the package documentation).
func BcastValueContext[T any](ctx context.Context, c *comm.Comm, v T, root int) (T, error) {
	const name = "BcastValue"
	var zero T
	if checking() {
		if err := checkArgs(ctx, c, valueFP(name, root)); err != nil {
			return zero, err
		}
	}
	if err := checkCall(ctx, c, name); err != nil {
		return zero, err
	}
	if err := checkRoot(c, name, root); err != nil {
		return zero, err
	}
	var data []byte
	var encErr error
	length := []int64{-1}
	if c.Rank() == root {
		if data, encErr = encode(name, c.Rank(), v); encErr == nil {
			length[0] = int64(len(data))
		}
	}
	if err := bcast(ctx, c, name, asBytes(length), root, algBinomial); err != nil {
		_ = bcast(ctx, c, name, nil, root, algBinomial)
		return zero, err
	}
	if encErr != nil {
		return zero, encErr
	}
	if length[0] < 0 {
		return zero, argError(name, c.Rank(), comm.ErrInvalidArgument, "root %d could not encode its value", root)
	}
	if c.Rank() != root {
		data = make([]byte, length[0])
	}
	if err := bcast(ctx, c, name, data, root, algBinomial); err != nil {
		return zero, err
	}
	if c.Rank() == root {
		return v, nil
	}
	return decode[T](name, c.Rank(), data, root)
}

// ScatterValue gives rank i the value send[i] of rank root, where len(send) must be Size()
// (send is ignored elsewhere; pass nil).
func ScatterValue[T any](c *comm.Comm, send []T, root int) (T, error) {
	return ScatterValueContext(context.Background(), c, send, root)
}

// ScatterValueContext is ScatterValue bounded by ctx (see "Contexts" in the package
// documentation).
func ScatterValueContext[T any](ctx context.Context, c *comm.Comm, send []T, root int) (T, error) {
	const name = "ScatterValue"
	var zero T
	if checking() {
		if err := checkArgs(ctx, c, valueFP(name, root)); err != nil {
			return zero, err
		}
	}
	if err := checkCall(ctx, c, name); err != nil {
		return zero, err
	}
	if err := checkRoot(c, name, root); err != nil {
		return zero, err
	}
	p, me := c.Size(), c.Rank()
	var lengths []int64
	var packed []byte
	var counts []int
	var rootErr error
	if me == root {
		lengths = make([]int64, p)
		counts = make([]int, p)
		if len(send) != p {
			rootErr = argError(name, me, comm.ErrSizeMismatch, "send has %d values for %d ranks", len(send), p)
		}
		for i := 0; i < p && rootErr == nil; i++ {
			data, err := encode(name, me, send[i])
			if err != nil {
				rootErr = err
				break
			}
			packed = append(packed, data...)
			lengths[i], counts[i] = int64(len(data)), len(data)
		}
		if rootErr != nil {
			for i := range lengths {
				lengths[i], counts[i] = -1, 0
			}
			packed = nil
		}
	}
	length := []int64{0}
	if err := scatter(ctx, c, name, asBytes(lengths), asBytes(length), 8, root, algBinomial); err != nil {
		_ = scatterv(ctx, c, name, nil, make([]int, p), nil, nil, 1, root, algLinear)
		return zero, err
	}
	if rootErr != nil {
		return zero, rootErr
	}
	if length[0] < 0 {
		return zero, argError(name, me, comm.ErrInvalidArgument, "root %d could not encode the values", root)
	}
	data := make([]byte, length[0])
	if err := scatterv(ctx, c, name, packed, counts, nil, data, 1, root, algLinear); err != nil {
		return zero, err
	}
	return decode[T](name, me, data, root)
}

// GatherValue returns, on rank root, the values v of all ranks in rank order, and nil elsewhere.
func GatherValue[T any](c *comm.Comm, v T, root int) ([]T, error) {
	return GatherValueContext(context.Background(), c, v, root)
}

// GatherValueContext is GatherValue bounded by ctx (see "Contexts" in the package
// documentation).
func GatherValueContext[T any](ctx context.Context, c *comm.Comm, v T, root int) ([]T, error) {
	const name = "GatherValue"
	if checking() {
		if err := checkArgs(ctx, c, valueFP(name, root)); err != nil {
			return nil, err
		}
	}
	if err := checkCall(ctx, c, name); err != nil {
		return nil, err
	}
	if err := checkRoot(c, name, root); err != nil {
		return nil, err
	}
	p, me := c.Size(), c.Rank()
	data, encErr := encode(name, me, v)
	length := []int64{int64(len(data))}
	if encErr != nil {
		length[0], data = -1, nil
	}
	var lengths []int64
	if me == root {
		lengths = make([]int64, p)
	}
	if err := gather(ctx, c, name, asBytes(length), asBytes(lengths), 8, root, algBinomial); err != nil {
		_ = gatherv(ctx, c, name, nil, nil, make([]int, p), nil, 1, root, algLinear)
		return nil, err
	}
	var counts []int
	var all []byte
	if me == root {
		counts = make([]int, p)
		total := 0
		for i, n := range lengths {
			counts[i] = max(int(n), 0)
			total += counts[i]
		}
		all = make([]byte, total)
	}
	if err := gatherv(ctx, c, name, data, all, counts, nil, 1, root, algLinear); err != nil {
		return nil, err
	}
	if encErr != nil {
		return nil, encErr
	}
	if me != root {
		return nil, nil
	}
	return decodeAll[T](name, me, all, lengths)
}

// AllgatherValue returns the values v of all ranks, in rank order, on every rank.
func AllgatherValue[T any](c *comm.Comm, v T) ([]T, error) {
	return AllgatherValueContext(context.Background(), c, v)
}

// AllgatherValueContext is AllgatherValue bounded by ctx (see "Contexts" in the package
// documentation).
func AllgatherValueContext[T any](ctx context.Context, c *comm.Comm, v T) ([]T, error) {
	const name = "AllgatherValue"
	if checking() {
		if err := checkArgs(ctx, c, valueFP(name, -1)); err != nil {
			return nil, err
		}
	}
	if err := checkCall(ctx, c, name); err != nil {
		return nil, err
	}
	p, me := c.Size(), c.Rank()
	data, encErr := encode(name, me, v)
	length := []int64{int64(len(data))}
	if encErr != nil {
		length[0], data = -1, nil
	}
	lengths := make([]int64, p)
	if err := allgather(ctx, c, name, asBytes(length), asBytes(lengths), 8, chooseAllgather(p, 8*p, false)); err != nil {
		_ = allgatherv(ctx, c, name, nil, nil, make([]int, p), nil, 1, algRing)
		return nil, err
	}
	counts := make([]int, p)
	total := 0
	for i, n := range lengths {
		counts[i] = max(int(n), 0)
		total += counts[i]
	}
	all := make([]byte, total)
	if err := allgatherv(ctx, c, name, data, all, counts, nil, 1, algRing); err != nil {
		return nil, err
	}
	if encErr != nil {
		return nil, encErr
	}
	return decodeAll[T](name, me, all, lengths)
}

func encode(name string, rank int, v any) ([]byte, error) {
	var b bytes.Buffer
	if err := gob.NewEncoder(&b).Encode(v); err != nil {
		return nil, argError(name, rank, comm.ErrInvalidArgument, "cannot encode %T: %v", v, err)
	}
	return b.Bytes(), nil
}

func decode[T any](name string, rank int, data []byte, from int) (T, error) {
	var v T
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&v); err != nil {
		return v, argError(name, rank, comm.ErrInvalidArgument, "cannot decode the %d-byte value of rank %d into %T: %v", len(data), from, v, err)
	}
	return v, nil
}

// decodeAll decodes the concatenated values of all ranks; a negative length marks a rank that
// could not encode its value.
func decodeAll[T any](name string, rank int, all []byte, lengths []int64) ([]T, error) {
	out := make([]T, len(lengths))
	for i, n := range lengths {
		if n < 0 {
			return nil, argError(name, rank, comm.ErrInvalidArgument, "rank %d could not encode its value", i)
		}
		v, err := decode[T](name, rank, all[:n], i)
		if err != nil {
			return nil, err
		}
		out[i], all = v, all[n:]
	}
	return out, nil
}
