//! The C++ shim compiled into every model: an `extern "C"` API over one verilated top
//! (create with a seed, set and get ports as 32-bit words, evaluate, run a whole stream),
//! plus replacements for Verilator's `$finish`/`$stop`/fatal/warning/print hooks so that a
//! design's errors come back to Rust as messages instead of aborting the process.
//!
//! The generic part is fixed text; only the port accessors are generated from the port list.

use crate::{PortDir, PortKind, VerilatedPort};
use std::fmt::Write;

/// Bumped whenever the shim or the runtime flags change: part of every cache key.
pub const SHIM_VERSION: u32 = 5;

/// Force-included into the runtime and every model: routes Verilator's printing to the shim.
pub const PRELUDE_H: &str = r#"// ferrite-sim prelude: force-included before every Verilator source.
#pragma once
int fsim_printf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
"#;

/// Defines passed to the runtime and to every model (they must agree).
pub const DEFINES: &[(&str, &str)] = &[
    ("VM_COVERAGE", "0"),
    ("VM_SC", "0"),
    ("VM_TRACE", "0"),
    ("VM_TRACE_FST", "0"),
    ("VM_TRACE_VCD", "0"),
    ("VL_USER_FINISH", "1"),
    ("VL_USER_STOP", "1"),
    ("VL_USER_FATAL", "1"),
    ("VL_USER_WARN", "1"),
    ("VL_PRINTF", "fsim_printf"),
];

/// Result codes of the shim's functions (1 is a design error, see `fsim_error`).
pub const RC_OK: i32 = 0;
pub const RC_STALLED: i32 = 2;
pub const RC_CYCLE_LIMIT: i32 = 3;
pub const RC_EXTRA_OUTPUT: i32 = 4;
pub const RC_BAD_ARGS: i32 = 5;
pub const RC_PROTOCOL: i32 = 6;

const GENERIC: &str = r#"
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#define FSIM_EXPORT extern "C" __attribute__((visibility("default")))

namespace {

struct FsimFatal {};

struct FsimTap {
    int32_t data;
    int32_t fire;
    uint32_t words;
    std::vector<uint32_t> buf;
    std::vector<uint64_t> stamps;
};

struct FsimSim {
    VerilatedContext* ctx = nullptr;
    FSIM_TOP* top = nullptr;
    std::string log;     // everything the design printed (capped)
    std::string error;   // first error ($error, $stop, $finish, fatal, warning)
    bool failed = false;
    std::vector<FsimTap> taps;
};

thread_local FsimSim* fsim_cur = nullptr;

void fsim_fail(const std::string& msg) {
    if (fsim_cur && !fsim_cur->failed) {
        fsim_cur->failed = true;
        fsim_cur->error = msg;
    }
}

std::string fsim_where(const char* file, int line) {
    std::string s = file ? file : "";
    if (!s.empty()) s += ":" + std::to_string(line) + ": ";
    return s;
}

struct FsimScope {
    FsimSim* prev;
    explicit FsimScope(FsimSim* s) : prev(fsim_cur) { fsim_cur = s; }
    ~FsimScope() { fsim_cur = prev; }
};

}  // namespace

