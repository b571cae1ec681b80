/*
 * nvx start-up, exception vectors and the exactly-counted access paths.
 *
 * Boot: with -M virt,secure=on QEMU enters _start at EL3; the EL3 shim sets SCR_EL3 (NS, HCE,
 * RW, ECVEn=0) and ERETs to EL2, where nvx_main runs for the rest of the run. Started at EL2 (no
 * secure=on) it runs the same, without an EL3 (CNTPOFF_EL2 then never applies at EL1).
 *
 * Register conventions across the access paths:
 *   x0  value read (MRS), x1 value written (MSR),
 *   x9  CNTPCT_EL0 read at EL2 immediately before the access (EL2) or before the ERET (EL1),
 *   x17 fault word: 0, or (EL the exception was taken to) << 60 | ESR,
 *   x16 scratch of the fault handlers.
 * The fault handlers only resume an access that faulted inside the stub table; any other
 * exception is reported by nvx_unexpected (UART line, semihosting exit 3).
 */
#define HCR_E2H_BIT 34
#define GICD_BASE 0x08000000

	.section .text.boot, "ax"
	.global _start
_start:
	mrs	x0, CurrentEL
	lsr	x0, x0, #2
	cmp	x0, #3
	b.ne	1f
	/* ---- EL3 ---- */
	ldr	x0, =__stack_el3_top
	mov	sp, x0
	adr	x0, el3_vectors
	msr	vbar_el3, x0
	/* SCR_EL3: NS(0), RES1(5:4), HCE(8), RW(10); SMD(7)=0, ECVEn(28)=0 */
	mov	x0, #((1 << 0) | (1 << 4) | (1 << 5) | (1 << 8) | (1 << 10))
	msr	scr_el3, x0
	msr	cptr_el3, xzr
	msr	mdcr_el3, xzr
	ldr	x0, =0x30c50830		/* SCTLR_EL2: RES1 bits, MMU/caches off, little-endian */
	msr	sctlr_el2, x0
	mov	x0, #(1 << 31)		/* HCR_EL2.RW */
	msr	hcr_el2, x0
	mov	x0, #0x3c9		/* SPSR: EL2h, DAIF masked */
	msr	spsr_el3, x0
	adr	x0, el2_start
	msr	elr_el3, x0
	bl	el3_init		/* GIC: group 0 as IRQ, PPIs disabled until a wait */
	mov	x19, #1			/* have EL3 */
	isb
	eret
1:	mov	x19, #0
	ldr	x0, =0x30c50830
	msr	sctlr_el2, x0
	mov	x0, #(1 << 31)
	msr	hcr_el2, x0
	isb

el2_start:
	/* ---- EL2 ---- */
	ldr	x0, =__stack_el2_top
	mov	sp, x0
	adr	x0, el2_vectors
	msr	vbar_el2, x0
	adr	x0, el1_vectors		/* HCR_EL2.E2H = 0 here: this is the real VBAR_EL1 */
	msr	vbar_el1, x0
	ldr	x0, =__stack_el1_top
	msr	sp_el1, x0
	ldr	x0, =0x30d00800		/* SCTLR_EL1: RES1 bits, MMU off */
	msr	sctlr_el1, x0
	ldr	x0, =0x33ff		/* CPTR_EL2 (E2H=0 layout): no traps */
	msr	cptr_el2, x0
	msr	cnthctl_el2, xzr
	msr	cntvoff_el2, xzr
	isb
	ldr	x0, =__bss_start
	ldr	x1, =__bss_end
2:	cmp	x0, x1
	b.hs	3f
	str	xzr, [x0], #8
	b	2b
3:	mov	x0, x19
	bl	nvx_main
4:	wfi
	b	4b
	.ltorg

/* ------------------------------------------------------------------------------------------ */
	.text
	.balign 2048
el3_vectors:
	.balign 0x80			/* 0x000 current EL, SP0 */
	b	el3_bad
	.balign 0x80
	b	el3_bad
	.balign 0x80
	b	el3_bad
	.balign 0x80
	b	el3_bad
	.balign 0x80			/* 0x200 current EL, SPx */
	b	el3_bad
	.balign 0x80
	b	el3_bad
	.balign 0x80
	b	el3_bad
	.balign 0x80
	b	el3_bad
	.balign 0x80			/* 0x400 lower EL, AArch64: sync */
	b	el3_sync
	.balign 0x80
	b	el3_bad
	.balign 0x80
	b	el3_bad
	.balign 0x80
	b	el3_bad
	.balign 0x80			/* 0x600 lower EL, AArch32 */
	b	el3_bad
	.balign 0x80
	b	el3_bad
	.balign 0x80
	b	el3_bad
	.balign 0x80
	b	el3_bad

