/*
 * nvx: a bare-metal interpreter of nvconform traces for qemu-system-aarch64 (-M virt,
 * virtualization=on, secure=on, -cpu max, -icount shift=0,sleep=off), and the FEAT_NV2 routing
 * probe. It reads a batch (nvx.h) that -device loader put at NVX_BATCH_ADDR, runs every item
 * from a clean state, and writes the results to a host file with semihosting.
 *
 * Trace mode: the guest hypervisor (vEL2) is real EL2 with HCR_EL2.E2H = 1 ("vhe") or 0
 * ("nvhe"), TGE = 0; the nested guest (vEL1) is real EL1. An access at vEL1 is one excursion:
 * EL2 reads CNTPCT_EL0, ERETs to the access in the stub table, and EL1 comes back with HVC
 * (or the access traps to EL2, or faults at EL1 and its vector HVCs). After every op the four
 * timers' CTL are read at EL2, each right after a CNTPCT_EL0 read.
 *
 * Probe mode: the access runs at EL1 with HCR_EL2.{NV,NV1,NV2} as the cell says and VNCR_EL2
 * pointing at a page of sentinels; EL2 then looks at what changed.
 */
#include "nvx.h"

typedef unsigned long u64;
typedef unsigned int u32;
typedef unsigned char u8;

#define MRS(reg) ({ u64 __v; __asm__ volatile("mrs %0, " #reg : "=r"(__v)); __v; })
#define MSR(reg, v) __asm__ volatile("msr " #reg ", %0" ::"r"((u64)(v)) : "memory")
#define ISB() __asm__ volatile("isb" ::: "memory")
#define DSB() __asm__ volatile("dsb sy" ::: "memory")

#define HCR_RW  (1UL << 31)
#define HCR_E2H (1UL << 34)
#define HCR_NV  (1UL << 42)
#define HCR_NV1 (1UL << 43)
#define HCR_NV2 (1UL << 45)

/* Longest burn: 2^26 iterations (about 2^27 counts); the Node side limits ticks well below. */
#define BURN_MAX_ITERS (1UL << 26)

extern char stubs_start[], hcr_stubs[], wfit_stub[], el1_back[], __vncr_page[];
u64 el2_call(u64 entry, u64 value, u64 *before, u64 *fault);
u64 el1_call(u64 entry, u64 value, u64 *before, u64 *fault);
void sample_lines(u64 *out, u64 e2h);
u64 burn(u64 iterations, u64 *start);
u64 smc_call(u64 fn, u64 arg, u64 arg2);
u64 wfi_once(u64 *before);
void el3_init(void);
u64 semihost(u64 op, u64 param);
void nvx_main(u64 el3);
void nvx_unexpected(u64 el, u64 esr, u64 elr);

static u64 have_el3;
static u64 delta_el2, delta_el1, burn0, calib_ok;
static u64 warp_kp, warp_c0, warp_cimm;
static u64 wfit_k[3]; /* [EL]: read after a WFIT woken by its deadline - the deadline count */

#define GICD ((volatile u32 *)0x08000000UL)
#define GICC ((volatile u32 *)0x08010000UL)
#define PPI_TIMERS ((1u << 26) | (1u << 27) | (1u << 28) | (1u << 30)) /* hptimer, vtimer, hvtimer, ptimer */

/*
 * At EL3 (Secure), GICv2 with the security extensions: every interrupt stays in group 0, which
 * the CPU interface signals as IRQ (FIQEn = 0). All SGIs/PPIs start disabled; a wait enables the
 * timer PPIs it waits for (plus PPI 29, the secure physical timer used as the limit) by SMC.
 * Nothing is ever acknowledged or taken: a pending IRQ only ends a WFI.
 */
void el3_init(void)
{
	GICD[0x180 / 4] = 0xffffffffu; /* GICD_ICENABLER0 */
	GICD[0] = 1;                   /* GICD_CTLR.EnableGrp0 */
	GICC[1] = 0xff;                /* GICC_PMR */
	GICC[0] = 1;                   /* GICC_CTLR.EnableGrp0, FIQEn = 0 */
}