int fsim_printf(const char* fmt, ...) {
    char buf[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (fsim_cur) {
        if (fsim_cur->log.size() < (1u << 16)) fsim_cur->log += buf;
    } else {
        fputs(buf, stdout);
    }
    return n;
}

void vl_finish(const char* file, int line, const char* hier) {
    (void)hier;
    Verilated::threadContextp()->gotFinish(true);
    fsim_fail(fsim_where(file, line) + "the design called $finish");
}

void vl_stop(const char* file, int line, const char* hier) {
    (void)hier;
    Verilated::threadContextp()->gotError(true);
    Verilated::threadContextp()->gotFinish(true);
    fsim_fail(fsim_where(file, line) + "the design called $stop or $error");
}

void vl_fatal(const char* file, int line, const char* hier, const char* msg) {
    (void)hier;
    Verilated::threadContextp()->gotError(true);
    Verilated::threadContextp()->gotFinish(true);
    fsim_fail(fsim_where(file, line) + "fatal: " + (msg ? msg : ""));
    throw FsimFatal{};
}

void vl_warn(const char* file, int line, const char* hier, const char* msg) {
    (void)hier;
    fsim_fail(fsim_where(file, line) + "warning: " + (msg ? msg : ""));
}

namespace {

inline void fsim_set(FSIM_TOP* t, int32_t i, const uint32_t* w);
inline void fsim_get(FSIM_TOP* t, int32_t i, uint32_t* w);
inline uint64_t fsim_get64(FSIM_TOP* t, int32_t i);
inline void fsim_set64(FSIM_TOP* t, int32_t i, uint64_t v);

// One rising clock edge: clk low, evaluate, clk high, evaluate. Inputs set before the call
// are seen by the combinational logic at the low phase.
inline void fsim_half(FsimSim* s, int32_t clk, uint64_t v) {
    fsim_set64(s->top, clk, v);
    s->top->eval();
    s->ctx->timeInc(1);
}

uint64_t splitmix(uint64_t& x) {
    uint64_t z = (x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

}  // namespace

struct FsimStreamArgs {
    int32_t clk, rst, rst_active_low, s_data, s_valid, s_ready, m_data, m_valid, m_ready;
    uint32_t reset_cycles, settle_cycles, in_words, out_words;
    const uint32_t* in_beats;
    uint64_t n_in;
    uint32_t* out_beats;
    uint64_t n_out;
    uint64_t* in_stamps;
    uint64_t* out_stamps;
    uint64_t in_stall;   // probability * 2^32
    uint64_t out_stall;  // probability * 2^32
    uint64_t seed;
    uint64_t max_cycles;
    uint64_t idle_limit;
    uint64_t drain_cycles;
    int32_t n_taps;
    const int32_t* tap_data;
    const int32_t* tap_fire;
    const uint32_t* tap_words;
};

struct FsimStreamResult {
    uint64_t cycles, in_done, out_done, last_in_cycle, last_out_cycle, extra_out;
    uint32_t s_ready_now, m_valid_now;
    uint64_t protocol_cycle;
    uint32_t protocol_what;  // 1: tvalid dropped while stalled, 2: tdata changed while stalled
};

FSIM_EXPORT uint32_t fsim_shim_version() { return FSIM_SHIM_VERSION; }

FSIM_EXPORT void* fsim_new(uint64_t seed, char* err, size_t errlen) {
    FsimSim* s = new FsimSim();
    FsimScope scope(s);
    try {
        s->ctx = new VerilatedContext();
        s->ctx->fatalOnError(false);
        s->ctx->randReset(2);
        s->ctx->randSeed((int)(seed & 0x7fffffff) | 1);
        s->top = new FSIM_TOP(s->ctx, "top");
    } catch (const FsimFatal&) {
    } catch (const std::exception& e) {
        fsim_fail(std::string("C++ exception: ") + e.what());
    }
    if (s->failed || !s->top) {
        if (err && errlen) snprintf(err, errlen, "%s\n%s", s->error.c_str(), s->log.c_str());
        delete s->top;
        delete s->ctx;
        delete s;
        return nullptr;
    }
    return s;
}

FSIM_EXPORT void fsim_delete(void* p) {
    FsimSim* s = static_cast<FsimSim*>(p);
    if (!s) return;
    FsimScope scope(s);
    try {
        s->top->final();
    } catch (...) {
    }
    delete s->top;
    delete s->ctx;
    delete s;
}

FSIM_EXPORT const char* fsim_error(void* p) { return static_cast<FsimSim*>(p)->error.c_str(); }
FSIM_EXPORT const char* fsim_log(void* p) { return static_cast<FsimSim*>(p)->log.c_str(); }
FSIM_EXPORT void fsim_clear_log(void* p) { static_cast<FsimSim*>(p)->log.clear(); }

FSIM_EXPORT int32_t fsim_set_port(void* p, int32_t i, const uint32_t* w) {
    FsimSim* s = static_cast<FsimSim*>(p);
    if (i < 0 || i >= FSIM_NPORTS) return 5;
    fsim_set(s->top, i, w);
    return 0;
}

FSIM_EXPORT int32_t fsim_get_port(void* p, int32_t i, uint32_t* w) {
    FsimSim* s = static_cast<FsimSim*>(p);
    if (i < 0 || i >= FSIM_NPORTS) return 5;
    fsim_get(s->top, i, w);
    return 0;
}

FSIM_EXPORT int32_t fsim_eval(void* p) {
    FsimSim* s = static_cast<FsimSim*>(p);
    if (s->failed) return 1;
    FsimScope scope(s);
    try {
        s->top->eval();
    } catch (const FsimFatal&) {
    } catch (const std::exception& e) {
        fsim_fail(std::string("C++ exception: ") + e.what());
    }
    return s->failed ? 1 : 0;
}

FSIM_EXPORT void fsim_time_inc(void* p, uint64_t d) { static_cast<FsimSim*>(p)->ctx->timeInc(d); }

FSIM_EXPORT uint64_t fsim_tap_len(void* p, int32_t t) {
    FsimSim* s = static_cast<FsimSim*>(p);
    return t >= 0 && (size_t)t < s->taps.size() ? s->taps[t].stamps.size() : 0;
}

FSIM_EXPORT void fsim_tap_read(void* p, int32_t t, uint32_t* words, uint64_t* stamps) {
    FsimSim* s = static_cast<FsimSim*>(p);
    if (t < 0 || (size_t)t >= s->taps.size()) return;
    const FsimTap& tap = s->taps[t];
    memcpy(words, tap.buf.data(), tap.buf.size() * sizeof(uint32_t));
    memcpy(stamps, tap.stamps.data(), tap.stamps.size() * sizeof(uint64_t));
}

static int32_t fsim_stream_impl(FsimSim* s, const FsimStreamArgs* a, FsimStreamResult* r) {
    FSIM_TOP* t = s->top;
    const uint64_t rst_on = a->rst_active_low ? 0 : 1;
    uint64_t rng = a->seed ^ 0x5EEDF0E5u;
    s->taps.clear();
    for (int32_t k = 0; k < a->n_taps; k++) {
        FsimTap tap;
        tap.data = a->tap_data[k];
        tap.fire = a->tap_fire[k];
        tap.words = a->tap_words[k];
        s->taps.push_back(tap);
    }
    std::vector<uint32_t> zero(a->in_words > a->out_words ? a->in_words : a->out_words, 0);
    for (auto& tap : s->taps)
        if (tap.words > zero.size()) zero.resize(tap.words, 0);
    std::vector<uint32_t> scratch(zero.size(), 0);

    // Reset: inputs idle, reset asserted for reset_cycles edges, then released.
    fsim_set64(t, a->s_valid, 0);
    fsim_set(t, a->s_data, zero.data());
    fsim_set64(t, a->m_ready, 0);
    if (a->rst >= 0) fsim_set64(t, a->rst, rst_on);
    for (uint32_t c = 0; c < a->reset_cycles; c++) {
        fsim_half(s, a->clk, 0);
        fsim_half(s, a->clk, 1);
        if (s->failed) return 1;
    }
    if (a->rst >= 0) fsim_set64(t, a->rst, rst_on ^ 1);
    for (uint32_t c = 0; c < a->settle_cycles; c++) {
        fsim_half(s, a->clk, 0);
        fsim_half(s, a->clk, 1);
        if (s->failed) return 1;
    }

    uint64_t cyc = 0, in_i = 0, out_i = 0, last_progress = 0, extra = 0, drain_left = a->drain_cycles;
    bool presenting = false;
    bool held = false;  // the output was valid and not ready last cycle: it must hold
    std::vector<uint32_t> held_data(a->out_words, 0);
    r->last_in_cycle = r->last_out_cycle = UINT64_MAX;
    for (;;) {
        if (out_i >= a->n_out) {
            if (drain_left == 0) break;
            drain_left--;
        }
        if (!presenting && in_i < a->n_in)
            presenting = a->in_stall == 0 || (splitmix(rng) >> 32) >= a->in_stall;
        bool ready = out_i >= a->n_out || a->out_stall == 0 || (splitmix(rng) >> 32) >= a->out_stall;
        if (presenting) fsim_set(t, a->s_data, a->in_beats + in_i * a->in_words);
        fsim_set64(t, a->s_valid, presenting ? 1 : 0);
        fsim_set64(t, a->m_ready, ready ? 1 : 0);
        fsim_half(s, a->clk, 0);
        if (s->failed) return 1;
        bool s_ready = fsim_get64(t, a->s_ready) != 0;
        bool m_valid = fsim_get64(t, a->m_valid) != 0;
        r->s_ready_now = s_ready;
        r->m_valid_now = m_valid;
        bool fire_in = presenting && s_ready;
        bool fire_out = m_valid && ready;
        // AXI-Stream: once tvalid is high it stays high, with tdata unchanged, until taken.
        if (held) {
            if (!m_valid) {
                r->protocol_cycle = cyc;
                r->protocol_what = 1;
                return 6;
            }
            fsim_get(t, a->m_data, scratch.data());
            if (memcmp(scratch.data(), held_data.data(), a->out_words * sizeof(uint32_t)) != 0) {
                r->protocol_cycle = cyc;
                r->protocol_what = 2;
                return 6;
            }
        }
        held = m_valid && !ready;
        if (held) fsim_get(t, a->m_data, held_data.data());
        if (fire_out) {
            if (out_i < a->n_out) {
                fsim_get(t, a->m_data, a->out_beats + out_i * a->out_words);
                a->out_stamps[out_i] = cyc;
                out_i++;
            } else {
                extra++;
            }
            r->last_out_cycle = cyc;
        }
        for (auto& tap : s->taps) {
            if (tap.fire >= 0 && fsim_get64(t, tap.fire) == 0) continue;
            fsim_get(t, tap.data, scratch.data());
            tap.buf.insert(tap.buf.end(), scratch.begin(), scratch.begin() + tap.words);
            tap.stamps.push_back(cyc);
        }
        if (fire_in) {
            a->in_stamps[in_i] = cyc;
            in_i++;
            presenting = false;
            r->last_in_cycle = cyc;
        }
        fsim_half(s, a->clk, 1);
        if (s->failed) return 1;
        if (fire_in || fire_out) last_progress = cyc;
        cyc++;
        r->cycles = cyc;
        r->in_done = in_i;
        r->out_done = out_i;
        r->extra_out = extra;
        if (out_i < a->n_out) {
            if (cyc - last_progress > a->idle_limit) return 2;
            if (cyc >= a->max_cycles) return 3;
        }
    }
    fsim_set64(t, a->s_valid, 0);
    fsim_set64(t, a->m_ready, 0);
    return extra ? 4 : 0;
}

FSIM_EXPORT int32_t fsim_stream(void* p, const FsimStreamArgs* a, FsimStreamResult* r) {
    FsimSim* s = static_cast<FsimSim*>(p);
    memset(r, 0, sizeof *r);
    if (s->failed) return 1;
    const int32_t idx[] = {a->clk, a->s_data, a->s_valid, a->s_ready, a->m_data, a->m_valid, a->m_ready};
    for (int32_t i : idx)
        if (i < 0 || i >= FSIM_NPORTS) return 5;
    FsimScope scope(s);
    int32_t rc = 1;
    try {
        rc = fsim_stream_impl(s, a, r);
    } catch (const FsimFatal&) {
        rc = 1;
    } catch (const std::exception& e) {
        fsim_fail(std::string("C++ exception: ") + e.what());
        rc = 1;
    }
    return s->failed ? 1 : rc;
}
"#;

fn mask(bits: u32) -> u32 {
    if bits == 0 || bits >= 32 {
        u32::MAX
    } else {
        (1u32 << bits) - 1
    }
}

/// The whole shim for a verilated top `prefix` with `ports` (in index order).
pub fn generate(prefix: &str, ports: &[VerilatedPort]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "// ferrite-sim shim v{SHIM_VERSION} for {prefix}; generated, do not edit"
    );
    let _ = writeln!(s, "#include \"verilated.h\"");
    let _ = writeln!(s, "#include \"{prefix}.h\"");
    let _ = writeln!(s, "#define FSIM_TOP {prefix}");
    let _ = writeln!(s, "#define FSIM_NPORTS {}", ports.len());
    let _ = writeln!(s, "#define FSIM_SHIM_VERSION {SHIM_VERSION}u");
    s.push_str(GENERIC);

    // Accessors: one switch per direction. Inputs are masked to their width (Verilator
    // relies on clean upper bits); outputs are read whole.
    s.push_str("\nnamespace {\n");
    s.push_str(
        "inline void fsim_set(FSIM_TOP* t, int32_t i, const uint32_t* w) {\n    switch (i) {\n",
    );
    for (i, p) in ports.iter().enumerate() {
        if p.dir == PortDir::Output {
            continue;
        }
        let top_mask = mask(p.width % 32);
        match p.kind {
            PortKind::W(words) => {
                let _ = writeln!(
                    s,
                    "    case {i}: for (int k = 0; k < {words}; k++) t->{n}[k] = (k == {last}) ? (w[k] & 0x{top_mask:x}u) : w[k]; break;",
                    n = p.name,
                    last = words - 1
                );
            }
            PortKind::Q => {
                let hi = mask(p.width.saturating_sub(32));
                let _ = writeln!(
                    s,
                    "    case {i}: t->{n} = (QData)w[0] | ((QData)(w[1] & 0x{hi:x}u) << 32); break;",
                    n = p.name
                );
            }
            _ => {
                let _ = writeln!(
                    s,
                    "    case {i}: t->{n} = w[0] & 0x{m:x}u; break;",
                    n = p.name,
                    m = mask(p.width)
                );
            }
        }
    }
    s.push_str("    default: break;\n    }\n}\n");

    s.push_str("inline void fsim_get(FSIM_TOP* t, int32_t i, uint32_t* w) {\n    switch (i) {\n");
    for (i, p) in ports.iter().enumerate() {
        match p.kind {
            PortKind::W(words) => {
                let _ = writeln!(
                    s,
                    "    case {i}: for (int k = 0; k < {words}; k++) w[k] = t->{n}[k]; break;",
                    n = p.name
                );
            }
            PortKind::Q => {
                let _ = writeln!(
                    s,
                    "    case {i}: w[0] = (uint32_t)t->{n}; w[1] = (uint32_t)(t->{n} >> 32); break;",
                    n = p.name
                );
            }
            _ => {
                let _ = writeln!(s, "    case {i}: w[0] = t->{n}; break;", n = p.name);
            }
        }
    }
    s.push_str("    default: break;\n    }\n}\n");

    s.push_str("inline uint64_t fsim_get64(FSIM_TOP* t, int32_t i) {\n    switch (i) {\n");
    for (i, p) in ports.iter().enumerate() {
        match p.kind {
            PortKind::W(_) => {
                let _ = writeln!(
                    s,
                    "    case {i}: return (uint64_t)t->{n}[0] | ((uint64_t)t->{n}[1] << 32);",
                    n = p.name
                );
            }
            _ => {
                let _ = writeln!(s, "    case {i}: return (uint64_t)t->{n};", n = p.name);
            }
        }
    }
    s.push_str("    default: return 0;\n    }\n}\n");

    s.push_str("inline void fsim_set64(FSIM_TOP* t, int32_t i, uint64_t v) {\n    switch (i) {\n");
    for (i, p) in ports.iter().enumerate() {
        if p.dir == PortDir::Output {
            continue;
        }
        match p.kind {
            PortKind::W(words) => {
                let _ = writeln!(
                    s,
                    "    case {i}: t->{n}[0] = (uint32_t)v; t->{n}[1] = (uint32_t)(v >> 32); for (int k = 2; k < {words}; k++) t->{n}[k] = 0; break;",
                    n = p.name
                );
            }
            PortKind::Q => {
                let m = if p.width >= 64 {
                    u64::MAX
                } else {
                    (1u64 << p.width) - 1
                };
                let _ = writeln!(
                    s,
                    "    case {i}: t->{n} = v & 0x{m:x}ull; break;",
                    n = p.name
                );
            }
            _ => {
                let _ = writeln!(
                    s,
                    "    case {i}: t->{n} = (uint32_t)v & 0x{m:x}u; break;",
                    n = p.name,
                    m = mask(p.width)
                );
            }
        }
    }
    s.push_str("    default: break;\n    }\n}\n}  // namespace\n");
    s
}