el3_sync:
	mrs	x17, esr_el3
	lsr	x16, x17, #26
	cmp	x16, #0x17		/* SMC from AArch64 (a call from smc_call: x0-x18 are free) */
	b.ne	1f
	cmp	x0, #1
	b.eq	el3_set_ecven
	cmp	x0, #2
	b.eq	el3_arm_limit
	cmp	x0, #3
	b.eq	el3_disarm_limit
	cmp	x0, #4
	b.eq	el3_gic_pending
	b	el3_bad
el3_gic_pending:			/* x0 := GICD_ISPENDR0 (SGIs/PPIs 0..31), read as Secure */
	ldr	x16, =GICD_BASE
	ldr	w0, [x16, #0x200]
	eret
el3_set_ecven:				/* x1: SCR_EL3.ECVEn */
	mrs	x16, scr_el3
	bic	x16, x16, #(1 << 28)
	and	x17, x1, #1
	orr	x16, x16, x17, lsl #28
	msr	scr_el3, x16
	isb
	eret
el3_arm_limit:				/* x1: secure physical timer deadline; x2: PPIs (bits) to enable besides 29 */
	msr	S3_7_C14_C2_2, x1	/* CNTPS_CVAL_EL1 */
	mov	x16, #1
	msr	S3_7_C14_C2_1, x16	/* CNTPS_CTL_EL1 = ENABLE */
	ldr	x16, =GICD_BASE
	mov	w17, #0x7c000000	/* PPIs 26..30 */
	str	w17, [x16, #0x180]	/* GICD_ICENABLER0 */
	orr	w17, w2, #(1 << 29)
	str	w17, [x16, #0x100]	/* GICD_ISENABLER0 */
	dsb	sy
	isb
	eret
el3_disarm_limit:
	msr	S3_7_C14_C2_1, xzr	/* CNTPS_CTL_EL1 = 0 */
	ldr	x16, =GICD_BASE
	mov	w17, #0x7c000000
	str	w17, [x16, #0x180]
	dsb	sy
	isb
	eret
	.ltorg
1:	mrs	x16, elr_el3		/* a trap to EL3 inside the stub table: record, skip */
	adr	x17, stubs_start
	cmp	x16, x17
	b.lo	el3_bad
	adr	x17, stubs_end
	cmp	x16, x17
	b.hs	el3_bad
	add	x16, x16, #4
	msr	elr_el3, x16
	mrs	x17, esr_el3
	orr	x17, x17, #(3 << 60)
	eret
el3_bad:
	mov	x0, #3
	mrs	x1, esr_el3
	mrs	x2, elr_el3
	b	nvx_unexpected

/* ------------------------------------------------------------------------------------------ */
	.balign 2048
el2_vectors:
	.balign 0x80
	b	el2_bad
	.balign 0x80
	b	el2_bad
	.balign 0x80
	b	el2_bad
	.balign 0x80
	b	el2_bad
	.balign 0x80			/* 0x200 current EL, SPx, sync: a fault of an EL2 access */
	b	el2_fault
	.balign 0x80
	b	el2_bad
	.balign 0x80
	b	el2_bad
	.balign 0x80
	b	el2_bad
	.balign 0x80			/* 0x400 lower EL, AArch64, sync: back from EL1 */
	b	el2_from_el1
	.balign 0x80
	b	el2_bad
	.balign 0x80
	b	el2_bad
	.balign 0x80
	b	el2_bad
	.balign 0x80
	b	el2_bad
	.balign 0x80
	b	el2_bad
	.balign 0x80
	b	el2_bad
	.balign 0x80
	b	el2_bad

el2_fault:
	mrs	x16, elr_el2
	adr	x17, stubs_start
	cmp	x16, x17
	b.lo	el2_bad
	adr	x17, stubs_end
	cmp	x16, x17
	b.hs	el2_bad
	add	x16, x16, #4
	msr	elr_el2, x16
	mrs	x17, esr_el2
	orr	x17, x17, #(2 << 60)
	eret

el2_from_el1:
	/* Caller-saved registers of el1_call's caller are free here (see el1_call). */
	mrs	x2, esr_el2
	lsr	x3, x2, #26
	cmp	x3, #0x16		/* HVC from AArch64 */
	b.ne	2f
	ands	x4, x2, #0xffff
	b.eq	el1_done		/* hvc #0: the excursion completed */
	mrs	x5, hcr_el2		/* hvc #1: EL1 took an exception; read its ESR */
	tbnz	x5, #HCR_E2H_BIT, 1f
	mrs	x17, esr_el1
	orr	x17, x17, #(1 << 60)
	b	el1_done
1:	mrs	x17, S3_5_C5_C2_0	/* ESR_EL12 */
	orr	x17, x17, #(1 << 60)
	b	el1_done
2:	orr	x17, x2, #(2 << 60)	/* trapped to EL2 (EC 0x18 and the like) */
	b	el1_done

el2_bad:
	mov	x0, #2
	mrs	x1, esr_el2
	mrs	x2, elr_el2
	b	nvx_unexpected

/* ------------------------------------------------------------------------------------------ */
	.balign 2048
el1_vectors:
	.rept 16
	.balign 0x80
	hvc	#1
	.endr

/* ------------------------------------------------------------------------------------------ */
/*
 * u64 el2_call(u64 entry, u64 value, u64 *count_before, u64 *fault)
 * Calls a stub at EL2: the stub reads CNTPCT_EL0 into x9 and then does its access.
 */
	.global el2_call
el2_call:
	stp	x29, x30, [sp, #-32]!
	stp	x2, x3, [sp, #16]
	mov	x17, #0
	mov	x9, #0
	blr	x0
	ldp	x2, x3, [sp, #16]
	str	x9, [x2]
	str	x17, [x3]
	ldp	x29, x30, [sp], #32
	ret

/*
 * u64 el1_call(u64 entry, u64 value, u64 *count_before, u64 *fault)
 * Runs `entry` at EL1 (EL1h, interrupts masked) with x30 = el1_back; reads CNTPCT_EL0 into x9
 * immediately before the ERET. EL1 comes back by `hvc #0` (done), `hvc #1` from its vectors
 * (an exception at EL1), or by a trap to EL2; el2_from_el1 resumes at el1_done.
 */
	.global el1_call
	.global el1_back
el1_call:
	sub	sp, sp, #112
	stp	x29, x30, [sp, #0]
	stp	x19, x20, [sp, #16]
	stp	x21, x22, [sp, #32]
	stp	x23, x24, [sp, #48]
	stp	x25, x26, [sp, #64]
	stp	x27, x28, [sp, #80]
	stp	x2, x3, [sp, #96]
	msr	elr_el2, x0
	mov	x4, #0x3c5		/* SPSR: EL1h, DAIF masked */
	msr	spsr_el2, x4
	adr	x30, el1_back
	mov	x17, #0
	isb
	mrs	x9, cntpct_el0
	eret
el1_back:
	hvc	#0
el1_done:
	ldp	x2, x3, [sp, #96]
	str	x9, [x2]
	str	x17, [x3]
	ldp	x29, x30, [sp, #0]
	ldp	x19, x20, [sp, #16]
	ldp	x21, x22, [sp, #32]
	ldp	x23, x24, [sp, #48]
	ldp	x25, x26, [sp, #64]
	ldp	x27, x28, [sp, #80]
	add	sp, sp, #112
	ret

/*
 * void sample_lines(u64 out[8], u64 e2h): the four timers' CTL, each preceded by a CNTPCT_EL0
 * read, in the order hptimer, hvtimer, ptimer, vtimer; out = [ctl, count-before] x 4.
 */
	.global sample_lines
sample_lines:
	cbz	x1, 1f
	mrs	x9, cntpct_el0
	mrs	x10, S3_4_C14_C2_1	/* CNTHP_CTL_EL2 */
	stp	x10, x9, [x0, #0]
	mrs	x9, cntpct_el0
	mrs	x10, S3_4_C14_C3_1	/* CNTHV_CTL_EL2 */
	stp	x10, x9, [x0, #16]
	mrs	x9, cntpct_el0
	mrs	x10, S3_5_C14_C2_1	/* CNTP_CTL_EL02 */
	stp	x10, x9, [x0, #32]
	mrs	x9, cntpct_el0
	mrs	x10, S3_5_C14_C3_1	/* CNTV_CTL_EL02 */
	stp	x10, x9, [x0, #48]
	ret
1:	mrs	x9, cntpct_el0
	mrs	x10, S3_4_C14_C2_1	/* CNTHP_CTL_EL2 */
	stp	x10, x9, [x0, #0]
	mrs	x9, cntpct_el0
	mrs	x10, S3_4_C14_C3_1	/* CNTHV_CTL_EL2 */
	stp	x10, x9, [x0, #16]
	mrs	x9, cntpct_el0
	mrs	x10, S3_3_C14_C2_1	/* CNTP_CTL_EL0 */
	stp	x10, x9, [x0, #32]
	mrs	x9, cntpct_el0
	mrs	x10, S3_3_C14_C3_1	/* CNTV_CTL_EL0 */
	stp	x10, x9, [x0, #48]
	ret

/* u64 burn(u64 iterations, u64 *start): a counted loop of 2 instructions per iteration. */
	.global burn
burn:
	mrs	x9, cntpct_el0
	str	x9, [x1]
	cbz	x0, 2f
1:	subs	x0, x0, #1
	b.ne	1b
2:	mrs	x0, cntpct_el0
	ret

/* u64 smc_call(u64 fn, u64 arg, u64 arg2): returns x0 */
	.global smc_call
smc_call:
	smc	#0
	ret

/* u64 wfi_once(u64 *before): CNTPCT_EL0 into *before, WFI, return CNTPCT_EL0 read right after. */
	.global wfi_once
wfi_once:
	mrs	x9, cntpct_el0
	wfi
	mrs	x1, cntpct_el0
	str	x9, [x0]
	mov	x0, x1
	ret

/* u64 semihost(u64 op, u64 param) */
	.global semihost
semihost:
	hlt	#0xf000
	ret

/* ------------------------------------------------------------------------------------------ */
/*
 * The stub table: for each (op1, CRm, op2) with op0 = 3, CRn = 14, a read stub and a write stub
 * of 16 bytes each, at stubs_start + ((op1 << 7 | CRm << 3 | op2) * 2 + write) * 16:
 *   +0 mrs x9, cntpct_el0    (EL2 entry point)
 *   +4 the access            (EL1 entry point)
 *   +8 ret
 */
	.balign 4096
	.global stubs_start
	.global stubs_end
stubs_start:
	.macro stubpair op1, crm, op2
	mrs	x9, cntpct_el0
	mrs	x0, S3_\op1\()_C14_C\crm\()_\op2
	ret
	nop
	mrs	x9, cntpct_el0
	msr	S3_\op1\()_C14_C\crm\()_\op2, x1
	ret
	nop
	.endm
	.macro stubrow op1, crm
	.irp op2, 0, 1, 2, 3, 4, 5, 6, 7
	stubpair \op1, \crm, \op2
	.endr
	.endm
	.macro stubblock op1
	.irp crm, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
	stubrow \op1, \crm
	.endr
	.endm
	.irp op1, 0, 1, 2, 3, 4, 5, 6, 7
	stubblock \op1
	.endr
/*
 * HCR_EL2 (op0 3, op1 4, CRn 1, CRm 1, op2 0), for the routing probe only (at EL1 under NV/NV2
 * it reaches the page or traps); the trace runner never calls it: the harness owns the real
 * HCR_EL2 at EL2. Read stub, then write stub, laid out as in the table.
 */
	.global hcr_stubs
hcr_stubs:
	mrs	x9, cntpct_el0
	mrs	x0, hcr_el2
	ret
	nop
	mrs	x9, cntpct_el0
	msr	hcr_el2, x1
	ret
	nop
/*
 * WFIT x1 (FEAT_WFxT; x1 = the deadline, a CNTVCT_EL0 value), laid out as a stub: +0 at EL2,
 * +4 at EL1. The count after the wake is read by the caller at EL2.
 */
	.global wfit_stub
wfit_stub:
	mrs	x9, cntpct_el0
	.inst	0xd5031021		/* wfit x1 */
	ret
	nop
stubs_end:
