/* zasm.h — test-only: runs the inline-assembly text of the VNNI kernels (gemm_vnni.c,
 * gemm_avxvnni.c) on a small interpreter, so that the asm k loops, which no machine of this
 * project has executed, are checked here instruction by instruction against `_ref`.
 *
 * How: the test includes the kernel source with `__asm__` and `volatile` redefined (see
 * the end of this file), so each asm statement turns into za_exec(text) where text is the
 * statement's own spelling (template, operands, clobbers: #__VA_ARGS__). za_exec parses it
 * as GCC does (string literals concatenated, %%, %{ %}, %[name], %N operands in
 * outputs-then-inputs order) and executes the AT&T instructions the kernels use, with the
 * operand order of the Intel SDM read backwards (AT&T):
 *   vpdpbusd src2, src1, dst   dst.dword[i] += Σ_k u8(src1.byte[4i+k]) · s8(src2.byte[4i+k]),
 *                              wrapping (SDM: "signed bytes in zmm3/m512 with corresponding
 *                              unsigned bytes of zmm2", zmm3 being the last Intel operand);
 *                              GCC 12 emits _mm512_dpbusd_epi32(acc, u8, s8) as
 *                              "vpdpbusd %zmm_s8, %zmm_u8, %zmm_acc".
 *   vpxor[d] a, b, dst; vmovdqu[64] mem, reg / reg, mem; vpbroadcastd mem, reg;
 *   add $i, r; dec r; test r, r; jz / jnz / jmp with local labels (1b, 2f).
 * Besides the values it checks what a compiler relies on: every explicit register the text
 * writes is in the clobber list, a stored-to memory needs "memory", an input-only operand
 * is never written, no register is read before it is written (the xor-zero idiom aside),
 * ymm forms of vpdpbusd carry {vex} (without it the assembler picks the EVEX form, which
 * faults on AVX-VNNI CPUs without AVX-512) and use only ymm0-15, zmm forms have no {vex}.
 * The first violation is kept in za_err (the caller asserts on it after the kernel runs). */
#ifndef QSCOPE_ZASM_H
#define QSCOPE_ZASM_H
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct za_bind {
    void *acc; size_t accsz;           /* the identifiers the kernels' asm operands name */
    void *a, *b; size_t absz;
    void *a_, *b_, *k_;                /* pointers / counter of the k loops ("+r") */
} za_bind;

static char za_err[512];
static long za_runs;

#define ZA_FAIL(...) do { if (!za_err[0]) snprintf(za_err, sizeof za_err, __VA_ARGS__); \
                          return 0; } while (0)

typedef struct za_opnd { char name[16], cons[12], expr[16]; int out; } za_opnd;

/* the concatenation of the string literals of s[0..n) with C escapes resolved */
static int za_literals(const char *s, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '"') continue;
        for (i++; i < n && s[i] != '"'; i++) {
            char c = s[i];
            if (c == '\\' && i + 1 < n) {
                c = s[++i];
                c = c == 'n' ? '\n' : c == 't' ? '\t' : c;
            }
            if (o + 1 >= cap) return -1;
            out[o++] = c;
        }
    }
    out[o] = '\0';
    return (int)o;
}

/* split the statement at top-level ':' (outside literals and brackets) */
static int za_sections(const char *s, const char *sec[5], size_t len[5])
{
    int ns = 0, depth = 0, instr = 0;
    sec[0] = s;
    for (const char *p = s;; p++) {
        if (!*p || (!instr && !depth && *p == ':')) {
            len[ns] = (size_t)(p - sec[ns]);
            if (!*p || ns == 4) return ns + 1;
            sec[++ns] = p + 1;
            continue;
        }
        if (*p == '\\' && instr && p[1]) { p++; continue; }
        if (*p == '"') instr = !instr;
        else if (!instr && (*p == '(' || *p == '[')) depth++;
        else if (!instr && (*p == ')' || *p == ']')) depth--;
    }
}

