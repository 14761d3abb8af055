#include "textflag.h"

// Element-wise sums dst[i] = a[i] + b[i] over n elements, 64 bytes per loop turn with SSE2 (part
// of every amd64 processor) and one element at a time for the rest. dst may be a or b; the
// slices may be unaligned. See vecadd.go.

// func addF64(dst, a, b *float64, n int)
TEXT ·addF64(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ n+24(FP), CX
f64loop:
	CMPQ   CX, $8
	JLT    f64tail
	MOVUPD 0(SI), X0
	MOVUPD 16(SI), X1
	MOVUPD 32(SI), X2
	MOVUPD 48(SI), X3
	MOVUPD 0(DX), X4
	MOVUPD 16(DX), X5
	MOVUPD 32(DX), X6
	MOVUPD 48(DX), X7
	ADDPD  X4, X0
	ADDPD  X5, X1
	ADDPD  X6, X2
	ADDPD  X7, X3
	MOVUPD X0, 0(DI)
	MOVUPD X1, 16(DI)
	MOVUPD X2, 32(DI)
	MOVUPD X3, 48(DI)
	ADDQ   $64, SI
	ADDQ   $64, DX
	ADDQ   $64, DI
	SUBQ   $8, CX
	JMP    f64loop
f64tail:
	TESTQ CX, CX
	JEQ   f64done
	MOVSD 0(SI), X0
	ADDSD 0(DX), X0
	MOVSD X0, 0(DI)
	ADDQ  $8, SI
	ADDQ  $8, DX
	ADDQ  $8, DI
	DECQ  CX
	JMP   f64tail
f64done:
	RET

// func addF32(dst, a, b *float32, n int)
TEXT ·addF32(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ n+24(FP), CX
f32loop:
	CMPQ   CX, $16
	JLT    f32tail
	MOVUPS 0(SI), X0
	MOVUPS 16(SI), X1
	MOVUPS 32(SI), X2
	MOVUPS 48(SI), X3
	MOVUPS 0(DX), X4
	MOVUPS 16(DX), X5
	MOVUPS 32(DX), X6
	MOVUPS 48(DX), X7
	ADDPS  X4, X0
	ADDPS  X5, X1
	ADDPS  X6, X2
	ADDPS  X7, X3
	MOVUPS X0, 0(DI)
	MOVUPS X1, 16(DI)
	MOVUPS X2, 32(DI)
	MOVUPS X3, 48(DI)
	ADDQ   $64, SI
	ADDQ   $64, DX
	ADDQ   $64, DI
	SUBQ   $16, CX
	JMP    f32loop
f32tail:
	TESTQ CX, CX
	JEQ   f32done
	MOVSS 0(SI), X0
	ADDSS 0(DX), X0
	MOVSS X0, 0(DI)
	ADDQ  $4, SI
	ADDQ  $4, DX
	ADDQ  $4, DI
	DECQ  CX
	JMP   f32tail
f32done:
	RET

// func addI64(dst, a, b *int64, n int)
TEXT ·addI64(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ n+24(FP), CX
i64loop:
	CMPQ   CX, $8
	JLT    i64tail
	MOVOU  0(SI), X0
	MOVOU  16(SI), X1
	MOVOU  32(SI), X2
	MOVOU  48(SI), X3
	MOVOU  0(DX), X4
	MOVOU  16(DX), X5
	MOVOU  32(DX), X6
	MOVOU  48(DX), X7
	PADDQ  X4, X0
	PADDQ  X5, X1
	PADDQ  X6, X2
	PADDQ  X7, X3
	MOVOU  X0, 0(DI)
	MOVOU  X1, 16(DI)
	MOVOU  X2, 32(DI)
	MOVOU  X3, 48(DI)
	ADDQ   $64, SI
	ADDQ   $64, DX
	ADDQ   $64, DI
	SUBQ   $8, CX
	JMP    i64loop
i64tail:
	TESTQ CX, CX
	JEQ   i64done
	MOVQ  0(SI), AX
	ADDQ  0(DX), AX
	MOVQ  AX, 0(DI)
	ADDQ  $8, SI
	ADDQ  $8, DX
	ADDQ  $8, DI
	DECQ  CX
	JMP   i64tail
i64done:
	RET

// func addI32(dst, a, b *int32, n int)
TEXT ·addI32(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ n+24(FP), CX
i32loop:
	CMPQ   CX, $16
	JLT    i32tail
	MOVOU  0(SI), X0
	MOVOU  16(SI), X1
	MOVOU  32(SI), X2
	MOVOU  48(SI), X3
	MOVOU  0(DX), X4
	MOVOU  16(DX), X5
	MOVOU  32(DX), X6
	MOVOU  48(DX), X7
	PADDL  X4, X0
	PADDL  X5, X1
	PADDL  X6, X2
	PADDL  X7, X3
	MOVOU  X0, 0(DI)
	MOVOU  X1, 16(DI)
	MOVOU  X2, 32(DI)
	MOVOU  X3, 48(DI)
	ADDQ   $64, SI
	ADDQ   $64, DX
	ADDQ   $64, DI
	SUBQ   $16, CX
	JMP    i32loop
i32tail:
	TESTQ CX, CX
	JEQ   i32done
	MOVL  0(SI), AX
	ADDL  0(DX), AX
	MOVL  AX, 0(DI)
	ADDQ  $4, SI
	ADDQ  $4, DX
	ADDQ  $4, DI
	DECQ  CX
	JMP   i32tail
i32done:
	RET
