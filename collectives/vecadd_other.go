//go:build !amd64

package collectives

// Without vector loops for this architecture, addVec always leaves the work to the Go loop.

func addF64(dst, a, b *float64, n int) { panic("collectives: no vector loop") }
func addF32(dst, a, b *float32, n int) { panic("collectives: no vector loop") }
func addI64(dst, a, b *int64, n int)   { panic("collectives: no vector loop") }
func addI32(dst, a, b *int32, n int)   { panic("collectives: no vector loop") }

const haveVecAdd = false
