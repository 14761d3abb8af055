package main

import "unsafe"

// pageSize is the alignment of every buffer, as OSU aligns its buffers to the page size.
const pageSize = 4096

// alignedBytes returns n zero bytes starting on a pageSize boundary: it allocates pageSize bytes
// of slack and slices from the first aligned address. Go's heap does not move objects, so the
// start stays aligned.
func alignedBytes(n int) []byte {
	buf := make([]byte, n+pageSize)
	off := (pageSize - int(uintptr(unsafe.Pointer(unsafe.SliceData(buf)))%pageSize)) % pageSize
	return buf[off : off+n : off+n]
}

// float32s views b, which starts on a pageSize boundary, as len(b)/4 float32 values.
func float32s(b []byte) []float32 {
	if len(b) < 4 {
		return nil
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/4)
}
