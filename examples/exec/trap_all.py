#!/usr/bin/env python3
"""An nvconform implementation as an external process (docs/protocol.md), standard library only.

A host hypervisor that traps every guest timer access and emulates the Arm generic timer
exactly, as the guest hypervisor (vEL2) and its nested guest (vEL1) see it.

    nvconform run examples/vhe-cval-basic.json --model 'exec:python3 examples/exec/trap_all.py'

With `--bug tval-sign` it has one plausible bug for the checker to find: a TVAL write adds the
value's low 32 bits zero-extended instead of sign-extended. With `--bug restore-noop` it confirms
every restore but does nothing (the checker must notice: wrong observations after a restore).

Protocol: one JSON object per line on stdin, one answer per line on stdout.
  {"reset": CONFIG}  ->  {"ready": true}
  OP                 ->  OBSERVATION
  {"save": ID}       ->  {"saved": ID}      (optional; with --no-save: {"error": "unsupported"})
  {"restore": ID}    ->  {"restored": ID}
Diagnostics go to stderr (nvconform quotes the last lines of it when something goes wrong).
`--transcript FILE` appends every line received (`> `) and answered (`< `) to FILE.
"""
import argparse
import copy
import json
import re
import sys

MASK64 = (1 << 64) - 1
MASK32 = (1 << 32) - 1
TIMERS = ("hptimer", "hvtimer", "ptimer", "vtimer")  # the order of the irq list

ENABLE, IMASK, ISTATUS = 1, 2, 4

# CNTHCTL_EL2 bits that trap the nested guest's accesses; their place depends on E2H.
EL1PCTEN = {"vhe": 10, "nvhe": 0}   # CNTPCT_EL0, traps when 0
EL1PTEN = {"vhe": 11, "nvhe": 1}    # CNTP_*_EL0 (EL1PCEN in the E2H=0 layout), traps when 0
ECV, EL1TVT, EL1TVCT = 12, 13, 14   # FEAT_ECV, same place in both layouts; EL1TVT/EL1TVCT trap when 1

TIMER_NAME = re.compile(r"^CNT(P|V|HP|HV)_(CTL|CVAL|TVAL)_(EL0|EL02|EL2)$")
HEX = re.compile(r"^0x[0-9a-fA-F]{1,16}$")


def parse_hex(s, what):
    if not isinstance(s, str) or not HEX.match(s):
        raise ValueError(f"{what}: expected a hex string, got {s!r}")
    return int(s, 16)


def to_hex(v):
    return hex(v)  # Python's hex() is already "0x" + lower-case digits


def sext32(v):
    v &= MASK32
    return (v - (1 << 32) if v & (1 << 31) else v) & MASK64


def bit(v, n):
    return (v >> n) & 1 == 1


UNDEF = ("undefined",)
TRAP = ("trap",)