/* operands "[name] "cons"(expr), ..." of one section */
static int za_operands(const char *s, size_t n, int out, za_opnd *op, int nop)
{
    size_t i = 0;
    while (i < n && nop < 10) {
        while (i < n && (s[i] == ' ' || s[i] == ',')) i++;
        if (i >= n) break;
        za_opnd o;
        memset(&o, 0, sizeof o);
        o.out = out;
        if (s[i] == '[') {
            size_t k = 0;
            for (i++; i < n && s[i] != ']'; i++) if (k + 1 < sizeof o.name) o.name[k++] = s[i];
            i++;
        }
        while (i < n && s[i] != '"') i++;
        size_t k = 0;
        for (i++; i < n && s[i] != '"'; i++) if (k + 1 < sizeof o.cons) o.cons[k++] = s[i];
        while (i < n && s[i] != '(') i++;
        k = 0;
        for (i++; i < n && s[i] != ')'; i++)
            if (s[i] != ' ' && k + 1 < sizeof o.expr) o.expr[k++] = s[i];
        i++;
        op[nop++] = o;
    }
    return nop;
}

typedef struct za_vm {
    uint8_t v[32][64];                 /* explicit vector registers (xmm/ymm/zmm N share N) */
    int vdef[32];
    uint8_t ov[10][64];                /* vector operands */
    uint64_t og[10];                   /* general-register operands */
    int zf;
    const za_opnd *op;
    int nop;
    const char *clob;
    int clob_n;
    uint32_t clobmask;
    za_bind *bd;
} za_vm;

/* whether register N (xmmN, ymmN and zmmN name the same one for GCC) is clobbered */
static int za_clobbered(const za_vm *m, const char *reg)
{
    return (int)((m->clobmask >> atoi(reg + 3)) & 1u);
}
static uint32_t za_clobber_mask(const char *clob, int n)
{
    uint32_t mask = 0;
    for (int j = 0; j + 5 <= n; j++)
        if (clob[j] == '"' && strchr("xyz", clob[j + 1]) && clob[j + 2] == 'm' &&
            clob[j + 3] == 'm' && clob[j + 4] >= '0' && clob[j + 4] <= '9') {
            char *end;
            long r = strtol(clob + j + 4, &end, 10);
            if (*end == '"' && r >= 0 && r < 32) mask |= 1u << r;
        }
    return mask;
}
static int za_has_clobber(const za_vm *m, const char *what)
{
    size_t L = strlen(what);
    for (int j = 0; j + (int)L <= m->clob_n; j++)
        if (strncmp(m->clob + j, what, L) == 0) return 1;
    return 0;
}

/* an instruction operand */
typedef struct za_arg {
    int kind;                          /* 1 vreg, 2 operand vreg, 3 operand gpr, 4 mem, 5 imm */
    int idx, width;                    /* register / operand number; vector bytes */
    int64_t disp;                      /* mem: disp(operand idx) */
    char text[24];
} za_arg;

typedef struct za_ins {
    int decoded, skip, vex, na;
    char mn[24], insn[128];
    za_arg ar[3];
} za_ins;

static int za_parse_arg(za_vm *m, const char *t, za_arg *a)
{
    memset(a, 0, sizeof *a);
    snprintf(a->text, sizeof a->text, "%s", t);
    if (t[0] == '$') { a->kind = 5; a->disp = strtoll(t + 1, NULL, 0); return 1; }
    if (t[0] == '%' && (t[1] == 'x' || t[1] == 'y' || t[1] == 'z') && t[2] == 'm' && t[3] == 'm') {
        a->kind = 1;
        a->idx = atoi(t + 4);
        a->width = t[1] == 'z' ? 64 : t[1] == 'y' ? 32 : 16;
        return a->idx >= 0 && a->idx < 32;
    }
    const char *at = strchr(t, '@');
    if (!at) ZA_FAIL("asm operand '%s' not understood", t);
    int n = atoi(at + 1);
    if (n < 0 || n >= m->nop) ZA_FAIL("asm operand '%s' out of range", t);
    a->idx = n;
    if (strchr(t, '(')) {              /* disp(@n): memory through a general register */
        a->kind = 4;
        a->disp = t[0] == '(' ? 0 : strtoll(t, NULL, 0);
        if (!strchr(m->op[n].cons, 'r')) ZA_FAIL("address in non-register operand %d", n);
        return 1;
    }
    const char *c = m->op[n].cons;
    if (strchr(c, 'r')) { a->kind = 3; return 1; }
    if (strchr(c, 'v') || strchr(c, 'x')) {
        a->kind = 2;
        a->width = (int)(strcmp(m->op[n].expr, "acc") == 0 ? m->bd->accsz : m->bd->absz);
        return 1;
    }
    ZA_FAIL("constraint '%s' not understood", c);
}