/* ---- output ---- */
static void uart_putc(char c)
{
	volatile u32 *dr = (volatile u32 *)0x09000000UL;
	volatile u32 *fr = (volatile u32 *)0x09000018UL;
	while (*fr & (1u << 5))
		;
	*dr = (u32)(u8)c;
}
static void uart_puts(const char *s)
{
	while (*s)
		uart_putc(*s++);
}
static void uart_hex(u64 v)
{
	int started = 0;
	uart_puts("0x");
	for (int i = 60; i >= 0; i -= 4) {
		u64 d = (v >> i) & 15;
		if (d || started || i == 0) {
			uart_putc("0123456789abcdef"[d]);
			started = 1;
		}
	}
}
static void uart_dec(u64 v)
{
	char buf[24];
	int n = 0;
	do {
		buf[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		uart_putc(buf[--n]);
}

static void __attribute__((noreturn)) sh_exit(u64 code)
{
	u64 blk[2] = { 0x20026, code }; /* ADP_Stopped_ApplicationExit */
	semihost(0x18, (u64)blk);
	for (;;)
		__asm__ volatile("wfi");
}

static int sh_write_file(const char *path, u64 path_len, const void *buf, u64 len)
{
	u64 open_blk[3] = { (u64)path, 5 /* "wb" */, path_len };
	long h = (long)semihost(0x01, (u64)open_blk);
	if (h < 0)
		return -1;
	u64 write_blk[3] = { (u64)h, (u64)buf, len };
	u64 left = semihost(0x05, (u64)write_blk);
	u64 close_blk[1] = { (u64)h };
	semihost(0x02, (u64)close_blk);
	return left == 0 ? 0 : -1;
}

void nvx_unexpected(u64 el, u64 esr, u64 elr)
{
	uart_puts("nvx: unexpected exception taken to EL");
	uart_dec(el);
	uart_puts(" esr=");
	uart_hex(esr);
	uart_puts(" elr=");
	uart_hex(elr);
	uart_puts("\n");
	sh_exit(3);
}

/* ---- encodings and the stub table ---- */
#define ENC(op1, crn, crm, op2) ((3UL << 14) | ((u64)(op1) << 11) | ((u64)(crn) << 7) | ((u64)(crm) << 3) | (u64)(op2))
#define ENC_CNTPCT ENC(3, 14, 0, 1)
#define ENC_HCR ENC(4, 1, 1, 0)
/* What a trace may access: the timer registers (the harness owns HCR_EL2 at EL2). */
static int enc_ok(u64 enc)
{
	return ((enc >> 14) & 3) == 3 && ((enc >> 7) & 15) == 14;
}
/* What the routing probe may access at EL1: the timer registers and HCR_EL2. */
static int probe_enc_ok(u64 enc)
{
	return enc_ok(enc) || enc == ENC_HCR;
}
static u64 stub(u64 enc, u64 write)
{
	if (enc == ENC_HCR)
		return (u64)hcr_stubs + write * 16;
	u64 op1 = (enc >> 11) & 7, crm = (enc >> 3) & 15, op2 = enc & 7;
	return (u64)stubs_start + ((((op1 << 7) | (crm << 3) | op2) * 2 + write) * 16);
}

static void set_hcr(u64 v)
{
	MSR(hcr_el2, v);
	ISB();
}

static void set_ecven(u64 on)
{
	if (have_el3)
		smc_call(1, on, 0);
}

/* The clean state: E2H = 0, every timer disabled with CVAL 0, offsets and controls 0. */
static void reset_state(u64 ecven)
{
	set_hcr(HCR_RW);
	set_ecven(1);
	MSR(S3_4_C14_C0_6, 0); /* CNTPOFF_EL2 (needs SCR_EL3.ECVEn = 1 at EL2) */
	set_ecven(ecven);
	MSR(cnthctl_el2, 0);
	MSR(cntkctl_el1, 0);
	MSR(cntvoff_el2, 0);
	MSR(cntp_ctl_el0, 0);
	MSR(cntp_cval_el0, 0);
	MSR(cntv_ctl_el0, 0);
	MSR(cntv_cval_el0, 0);
	MSR(S3_4_C14_C2_1, 0); /* CNTHP_CTL_EL2 */
	MSR(S3_4_C14_C2_2, 0); /* CNTHP_CVAL_EL2 */
	MSR(S3_4_C14_C3_1, 0); /* CNTHV_CTL_EL2 */
	MSR(S3_4_C14_C3_2, 0); /* CNTHV_CVAL_EL2 */
	ISB();
}

/*
 * How many counts pass between the CNTPCT_EL0 read and the access, at EL2 and at EL1 (measured
 * by making the access itself a CNTPCT_EL0 read), and what an empty burn costs.
 */
static void calibrate(void)
{
	u64 b, f, v, d2[2], d1[2];
	for (int e2h = 0; e2h < 2; e2h++) {
		set_hcr(HCR_RW | (e2h ? HCR_E2H : 0));
		MSR(cnthctl_el2, e2h ? (1UL << 10) : 1UL); /* EL1PCTEN: EL1 reads CNTPCT_EL0 untrapped */
		ISB();
		v = el2_call(stub(ENC_CNTPCT, 0), 0, &b, &f);
		d2[e2h] = f ? ~0UL : v - b;
		v = el1_call(stub(ENC_CNTPCT, 0) + 4, 0, &b, &f);
		d1[e2h] = f ? ~0UL : v - b;
	}
	MSR(cnthctl_el2, 0);
	set_hcr(HCR_RW);
	delta_el2 = d2[0];
	delta_el1 = d1[0];
	calib_ok = d2[0] == d2[1] && d1[0] == d1[1] && d2[0] != ~0UL && d1[0] != ~0UL;
	u64 s, e = burn(0, &s);
	burn0 = e - s;
}

/* ---- waiting: WFI with the secure physical timer as the limit ---- */
/* Ticks longer than this are a WFI until the limit timer fires (-icount sleep=off: the clock jumps). */
#define BURN_MAX 4096UL
/* No wait longer than this (a deadline beyond QEMU's int64 ns range would never fire). */
#define WAIT_MAX (1UL << 44)

static u64 lines_asserted(u64 e2h)
{
	u64 l[8];
	sample_lines(l, e2h);
	for (int t = 0; t < 4; t++)
		if ((l[2 * t] & 7) == 5)
			return 1;
	return 0;
}

struct wait_result {
	u64 pre;   /* count read before arming */
	u64 start; /* count at which the first WFI executed */
	u64 wake;  /* count read right after the last WFI */
	u64 why;   /* 1: a timer line, 2: the limit */
};

/*
 * Idle until one of the trace's timer lines is asserted (if `lines`) or `limit` counts after the
 * first WFI. The limit is the EL3 secure physical timer (PPI 29) at start + limit: its deadline is
 * computed before arming as pre + warp_kp + limit, warp_kp being the (deterministic) counts from
 * that read to the WFI, calibrated at boot. A wake with neither condition goes back to WFI.
 */
static void wait_for(u64 limit, u64 lines, u64 e2h, struct wait_result *r)
{
	if (limit > WAIT_MAX)
		limit = WAIT_MAX;
	u64 b;
	r->pre = MRS(cntpct_el0);
	u64 deadline = r->pre + warp_kp + limit;
	smc_call(2, deadline, lines ? PPI_TIMERS : 0);
	r->wake = wfi_once(&b);
	r->start = b + 1;
	for (;;) {
		if (lines && lines_asserted(e2h)) {
			r->why = 1;
			break;
		}
		if (r->wake >= deadline) {
			r->why = 2;
			break;
		}
		r->wake = wfi_once(&b);
	}
	smc_call(3, 0, 0);
}

/*
 * WFIT with `deadline` at `el` (the real EL2, or EL1 by an excursion), until one of the trace's
 * timer lines is asserted or CNTVCT_EL0 as seen at that EL reaches the deadline; a wake with
 * neither goes back to WFIT. The limit timer (EL3, PPI 29) is armed WFIT_LIMIT (2^40) counts
 * after the first WFIT as a safety net (the cross-check cuts longer waits to 2^40). r->start: the count the first WFIT executed at; r->wake: the count it woke at, estimated
 * as the count read back at EL2 less the calibrated latency wfit_k[el].
 */
#define WFIT_LIMIT (1UL << 40)
static u64 wfit_kp[3]; /* [EL]: the first WFIT's count - the count read before arming its limit */
static void wfit_for(u64 deadline, u64 el, u64 e2h, struct wait_result *r)
{
	u64 b, f, raw;
	r->pre = MRS(cntpct_el0);
	/* The safety limit, exactly WFIT_LIMIT after the first WFIT (wfit_kp is calibrated). */
	u64 limit = r->pre + wfit_kp[el] + WFIT_LIMIT;
	smc_call(2, limit, PPI_TIMERS);
	r->start = 0;
	for (;;) {
		if (el == 2) {
			el2_call((u64)wfit_stub, deadline, &b, &f);
			raw = MRS(cntpct_el0);
			if (!r->start)
				r->start = b + delta_el2;
		} else {
			el1_call((u64)wfit_stub + 4, deadline, &b, &f);
			raw = MRS(cntpct_el0);
			if (!r->start)
				r->start = b + delta_el1;
		}
		r->wake = raw - wfit_k[el];
		/* CNTVCT_EL0 as the WFIT saw it: the physical count at EL2 with E2H = 1, else count - CNTVOFF_EL2. */
		u64 vct = r->wake - ((el == 2 && e2h) ? 0 : MRS(cntvoff_el2));
		if (lines_asserted(e2h)) {
			r->why = 1;
			break;
		}
		if (r->wake >= limit) {
			r->why = 3;
			break;
		}
		if (vct >= deadline) {
			r->why = 2;
			break;
		}
	}
	smc_call(3, 0, 0);
}

static void calibrate_wfit(void)
{
	struct wait_result r;
	if (!have_el3)
		return;
	/* With E2H = 0 and CNTVOFF_EL2 = 0 the deadline is a physical count. */
	set_hcr(HCR_RW);
	MSR(cntvoff_el2, 0);
	ISB();
	for (u64 el = 1; el <= 2; el++) {
		wfit_k[el] = 0;
		wfit_kp[el] = 0;
		u64 d = MRS(cntpct_el0) + 1000;
		wfit_for(d, el, 0, &r);
		wfit_k[el] = r.wake - d;
		wfit_kp[el] = r.start - r.pre;
	}
}

static void calibrate_wait(void)
{
	struct wait_result r;
	if (!have_el3)
		return;
	warp_kp = 0;
	wait_for(1000, 0, 0, &r);
	warp_kp = r.start - r.pre;
	wait_for(1000, 0, 0, &r);
	warp_c0 = r.wake - r.start - 1000;
	wait_for(0, 0, 0, &r);
	warp_cimm = r.wake - r.start;
}

/* ---- trace mode ---- */
static u64 *run_trace(const u64 *item, u64 *out, u64 bflags)
{
	u64 flags = item[1], ninit = item[2], nops = item[3], start_at = item[4];
	const u64 *init = item + TI_WORDS;
	const u64 *ops = init + 2 * ninit;
	u64 e2h = flags & TF_E2H;
	u64 b, f, v;

	reset_state((flags & TF_ECV) ? 1 : 0);
	set_hcr(HCR_RW | (e2h ? HCR_E2H : 0));

	for (int i = 0; i < TR_WORDS; i++)
		out[i] = 0;
	out[TR_NOPS] = nops;
	out[TR_INIT_INDEX] = ~0UL;
	for (u64 i = 0; i < ninit; i++) {
		u64 enc = init[2 * i];
		f = 0;
		if (!enc_ok(enc))
			f = ~0UL;
		else
			el2_call(stub(enc, 1), init[2 * i + 1], &b, &f);
		if (f && out[TR_INIT_INDEX] == ~0UL) {
			out[TR_STATUS] |= 1;
			out[TR_INIT_FAULT] = f;
			out[TR_INIT_INDEX] = i;
		}
	}
	if (start_at && have_el3) {
		/* Idle (the clock jumps) until start_at, so that op 0 runs a fixed few counts after it. */
		u64 now = MRS(cntpct_el0);
		if (start_at > now + warp_kp + 64 && start_at - now < (1UL << 62)) {
			struct wait_result r;
			while (start_at - now > WAIT_MAX + warp_kp + 64) {
				wait_for(WAIT_MAX, 0, e2h, &r);
				now = MRS(cntpct_el0);
			}
			wait_for(start_at - now - warp_kp, 0, e2h, &r);
		} else
			out[TR_STATUS] |= 2; /* start_at already passed (or too far) */
	}
	out[TR_COUNT0] = MRS(cntpct_el0);

	u64 el = 2;
	u64 *rec = out + TR_WORDS;
	for (u64 k = 0; k < nops; k++, rec += OR_WORDS) {
		u64 w = ops[2 * k], arg = ops[2 * k + 1];
		u64 kind = w & 0xff, enc = (w >> 16) & 0xffff;
		u64 info = el, count = 0;
		b = 0;
		f = 0;
		v = 0;
		switch (kind) {
		case OP_MSR:
		case OP_MRS: {
			u64 wr = kind == OP_MSR;
			if (!enc_ok(enc)) {
				info |= 1 << 9;
				count = MRS(cntpct_el0);
				break;
			}
			if (el == 2) {
				v = el2_call(stub(enc, wr), arg, &b, &f);
				count = b + delta_el2;
			} else {
				v = el1_call(stub(enc, wr) + 4, arg, &b, &f);
				count = b + delta_el1;
				if (f && (f >> 60) == 2)
					el = 2; /* trapped to the guest hypervisor */
			}
			if (wr)
				v = arg;
			break;
		}
		case OP_TICK:
		case OP_PREEMPT: {
			if (arg > BURN_MAX && have_el3) {
				struct wait_result r;
				wait_for(arg, 0, e2h, &r);
				v = r.wake;
				count = r.start;
				info |= 1 << 12; /* by WFI */
				break;
			}
			u64 it = arg > burn0 ? (arg - burn0) / 2 : 0;
			if (it > BURN_MAX_ITERS)
				it = BURN_MAX_ITERS;
			v = burn(it, &b);
			count = b;
			break;
		}
		case OP_WFI: {
			struct wait_result r;
			if (!have_el3) {
				info |= 1 << 9;
				count = MRS(cntpct_el0);
				break;
			}
			wait_for(arg, 1, e2h, &r);
			v = r.wake;
			count = r.start;
			info |= r.why << 10;
			break;
		}
		case OP_WFIT: {
			struct wait_result r;
			if (!have_el3) {
				info |= 1 << 9;
				count = MRS(cntpct_el0);
				break;
			}
			wfit_for(arg, el, e2h, &r);
			v = r.wake;
			count = r.start;
			info |= r.why << 10;
			break;
		}
		case OP_ERET:
			if (el != 2)
				info |= 1 << 8;
			el1_call((u64)el1_back, 0, &b, &f);
			count = b;
			el = 1;
			break;
		case OP_EXIT:
			if (el != 1)
				info |= 1 << 8;
			el1_call((u64)el1_back, 0, &b, &f);
			count = b;
			el = 2;
			break;
		default:
			info |= 1 << 9;
			count = MRS(cntpct_el0);
			break;
		}
		u64 lines[8];
		sample_lines(lines, e2h);
		if (have_el3 && (bflags & BF_GIC)) {
			rec[OR_GIC_COUNT] = MRS(cntpct_el0);
			rec[OR_GIC] = smc_call(4, 0, 0);
		} else {
			rec[OR_GIC_COUNT] = 0;
			rec[OR_GIC] = ~0UL;
		}
		rec[OR_COUNT] = count;
		rec[OR_VALUE] = v;
		rec[OR_FAULT] = f;
		rec[OR_INFO] = info | (el << 4);
		for (int t = 0; t < 4; t++) {
			rec[OR_LINES + 2 * t] = lines[2 * t];
			rec[OR_LINES + 2 * t + 1] = lines[2 * t + 1] + delta_el2;
		}
	}
	return rec;
}

/* ---- probe mode ---- */
static void run_cell(const u64 *c, u64 *r, u64 idx)
{
	u64 enc = c[PC_ENC] & 0xffff, wr = (c[PC_ENC] >> 16) & 1, fl = c[PC_FLAGS];
	u64 val = c[PC_VALUE] ? c[PC_VALUE] : (0xa5a5000000000001UL | ((idx & 0xffff) << 16));
	volatile u64 *page = (volatile u64 *)__vncr_page;
	u64 b = 0, f = 0, v = 0;

	for (int i = 0; i < PR_WORDS; i++)
		r[i] = 0;
	r[PR_CHANGED] = ~0UL;
	r[PR_SENTINEL] = ~0UL;
	if (!probe_enc_ok(enc)) {
		r[PR_FAULT] = ~0UL;
		return;
	}
	reset_state((fl & PF_ECVEN) ? 1 : 0);
	u64 host = HCR_RW | ((fl & PF_HOST_E2H) ? HCR_E2H : 0);
	set_hcr(host);
	MSR(cnthctl_el2, c[PC_CNTHCTL]);
	MSR(S3_4_C2_C2_0, (u64)__vncr_page); /* VNCR_EL2 */
	u64 sent = 0x5e5e000000000000UL | ((idx & 0xffff) << 16);
	for (u64 o = 0; o < 512; o++)
		page[o] = sent | (o * 8);
	DSB();
	u64 nv = 0;
	if (!(fl & PF_NO_NV)) {
		nv |= HCR_NV;
		if (!(fl & PF_NO_NV2))
			nv |= HCR_NV2;
		if (fl & PF_NV1)
			nv |= HCR_NV1;
	}
	set_hcr(host | nv);
	v = el1_call(stub(enc, wr) + 4, val, &b, &f);
	set_hcr(host);
	DSB();
	u64 n = 0;
	for (u64 o = 0; o < 512; o++) {
		u64 x = page[o];
		if (x != (sent | (o * 8))) {
			if (!n) {
				r[PR_CHANGED] = o * 8;
				r[PR_NEWVAL] = x;
			}
			n++;
		}
	}
	if (!wr && (v & ~0xfffUL) == sent && (v & 7) == 0)
		r[PR_SENTINEL] = v & 0xfff;
	r[PR_FAULT] = f;
	r[PR_VALUE] = wr ? val : v;
	r[PR_NCHANGED] = n;
	r[PR_COUNT] = b + delta_el1;
	MSR(cnthctl_el2, 0);
	set_hcr(HCR_RW);
}

void nvx_main(u64 el3)
{
	const u64 *bh = (const u64 *)NVX_BATCH_ADDR;
	u64 *rh = (u64 *)NVX_RESULT_ADDR;
	u64 mmfr2 = MRS(S3_0_C0_C7_2), mmfr0 = MRS(id_aa64mmfr0_el1), frq = MRS(cntfrq_el0);
	have_el3 = el3;

	if (bh[BH_MAGIC] != NVX_BATCH_MAGIC) {
		uart_puts("nvx-id: mmfr2=");
		uart_hex(mmfr2);
		uart_puts(" mmfr0=");
		uart_hex(mmfr0);
		uart_puts(" nv=");
		uart_dec((mmfr2 >> 24) & 15);
		uart_puts(" ecv=");
		uart_dec((mmfr0 >> 60) & 15);
		uart_puts(" el3=");
		uart_dec(el3);
		uart_puts(" cntfrq=");
		uart_dec(frq);
		uart_puts(" (no batch loaded)\n");
		sh_exit(0);
	}
	if (bh[BH_VERSION] != NVX_VERSION || (bh[BH_MODE] != NVX_MODE_TRACES && bh[BH_MODE] != NVX_MODE_PROBE) ||
	    bh[BH_SIZE] > NVX_BATCH_MAX) {
		uart_puts("nvx: bad batch header (version/mode/size)\n");
		sh_exit(4);
	}
	calibrate();
	calibrate_wait();
	calibrate_wfit();
	for (int i = 0; i < RH_WORDS; i++)
		rh[i] = 0;
	rh[RH_MAGIC] = NVX_RESULT_MAGIC;
	rh[RH_VERSION] = NVX_VERSION;
	rh[RH_MODE] = bh[BH_MODE];
	rh[RH_ITEMS] = bh[BH_ITEMS];
	rh[RH_DELTA_EL2] = delta_el2;
	rh[RH_DELTA_EL1] = delta_el1;
	rh[RH_BURN0] = burn0;
	rh[RH_CNTFRQ] = frq;
	rh[RH_MMFR2] = mmfr2;
	rh[RH_MMFR0] = mmfr0;
	rh[RH_HAVE_EL3] = el3;
	rh[RH_CALIB_OK] = calib_ok;
	rh[RH_WARP_KP] = warp_kp;
	rh[RH_WARP_C0] = warp_c0;
	rh[RH_WARP_CIMM] = warp_cimm;
	rh[RH_WFIT_K_EL2] = wfit_k[2];
	rh[RH_WFIT_K_EL1] = wfit_k[1];
	rh[RH_BURN_MAX] = BURN_MAX;
	rh[RH_COUNT0] = MRS(cntpct_el0);

	u64 *out = rh + RH_WORDS;
	u64 *limit = (u64 *)(NVX_RESULT_ADDR + NVX_RESULT_MAX);
	const u8 *item = (const u8 *)bh + bh[BH_ITEMS_OFF];
	const u8 *bend = (const u8 *)bh + bh[BH_SIZE];
	for (u64 i = 0; i < bh[BH_ITEMS]; i++) {
		if (bh[BH_MODE] == NVX_MODE_TRACES) {
			const u64 *t = (const u64 *)item;
			if (item + TI_WORDS * 8 > bend || item + t[0] > bend || out + TR_WORDS + t[3] * OR_WORDS > limit) {
				uart_puts("nvx: batch item out of bounds or results too large at item ");
				uart_dec(i);
				uart_puts("\n");
				sh_exit(4);
			}
			out = run_trace(t, out, bh[BH_FLAGS]);
			item += t[0];
		} else {
			if (item + PC_WORDS * 8 > bend || out + PR_WORDS > limit) {
				uart_puts("nvx: batch cell out of bounds\n");
				sh_exit(4);
			}
			run_cell((const u64 *)item, out, i);
			item += PC_WORDS * 8;
			out += PR_WORDS;
		}
	}
	rh[RH_COUNT1] = MRS(cntpct_el0);
	rh[RH_SIZE] = (u64)((u8 *)out - (u8 *)rh);
	if (bh[BH_FLAGS] & BF_UART_HEX) {
		/* For measuring only: the same results as hex words on the UART, 4 words a line. */
		for (u64 i = 0; i < rh[RH_SIZE] / 8; i++) {
			uart_hex(rh[i]);
			uart_putc((i & 3) == 3 ? '\n' : ' ');
		}
		uart_putc('\n');
	}
	const char *path = (const char *)bh + bh[BH_PATH_OFF];
	if (sh_write_file(path, bh[BH_PATH_LEN], rh, rh[RH_SIZE]) != 0) {
		uart_puts("nvx: cannot write the result file\n");
		sh_exit(5);
	}
	uart_puts("nvx: done ");
	uart_dec(bh[BH_ITEMS]);
	uart_puts(" items\n");
	sh_exit(0);
}

/* The compiler may emit calls to these. */
void *memset(void *d, int c, unsigned long n);
void *memcpy(void *d, const void *s, unsigned long n);
void *memset(void *d, int c, unsigned long n)
{
	u8 *p = d;
	while (n--)
		*p++ = (u8)c;
	return d;
}
void *memcpy(void *d, const void *s, unsigned long n)
{
	u8 *p = d;
	const u8 *q = s;
	while (n--)
		*p++ = *q++;
	return d;
}
