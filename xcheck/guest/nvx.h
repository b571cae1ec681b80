/*
 * nvx: the batch and result formats shared by the guest image and src/xcheck/format.ts.
 * Every field is a little-endian 64-bit word; every offset is in bytes from the start of the
 * batch (or of the result file). Keep in step with src/xcheck/format.ts and xcheck/NOTES.md.
 */
#ifndef NVX_H
#define NVX_H

#define NVX_BATCH_ADDR   0x44000000UL   /* -device loader,file=batch.bin,addr=0x44000000 */
#define NVX_BATCH_MAX    0x04000000UL   /* 64 MiB */
#define NVX_RESULT_ADDR  0x48000000UL
#define NVX_RESULT_MAX   0x07f00000UL   /* up to just below the end of 256 MiB of RAM */

#define NVX_BATCH_MAGIC  0x4843544142584e56UL  /* "NVXBATCH" */
#define NVX_RESULT_MAGIC 0x544c534552584e56UL  /* "NVXRESLT" */
#define NVX_VERSION      1

#define NVX_MODE_TRACES  1
#define NVX_MODE_PROBE   2

/* Batch header: 16 words. */
#define BH_MAGIC      0
#define BH_VERSION    1
#define BH_MODE       2
#define BH_ITEMS      3
#define BH_SIZE       4
#define BH_PATH_OFF   5   /* result file path, NUL-terminated */
#define BH_PATH_LEN   6
#define BH_ITEMS_OFF  7
#define BH_FLAGS      8   /* bit0: after each op also read GICD_ISPENDR0 (at EL3) */
#define BF_GIC        1
#define BF_UART_HEX   2   /* also print the results as hex on the UART (to measure that path) */
#define BH_WORDS      16

/* Trace item: [size-in-bytes, flags, n_init, n_ops, start_at, 0, 0, 0], n_init x [enc, value], n_ops x [opword, arg].
 * start_at: 0, or the count to idle until before op 0 (after the init writes). */
#define TI_WORDS      8
#define TF_E2H        1   /* guest "vhe" */
#define TF_ECV        2   /* features: ["ecv"]: SCR_EL3.ECVEn = 1 */

/* opword bits [7:0] */
#define OP_MSR        1
#define OP_MRS        2
#define OP_TICK       3
#define OP_PREEMPT    4
#define OP_ERET       5
#define OP_EXIT       6
#define OP_WFI        7   /* arg: limit */
#define OP_WFIT       8   /* arg: deadline (a CNTVCT_EL0 value at the current vEL); FEAT_WFxT */
/* opword bits [31:16]: the access's encoding (op0<<14 | op1<<11 | CRn<<7 | CRm<<3 | op2). */

/* Probe cell: 8 words. */
#define PC_ENC        0   /* enc | write << 16 */
#define PC_FLAGS      1
#define PC_CNTHCTL    2   /* raw, in the layout of the host's E2H */
#define PC_VALUE      3   /* MSR value; 0 means "derive a distinct one" */
#define PC_WORDS      8
#define PF_NV1        1
#define PF_HOST_E2H   2
#define PF_ECVEN      4
#define PF_NO_NV2     8   /* clear HCR_EL2.NV2 (NV alone) */
#define PF_NO_NV      16  /* clear HCR_EL2.NV (and NV2) */

/* Result header: 16 words. */
#define RH_MAGIC      0
#define RH_VERSION    1
#define RH_MODE       2
#define RH_ITEMS      3
#define RH_SIZE       4
#define RH_DELTA_EL2  5   /* count at an EL2 access - count read just before it */
#define RH_DELTA_EL1  6   /* count at an EL1 access - count read at EL2 before the ERET */
#define RH_BURN0      7   /* counts a burn of 0 iterations takes (start read to end read) */
#define RH_CNTFRQ     8
#define RH_MMFR2      9
#define RH_MMFR0      10
#define RH_HAVE_EL3   11
#define RH_COUNT0     12  /* count when the first item started */
#define RH_COUNT1     13  /* count when the last item ended */
#define RH_CALIB_OK   14  /* 1 if the E2H=0 and E2H=1 calibrations agreed */
#define RH_WARP_KP    15  /* counts from the read before arming a wait to its WFI */
#define RH_WARP_C0    16  /* wake count - WFI count - limit, for a wait ended by the limit */
#define RH_WARP_CIMM  17  /* wake count - WFI count for a wait of limit 0 */
#define RH_BURN_MAX   18  /* ticks longer than this are waits */
#define RH_WFIT_K_EL2 19  /* count read at EL2 after a WFIT at EL2 woken by its deadline - the deadline count */
#define RH_WFIT_K_EL1 20  /* the same for a WFIT at EL1 (read after the HVC back) */
#define RH_WORDS      24

/* Trace result: 8 words, then n_ops x 12 words. */
#define TR_NOPS       0
#define TR_STATUS     1   /* bit0: an init write faulted; bit1: start_at had already passed */
#define TR_INIT_FAULT 2   /* fault word of the first init write that faulted */
#define TR_INIT_INDEX 3   /* its index, or ~0 */
#define TR_COUNT0     4   /* count read after the init writes, before op 0 */
#define TR_WORDS      8

#define OR_COUNT      0   /* access: count at which it executed; tick/preempt: count at start (of the WFI for a long one); wfi: count of the WFI; eret/exit: count before the ERET */
#define OR_VALUE      1   /* mrs: value read; msr: value written; tick/preempt/wfi: count read right after (the burn / the last WFI) */
#define OR_FAULT      2   /* [63:60] EL the exception was taken to (0: none), [55:0] its ESR */
#define OR_INFO       3   /* [3:0] vEL before, [7:4] vEL after, bit 8: eret at vEL1 / exit at vEL2, bit 9: not supported, [11:10] wfi woken by 1 a line 2 the limit, bit 12: tick by WFI */
#define OR_LINES      4   /* 4 x [ctl, count]: hptimer, hvtimer, ptimer, vtimer, each CTL as read at EL2 */
#define OR_GIC        12  /* GICD_ISPENDR0 read after the CTL samples (~0: not read) */
#define OR_GIC_COUNT  13  /* count read at EL2 just before the SMC that read it */
#define OR_WORDS      14

/* Probe result: 8 words. */
#define PR_FAULT      0
#define PR_VALUE      1   /* x0 after an MRS */
#define PR_CHANGED    2   /* offset of the (first) page slot that changed, or ~0 */
#define PR_NEWVAL     3   /* its new value */
#define PR_NCHANGED   4
#define PR_SENTINEL   5   /* offset whose sentinel an MRS returned, or ~0 */
#define PR_COUNT      6   /* count at the access */
#define PR_WORDS      8

#endif