static uint8_t *za_vec(za_vm *m, const za_arg *a, int write, const char *insn)
{
    if (a->kind == 1) {
        const char *reg = a->text + 1;
        if (write) {
            if (!za_clobbered(m, reg)) {
                if (!za_err[0]) snprintf(za_err, sizeof za_err, "'%s' writes %%%s, which is "
                                         "not in the clobber list", insn, reg);
                return NULL;
            }
            m->vdef[a->idx] = 1;
        } else if (!m->vdef[a->idx]) {
            if (!za_err[0]) snprintf(za_err, sizeof za_err, "'%s' reads %%%s before any "
                                     "write", insn, reg);
            return NULL;
        }
        return m->v[a->idx];
    }
    if (a->kind == 2) {
        if (write && !m->op[a->idx].out) {
            if (!za_err[0]) snprintf(za_err, sizeof za_err, "'%s' writes input-only operand "
                                     "%d", insn, a->idx);
            return NULL;
        }
        return m->ov[a->idx];
    }
    if (!za_err[0]) snprintf(za_err, sizeof za_err, "'%s': '%s' is not a vector register",
                             insn, a->text);
    return NULL;
}
/* 16, 32 or 64 bytes (a vector operand is never anything else) */
static int za_width(const za_arg *a) { return a->width == 16 || a->width == 32 ? a->width : 64; }

/* a binding's address by the expression's identifier */
static void *za_lookup(za_bind *b, const char *e, size_t *sz)
{
    *sz = 0;
    if (!strcmp(e, "acc")) { *sz = b->accsz; return b->acc; }
    if (!strcmp(e, "a")) { *sz = b->absz; return b->a; }
    if (!strcmp(e, "b")) { *sz = b->absz; return b->b; }
    if (!strcmp(e, "a_")) { *sz = 8; return b->a_; }
    if (!strcmp(e, "b_")) { *sz = 8; return b->b_; }
    if (!strcmp(e, "k_")) { *sz = 8; return b->k_; }
    return NULL;
}

