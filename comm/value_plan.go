package comm

import (
	"encoding"
	"encoding/gob"
	"errors"
	"fmt"
	"reflect"
	"unsafe"
)

// How a value is cut into parts (see value.go for the rules as the user sees them).
const (
	// rawMin is the smallest slice or string, in bytes, that travels raw; smaller ones stay in
	// the gob stream, where they cost less than a message of their own.
	rawMin = 4 << 10
	// batchTarget is the gob-encoded size aimed at for one batch of a map or slice.
	batchTarget = 1 << 20
)

// sendPart is one part of a value on the sending side: its descriptor, and its bytes (raw
// slices and strings, straight from the value's memory) or its map or slice (batches).
type sendPart struct {
	partDesc
	data []byte
	v    reflect.Value
}

// valuePlan is how one value travels: the rest, gob-encoded first in the gob stream (invalid
// when the whole value is a part), then the parts.
type valuePlan struct {
	rest  reflect.Value
	parts []sendPart
}

func (p *valuePlan) hasGob() bool {
	if p.rest.IsValid() {
		return true
	}
	for _, sp := range p.parts {
		if sp.kind == partBatches {
			return true
		}
	}
	return false
}

var (
	gobEncoderType    = reflect.TypeFor[gob.GobEncoder]()
	binaryMarshalType = reflect.TypeFor[encoding.BinaryMarshaler]()
	gobDecoderType    = reflect.TypeFor[gob.GobDecoder]()
	binaryUnmarshType = reflect.TypeFor[encoding.BinaryUnmarshaler]()
)

// ownCoding reports whether gob would encode or decode values of t with t's own methods
// (GobEncoder, BinaryMarshaler or their decoding twins, on t or *t; gob leaves TextMarshaler
// alone): such values always go through gob, so that those methods run.
func ownCoding(t reflect.Type) bool {
	for _, it := range []reflect.Type{gobEncoderType, binaryMarshalType, gobDecoderType, binaryUnmarshType} {
		if t.Implements(it) || reflect.PointerTo(t).Implements(it) {
			return true
		}
	}
	return false
}

// rawElem reports whether a slice of t travels raw: t is a fixed-size number (an Elem type)
// with no coding of its own.
func rawElem(t reflect.Type) bool {
	_, ok := elemSizes[t.Kind()]
	return ok && !ownCoding(t)
}

// planValue decides how v travels. Pointers at the top are followed, as gob does. A slice of
// fixed-size numbers or a string of at least rawMin bytes, at the top or in an exported field
// of a struct at the top, travels raw; a non-empty map or a slice of other elements, at the top
// or in such a field, travels as gob batches; everything else is the rest, encoded by gob as
// one message with those fields zeroed.
func planValue(v any) (*valuePlan, error) {
	if v == nil {
		return nil, errors.New("cannot send a nil value")
	}
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return nil, fmt.Errorf("cannot send a nil %v", rv.Type())
		}
		if ownCoding(rv.Type()) {
			return &valuePlan{rest: rv}, nil
		}
		rv = rv.Elem()
	}
	t := rv.Type()
	if ownCoding(t) {
		return &valuePlan{rest: rv}, nil
	}
	if sp, ok := planPart(rv, ""); ok {
		return &valuePlan{parts: []sendPart{sp}}, nil
	}
	if rv.Kind() != reflect.Struct {
		return &valuePlan{rest: rv}, nil
	}
	p := &valuePlan{}
	var rest reflect.Value
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() || ownCoding(f.Type) {
			continue
		}
		sp, ok := planPart(rv.Field(i), f.Name)
		if !ok {
			continue
		}
		if !rest.IsValid() {
			rest = reflect.New(t).Elem()
			rest.Set(rv)
		}
		rest.Field(i).SetZero()
		p.parts = append(p.parts, sp)
	}
	if rest.IsValid() {
		p.rest = rest
	} else {
		p.rest = rv
	}
	return p, nil
}

// planPart returns the part v makes, if it makes one.
func planPart(v reflect.Value, name string) (sendPart, bool) {
	t := v.Type()
	if ownCoding(t) {
		return sendPart{}, false
	}
	switch t.Kind() {
	case reflect.String:
		if v.Len() < rawMin {
			return sendPart{}, false
		}
		s := v.String()
		return sendPart{partDesc: partDesc{kind: partString, name: name, n: len(s)},
			data: unsafe.Slice(unsafe.StringData(s), len(s))}, true
	case reflect.Slice:
		if rawElem(t.Elem()) {
			size := int(t.Elem().Size())
			if v.Len()*size < rawMin {
				return sendPart{}, false
			}
			return sendPart{partDesc: partDesc{kind: partRaw, elem: t.Elem().Kind(), esize: size, name: name, n: v.Len() * size},
				data: unsafe.Slice((*byte)(v.UnsafePointer()), v.Len()*size)}, true
		}
		fallthrough
	case reflect.Map:
		if v.Len() == 0 {
			return sendPart{}, false
		}
		return sendPart{partDesc: partDesc{kind: partBatches, name: name, n: v.Len()}, v: v}, true
	}
	return sendPart{}, false
}

// destination returns the value that ptr points to, following and allocating pointers as gob
// does; ptr must be a non-nil pointer.
func destination(ptr any) reflect.Value {
	dst := reflect.ValueOf(ptr).Elem()
	for dst.Kind() == reflect.Pointer && !ownCoding(dst.Type()) {
		if dst.IsNil() {
			dst.Set(reflect.New(dst.Type().Elem()))
		}
		dst = dst.Elem()
	}
	return dst
}

// target returns where part p goes in dst: dst itself, or its exported field of p's name.
// skip is true when dst is a struct without that field: gob ignores fields the receiver does
// not have, and so does RecvValue. A field of a type that cannot take p is an error.
func target(dst reflect.Value, p partDesc) (v reflect.Value, skip bool, err error) {
	v = dst
	if p.name != "" {
		if dst.Kind() != reflect.Struct {
			return v, false, fmt.Errorf("the value has field %s, the destination is a %v", p.name, dst.Type())
		}
		f, ok := dst.Type().FieldByName(p.name)
		if !ok || len(f.Index) != 1 || !f.IsExported() {
			return v, true, nil
		}
		v = dst.Field(f.Index[0])
	}
	t := v.Type()
	fits := false
	switch p.kind {
	case partRaw:
		fits = t.Kind() == reflect.Slice && t.Elem().Kind() == p.elem && rawElem(t.Elem()) && !ownCoding(t)
	case partString:
		fits = t.Kind() == reflect.String && !ownCoding(t)
	case partBatches:
		fits = (t.Kind() == reflect.Slice || t.Kind() == reflect.Map) && !ownCoding(t)
	}
	if !fits {
		where := "the destination"
		if p.name != "" {
			where = "field " + p.name
		}
		return v, false, fmt.Errorf("%s is a %v, the value has %s", where, t, p.describe())
	}
	return v, false, nil
}

// rawTarget makes the slice v (or the string's buffer) ready for p's bytes and returns its
// memory. Like gob, it reuses a slice's array when it has room enough.
func rawTarget(v reflect.Value, p partDesc) []byte {
	if p.kind == partString {
		return make([]byte, p.n)
	}
	count := p.n / p.esize
	if v.Cap() >= count {
		v.SetLen(count)
	} else {
		v.Set(reflect.MakeSlice(v.Type(), count, count))
	}
	return unsafe.Slice((*byte)(v.UnsafePointer()), p.n)
}

// setString gives the string v the received bytes b, which nothing else holds.
func setString(v reflect.Value, b []byte) {
	v.SetString(unsafe.String(unsafe.SliceData(b), len(b)))
}
