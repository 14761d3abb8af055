package collectives

// The vector loops of vecadd_amd64.s. Each sets dst[i] = a[i] + b[i] for i < n; the caller
// guarantees n elements at each pointer.

//go:noescape
func addF64(dst, a, b *float64, n int)

//go:noescape
func addF32(dst, a, b *float32, n int)

//go:noescape
func addI64(dst, a, b *int64, n int)

//go:noescape
func addI32(dst, a, b *int32, n int)

const haveVecAdd = true