static int za_exec(const char *stmt, za_bind *bd)
{
    if (za_err[0]) return 0;
    za_runs++;
    const char *sec[5];
    size_t len[5] = { 0 };
    int ns = za_sections(stmt, sec, len);
    static _Thread_local char tmpl[16384], text[16384];
    if (za_literals(sec[0], len[0], tmpl, sizeof tmpl) < 0) ZA_FAIL("asm template too long");
    za_opnd op[10];
    int nop = 0;
    if (ns > 1) nop = za_operands(sec[1], len[1], 1, op, nop);
    if (ns > 2) nop = za_operands(sec[2], len[2], 0, op, nop);
    za_vm *m = calloc(1, sizeof *m);
    if (!m) ZA_FAIL("out of memory");
    m->op = op; m->nop = nop; m->bd = bd;
    m->clob = ns > 3 ? sec[3] : ""; m->clob_n = ns > 3 ? (int)len[3] : 0;
    m->clobmask = za_clobber_mask(m->clob, m->clob_n);
    for (int i = 0; i < nop; i++) {
        if (op[i].cons[0] == '=' ) { free(m); ZA_FAIL("write-only operands not supported"); }
        size_t sz;
        void *p = za_lookup(bd, op[i].expr, &sz);
        if (!p) { free(m); ZA_FAIL("operand expression '%s' unknown", op[i].expr); }
        if (strchr(op[i].cons, 'r')) {
            /* an array operand ("r"(acc)) passes its address, a scalar its value */
            if (!strcmp(op[i].expr, "acc")) m->og[i] = (uint64_t)(uintptr_t)p;
            else memcpy(&m->og[i], p, 8);
        } else {
            memcpy(m->ov[i], p, sz > 64 ? 64 : sz);
        }
        if (op[i].out && op[i].cons[0] != '+') { free(m); ZA_FAIL("operand %d: output without +", i); }
    }
    /* template expansion: %% → %, %{ %} → { }, %[name] and %N → @index */
    size_t o = 0;
    for (const char *p = tmpl; *p && o + 8 < sizeof text; p++) {
        if (*p != '%') { text[o++] = *p; continue; }
        p++;
        if (*p == '%' || *p == '{' || *p == '}') { text[o++] = *p; continue; }
        int idx = -1;
        if (*p == '[') {
            char nm[16] = "";
            size_t k = 0;
            for (p++; *p && *p != ']'; p++) if (k + 1 < sizeof nm) nm[k++] = *p;
            for (int i = 0; i < nop; i++) if (!strcmp(op[i].name, nm)) idx = i;
        } else if (*p >= '0' && *p <= '9') {
            idx = *p - '0';
        }
        if (idx < 0 || idx >= nop) { free(m); ZA_FAIL("template operand at '%.12s' unknown", p); }
        o += (size_t)snprintf(text + o, sizeof text - o, "@%d", idx);
    }
    text[o] = '\0';
    /* lines → instructions */
    enum { MAXI = 256 };
    char *line[MAXI];
    int nl = 0;
    for (char *save = NULL, *t = strtok_r(text, "\n", &save); t && nl < MAXI;
         t = strtok_r(NULL, "\n", &save))
        line[nl++] = t;
    int64_t steps = 0;
    int wrote_mem = 0;
    za_ins *ins = calloc((size_t)(nl > 0 ? nl : 1), sizeof *ins);  /* decoded once per line */
    if (!ins) { free(m); ZA_FAIL("out of memory"); }
#define ZA_RET(...) do { free(ins); free(m); ZA_FAIL(__VA_ARGS__); } while (0)
    for (int pc = 0; pc < nl; pc++) {
        if (++steps > 100000000) ZA_RET("asm loop does not end");
        za_ins *I = &ins[pc];
        if (!I->decoded) {
            I->decoded = 1;
            char buf[128];
            snprintf(buf, sizeof buf, "%s", line[pc]);
            char *s = buf;
            while (*s == ' ' || *s == '\t') s++;
            size_t L = strlen(s);
            if (!*s || s[L - 1] == ':') { I->skip = 1; continue; }      /* label */
            if (!strncmp(s, "{vex}", 5)) { I->vex = 1; s += 5; while (*s == ' ') s++; }
            int k = 0;
            while (*s && *s != ' ' && *s != '\t' && k < 23) I->mn[k++] = *s++;
            I->mn[k] = '\0';
            snprintf(I->insn, sizeof I->insn, "%s", line[pc]);
            int jump = !strcmp(I->mn, "jz") || !strcmp(I->mn, "jnz") || !strcmp(I->mn, "jmp");
            for (char *save = NULL, *t = strtok_r(s, ",", &save); t && I->na < 3;
                 t = strtok_r(NULL, ",", &save)) {
                while (*t == ' ' || *t == '\t') t++;
                char *e = t + strlen(t);
                while (e > t && (e[-1] == ' ' || e[-1] == '\t')) *--e = '\0';
                if (jump) snprintf(I->ar[I->na].text, sizeof I->ar[I->na].text, "%s", t);
                else if (!za_parse_arg(m, t, &I->ar[I->na])) { free(ins); free(m); return 0; }
                I->na++;
            }
        }
        if (I->skip) continue;
        const char *mn = I->mn, *insn = I->insn;
        const za_arg *ar = I->ar;
        const int na = I->na, vex = I->vex;
        if (!strcmp(mn, "jz") || !strcmp(mn, "jnz") || !strcmp(mn, "jmp")) {
            int take = !strcmp(mn, "jmp") || (mn[1] == 'z' ? m->zf : !m->zf);
            if (!take) continue;
            char lab[8];
            snprintf(lab, sizeof lab, "%.*s:", (int)strlen(ar[0].text) - 1, ar[0].text);
            char dir = ar[0].text[strlen(ar[0].text) - 1];
            int to = -1;
            if (dir == 'f') {
                for (int j = pc + 1; j < nl && to < 0; j++) {
                    char *q = line[j];
                    while (*q == ' ' || *q == '\t') q++;
                    if (!strncmp(q, lab, strlen(lab))) to = j;
                }
            } else {
                for (int j = pc; j >= 0 && to < 0; j--) {
                    char *q = line[j];
                    while (*q == ' ' || *q == '\t') q++;
                    if (!strncmp(q, lab, strlen(lab))) to = j;
                }
            }
            if (to < 0) { ZA_RET("label %s not found", ar[0].text); }
            pc = to;
            continue;
        }
        if (!strcmp(mn, "test") && na == 2 && ar[0].kind == 3 && ar[1].kind == 3) {
            m->zf = (m->og[ar[0].idx] & m->og[ar[1].idx]) == 0;
        } else if ((!strcmp(mn, "add") || !strcmp(mn, "sub")) && na == 2 && ar[0].kind == 5 &&
                   ar[1].kind == 3) {
            if (!m->op[ar[1].idx].out) { ZA_RET("'%s' writes input-only operand", insn); }
            m->og[ar[1].idx] += mn[0] == 'a' ? (uint64_t)ar[0].disp : (uint64_t)-ar[0].disp;
            m->zf = m->og[ar[1].idx] == 0;
        } else if (!strcmp(mn, "dec") && na == 1 && ar[0].kind == 3) {
            if (!m->op[ar[0].idx].out) { ZA_RET("'%s' writes input-only operand", insn); }
            m->zf = --m->og[ar[0].idx] == 0;
        } else if ((!strcmp(mn, "vpxord") || !strcmp(mn, "vpxor")) && na == 3) {
            int w = za_width(&ar[2]);
            if ((w == 64) != (mn[5] == 'd')) { ZA_RET("'%s': vpxor on zmm / vpxord", insn); }
            int zero = ar[0].kind == ar[1].kind && ar[0].idx == ar[1].idx;
            const uint8_t *x = zero ? NULL : za_vec(m, &ar[0], 0, insn);
            const uint8_t *y = zero ? NULL : za_vec(m, &ar[1], 0, insn);
            uint8_t *d = za_vec(m, &ar[2], 1, insn);
            if (!d || (!zero && (!x || !y))) { free(ins); free(m); return 0; }
            uint8_t r[64];                      /* VEX zeroes the bits above w bytes */
            for (int i = 0; i < 64; i++) r[i] = zero || i >= w ? 0 : (uint8_t)(x[i] ^ y[i]);
            memcpy(d, r, sizeof r);
        } else if ((!strcmp(mn, "vmovdqu64") || !strcmp(mn, "vmovdqu") ||
                    !strcmp(mn, "vmovdqu32")) && na == 2) {
            if (ar[0].kind == 4) {                                /* load */
                int w = za_width(&ar[1]);
                uint8_t *d = za_vec(m, &ar[1], 1, insn);
                if (!d) { free(ins); free(m); return 0; }
                memcpy(d, (const void *)(uintptr_t)(m->og[ar[0].idx] + (uint64_t)ar[0].disp),
                       (size_t)w);
                if (w < 64) memset(d + w, 0, (size_t)(64 - w));
            } else if (ar[1].kind == 4) {                         /* store */
                if (!za_has_clobber(m, "\"memory\"")) { ZA_RET("'%s' stores to memory "
                                                                         "without a \"memory\" clobber", insn); }
                const uint8_t *x = za_vec(m, &ar[0], 0, insn);
                if (!x) { free(ins); free(m); return 0; }
                memcpy((void *)(uintptr_t)(m->og[ar[1].idx] + (uint64_t)ar[1].disp), x,
                       (size_t)za_width(&ar[0]));
                wrote_mem = 1;
            } else { ZA_RET("'%s' not supported", insn); }
        } else if (!strcmp(mn, "vpbroadcastd") && na == 2 && ar[0].kind == 4) {
            int w = za_width(&ar[1]);
            uint8_t *d = za_vec(m, &ar[1], 1, insn);
            if (!d) { free(ins); free(m); return 0; }
            uint8_t q[4];
            memcpy(q, (const void *)(uintptr_t)(m->og[ar[0].idx] + (uint64_t)ar[0].disp), 4);
            for (int i = 0; i < w; i += 4) memcpy(d + i, q, 4);
            if (w < 64) memset(d + w, 0, (size_t)(64 - w));
        } else if (!strcmp(mn, "vpdpbusd") && na == 3) {
            int w = za_width(&ar[2]);
            if (w == 32 && !vex) { ZA_RET("'%s': ymm vpdpbusd without {vex} assembles to "
                                                    "EVEX (AVX512-VNNI+VL), not AVX-VNNI", insn); }
            if (w == 64 && vex) { ZA_RET("'%s': {vex} on zmm", insn); }
            for (int i = 0; i < 3; i++)
                if (ar[i].kind == 1 && vex && ar[i].idx > 15) {
                    ZA_RET("'%s': VEX cannot encode %s", insn, ar[i].text);
                }
            if (za_width(&ar[0]) != w || za_width(&ar[1]) != w) { ZA_RET("'%s': widths", insn); }
            const uint8_t *s2 = za_vec(m, &ar[0], 0, insn);   /* signed bytes (SDM operand 3) */
            const uint8_t *s1 = za_vec(m, &ar[1], 0, insn);   /* unsigned bytes (operand 2) */
            const uint8_t *dr = za_vec(m, &ar[2], 0, insn);
            uint8_t *d = za_vec(m, &ar[2], 1, insn);
            if (!s2 || !s1 || !dr || !d) { free(ins); free(m); return 0; }
            for (int i = 0; i < w / 4; i++) {
                uint32_t acc;
                memcpy(&acc, d + 4 * i, 4);
                int32_t sum = 0;
                for (int b = 0; b < 4; b++)
                    sum += (int32_t)s1[4 * i + b] * (int32_t)(int8_t)s2[4 * i + b];
                acc += (uint32_t)sum;
                memcpy(d + 4 * i, &acc, 4);
            }
            if (w < 64) memset(d + w, 0, (size_t)(64 - w));
        } else {
            ZA_RET("instruction '%s' not known to the interpreter", insn);
        }
    }
    (void)wrote_mem;
    free(ins);
#undef ZA_RET
    /* outputs back to their variables */
    for (int i = 0; i < nop; i++) {
        if (!op[i].out) continue;
        size_t sz;
        void *p = za_lookup(bd, op[i].expr, &sz);
        if (strchr(op[i].cons, 'r')) memcpy(p, &m->og[i], 8);
        else memcpy(p, m->ov[i], sz > 64 ? 64 : sz);
    }
    free(m);
    return 0;
}

/* Include a kernel source after this: every `__asm__(...)` and `__asm__ volatile(...)`
 * statement becomes `ZASM_ = za_exec("<its spelling>", bindings)`: `__asm__` is ZASM_, a
 * function-like macro when a '(' follows and the variable below when `volatile` does, and
 * `volatile(...)` supplies the rest. The identifiers the bindings name must be in scope (the
 * k loops' a_, b_, k_ shadow the file-scope ones; acc, a, b are the kernels' own). */
static int ZASM_;
static const int32_t *a_, *b_;
static int64_t k_;
#define ZASM_BIND (&(za_bind){ (void *)&acc, sizeof acc, (void *)&a, (void *)&b, sizeof a,   \
                               (void *)&a_, (void *)&b_, (void *)&k_ })
#endif