class Machine:
    def __init__(self, config, bug=None):
        self.bug = bug
        self.guest = config["guest"]
        if self.guest not in ("vhe", "nvhe"):
            raise ValueError(f"config.guest: {self.guest!r}")
        self.ecv = "ecv" in config.get("features", [])
        self.count = parse_hex(config.get("count", "0x0"), "config.count")
        self.el = 2
        self.ctl = {t: 0 for t in TIMERS}
        self.cval = {t: 0 for t in TIMERS}
        self.sys = {"CNTVOFF_EL2": 0, "CNTPOFF_EL2": 0, "CNTHCTL_EL2": 0, "CNTKCTL_EL1": 0}
        # Starting values are given by their vEL2 names; the vCPU starts at vEL2.
        for name, v in config.get("init", {}).items():
            value = parse_hex(v, f"config.init.{name}")
            m = self.decode(name, False)
            if m[0] == "timer" and m[2] == "ctl":
                self.ctl[m[1]] = value & (ENABLE | IMASK)
            elif m[0] == "timer" and m[2] == "cval":
                self.cval[m[1]] = value
            elif m[0] == "sysreg":
                self.sys[m[1]] = value
            else:
                raise ValueError(f"config.init.{name}: not a writable register with state at vEL2")

    # ---- the architecture ----

    def writable(self, reg):
        if reg in ("CNTVOFF_EL2", "CNTPOFF_EL2"):
            return MASK64
        if reg == "CNTHCTL_EL2":
            return (0xFFF if self.guest == "vhe" else 0xFF) | (0x3F000 if self.ecv else 0)
        return 0x3FF | ((1 << 17) if self.ecv else 0)  # CNTKCTL_EL1

    def cnthctl(self):
        return self.sys["CNTHCTL_EL2"] & self.writable("CNTHCTL_EL2")

    def physical_offset(self):
        return self.sys["CNTPOFF_EL2"] if self.ecv and bit(self.cnthctl(), ECV) else 0

    def offset(self, rule):
        if rule == "cntvoff":
            return self.sys["CNTVOFF_EL2"]
        if rule == "cntpoff":
            return self.physical_offset()
        return 0

    def timer_offset(self, t):
        return {"vtimer": self.sys["CNTVOFF_EL2"], "ptimer": self.physical_offset()}.get(t, 0)

    def condition_met(self, t):
        return (self.count - self.timer_offset(t)) & MASK64 >= self.cval[t]

    def irq(self):
        return [t for t in TIMERS if self.ctl[t] & (ENABLE | IMASK) == ENABLE and self.condition_met(t)]

    def until_wake(self, limit):
        best = limit
        for t in TIMERS:
            if self.ctl[t] & (ENABLE | IMASK) != ENABLE:
                continue
            now = (self.count - self.timer_offset(t)) & MASK64
            d = 0 if now >= self.cval[t] else self.cval[t] - now
            best = min(best, d)
        return best

    def tval_to_cval(self, offset, value):
        if self.bug == "tval-sign":
            return (self.count - offset + (value & MASK32)) & MASK64  # BUG: zero-extends
        return (self.count - offset + sext32(value)) & MASK64

    def decode(self, name, write):
        """What `name` designates at the current EL: ("timer", t, view, offset), ("sysreg", reg),
        ("counter", offset), UNDEF or TRAP."""
        vhe = self.guest == "vhe"
        m = TIMER_NAME.match(name)
        if m:
            fam, view, suffix = m.group(1), m.group(2).lower(), m.group(3)

            def timer(t, off="none"):
                return ("timer", t, view, off)

            if self.el == 2:
                if suffix == "EL2" and fam in ("HP", "HV"):
                    return timer("hptimer" if fam == "HP" else "hvtimer")
                if suffix == "EL0" and fam == "P":
                    return timer("hptimer") if vhe else timer("ptimer")
                if suffix == "EL0" and fam == "V":
                    return timer("hvtimer") if vhe else timer("vtimer", "cntvoff")
                if suffix == "EL02" and fam == "P":
                    return timer("ptimer") if vhe else UNDEF
                if suffix == "EL02" and fam == "V":
                    return timer("vtimer", "cntvoff") if vhe else UNDEF
                raise ValueError(f"unknown register {name}")
            if suffix != "EL0":
                return UNDEF
            if fam == "P":
                return TRAP if not bit(self.cnthctl(), EL1PTEN[self.guest]) else timer("ptimer", "cntpoff")
            if fam == "V":
                return TRAP if self.ecv and bit(self.cnthctl(), EL1TVT) else timer("vtimer", "cntvoff")
            raise ValueError(f"unknown register {name}")
        if name in ("CNTVOFF_EL2", "CNTHCTL_EL2"):
            return ("sysreg", name) if self.el == 2 else UNDEF
        if name == "CNTPOFF_EL2":
            return ("sysreg", name) if self.el == 2 and self.ecv else UNDEF
        if name == "CNTKCTL_EL1":
            return ("sysreg", "CNTHCTL_EL2" if self.el == 2 and vhe else "CNTKCTL_EL1")
        if name == "CNTPCT_EL0":
            if write:
                return UNDEF
            if self.el == 2:
                return ("counter", "none")
            return TRAP if not bit(self.cnthctl(), EL1PCTEN[self.guest]) else ("counter", "cntpoff")
        if name == "CNTVCT_EL0":
            if write:
                return UNDEF
            if self.el == 2:
                return ("counter", "none" if vhe else "cntvoff")
            return TRAP if self.ecv and bit(self.cnthctl(), EL1TVCT) else ("counter", "cntvoff")
        raise ValueError(f"unknown register {name}")

    def access(self, name, value):
        m = self.decode(name, value is not None)
        if m == UNDEF:
            return {"fault": "undefined"}
        if m == TRAP:
            self.el = 2  # the nested guest's access went to its hypervisor
            return {"fault": "trap"}
        if m[0] == "counter":
            return {"value": to_hex((self.count - self.offset(m[1])) & MASK64)}
        if m[0] == "sysreg":
            if value is not None:
                self.sys[m[1]] = value
                return {}
            return {"value": to_hex(self.sys[m[1]] & self.writable(m[1]))}
        _, t, view, off_rule = m
        if view == "ctl":
            if value is not None:
                self.ctl[t] = value & (ENABLE | IMASK)
                return {}
            enabled = self.ctl[t] & ENABLE
            return {"value": to_hex(self.ctl[t] | (ISTATUS if enabled and self.condition_met(t) else 0))}
        if view == "cval":
            if value is not None:
                self.cval[t] = value
                return {}
            return {"value": to_hex(self.cval[t])}
        off = self.offset(off_rule)
        if value is not None:
            self.cval[t] = self.tval_to_cval(off, value)
            return {}
        # UNKNOWN while disabled; the computed value is one allowed answer.
        return {"value": to_hex((self.cval[t] - (self.count - off)) & MASK32)}

    def step(self, op):
        kind = op.get("op")
        extra = {}
        if kind == "msr":
            extra = self.access(op["reg"], parse_hex(op["value"], "value"))
        elif kind == "mrs":
            extra = self.access(op["reg"], None)
        elif kind in ("tick", "preempt"):
            self.count = (self.count + parse_hex(op["by"], "by")) & MASK64
        elif kind == "wfi":
            elapsed = self.until_wake(parse_hex(op["limit"], "limit"))
            self.count = (self.count + elapsed) & MASK64
            extra = {"elapsed": to_hex(elapsed)}
        elif kind == "eret":
            self.el = 1
        elif kind == "exit":
            self.el = 2
        else:
            raise ValueError(f"unknown op {kind!r}")
        return {"irq": self.irq(), **extra}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bug", choices=["tval-sign", "restore-noop"], help="introduce one deliberate bug")
    ap.add_argument("--no-save", action="store_true", help='answer save with {"error": "unsupported"}')
    ap.add_argument("--transcript", metavar="FILE", help="append every line received and answered to FILE")
    args = ap.parse_args()
    transcript = open(args.transcript, "a", encoding="utf-8") if args.transcript else None
    machine = None
    saved = {}  # ID -> a copy of the machine
    for line in sys.stdin:
        if not line.strip():
            continue
        if transcript:
            transcript.write("> " + line.rstrip("\r\n") + "\n")
        msg = json.loads(line)
        try:
            if "reset" in msg:
                machine = Machine(msg["reset"], args.bug)
                answer = {"ready": True}
            elif "save" in msg:
                if args.no_save:
                    answer = {"error": "unsupported"}
                elif machine is None:
                    answer = {"error": "save before reset"}
                else:
                    saved[msg["save"]] = copy.deepcopy(machine)
                    answer = {"saved": msg["save"]}
            elif "restore" in msg:
                if msg["restore"] not in saved:
                    answer = {"error": f"no state saved under {msg['restore']!r}"}
                else:
                    if args.bug != "restore-noop":
                        machine = copy.deepcopy(saved[msg["restore"]])
                    answer = {"restored": msg["restore"]}
            elif machine is None:
                answer = {"error": "op before reset"}
            else:
                answer = machine.step(msg)
        except (ValueError, KeyError) as e:
            print(f"trap_all.py: {type(e).__name__}: {e}", file=sys.stderr, flush=True)
            answer = {"error": str(e)}
        text = json.dumps(answer, separators=(",", ":"))
        if transcript:
            transcript.write("< " + text + "\n")
            transcript.flush()
        sys.stdout.write(text + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
