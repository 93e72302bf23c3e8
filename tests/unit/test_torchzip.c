/* test_torchzip.c — PyTorch zip checkpoints: tests/fixtures/torch_sd.pt (written by Debian's
 * python3-torch, see make_model_fixtures.py) against the values torch itself gave
 * (tests/golden/torch_ref.txt); nested checkpoints; the os.system pickle refused with nothing
 * run; legacy files refused; hand-made hostile pickles on the restricted unpickler. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../src/io/io_priv.h"
#include "qscope/io.h"
#include "golden.h"

#define FIX "tests/fixtures/"

static void expect_tensor(qs_file *f, const char *name, const char *gold, qs_dtype dt)
{
    int i = qs_file_find(f, name);
    cr_assert_geq(i, 0, "no tensor %s", name);
    cr_expect_eq(f->entries[i].dtype, dt, "%s dtype", name);
    qs_tensor *t = NULL;
    qs_err err = {""};
    cr_assert_eq(qs_file_read(f, i, &t, &err), QS_OK, "%s", err.msg);
    int64_t n;
    float *want = golden_f("tests/golden/torch_ref.txt", gold, &n);
    cr_assert_eq(t->n, n, "%s", name);
    for (int64_t k = 0; k < n; k++)
        cr_expect_eq(t->data[k], want[k], "%s[%lld]: %.9g != %.9g", name, (long long)k,
                     (double)t->data[k], (double)want[k]);
    free(want);
    qs_tensor_free(t);
}

Test(torch, state_dict_matches_torch)
{
    qs_file *f = NULL;
    qs_err err = {""};
    cr_assert_eq(qs_file_open(FIX "torch_sd.pt", &f, &err), QS_OK, "%s", err.msg);
    cr_expect_str_eq(f->format, "torch");
    cr_expect_eq(f->n, 8);
    expect_tensor(f, "weight", "weight", QS_DT_F32);
    expect_tensor(f, "bias", "bias", QS_DT_F32);
    expect_tensor(f, "half", "half", QS_DT_F16);
    expect_tensor(f, "bf16", "bf16", QS_DT_BF16);
    expect_tensor(f, "steps", "steps", QS_DT_I64);
    expect_tensor(f, "view", "view", QS_DT_F32);              /* storage offset + strides */
    expect_tensor(f, "transposed", "transposed", QS_DT_F32);  /* column-major strides */
    expect_tensor(f, "scalar", "scalar", QS_DT_F32);
    int i = qs_file_find(f, "view");
    cr_expect_eq(f->entries[i].ndim, 2);
    cr_expect_eq(f->entries[i].shape[0], 2);
    cr_expect_eq(f->entries[i].shape[1], 3);
    cr_expect_eq(f->entries[qs_file_find(f, "scalar")].ndim, 0);
    qs_file_close(f);
}

Test(torch, nested_checkpoint_names)
{
    qs_file *f = NULL;
    qs_err err = {""};
    cr_assert_eq(qs_file_open(FIX "torch_nested.pt", &f, &err), QS_OK, "%s", err.msg);
    expect_tensor(f, "model.weight", "weight", QS_DT_F32);
    cr_expect_geq(qs_file_find(f, "opt.buf.0"), 0);
    cr_expect_lt(qs_file_find(f, "epoch"), 0);                /* not a tensor */
    qs_file_close(f);
}

Test(torch, os_system_pickle_refused_and_nothing_runs)
{
    const char *marker = "/tmp/qscope_pickle_pwned";
    unlink(marker);
    const char *files[] = {FIX "torch_evil.pt", FIX "torch_evil4.pt"};
    for (int k = 0; k < 2; k++) {
        qs_file *f = NULL;
        qs_err err = {""};
        cr_expect_eq(qs_file_open(files[k], &f, &err), QS_ERR);
        cr_expect_null(f);
        cr_expect(strstr(err.msg, "refusing to load global 'posix.system'") != NULL, "%s",
                  err.msg);
        cr_expect(strstr(err.msg, "nothing was executed") != NULL, "%s", err.msg);
        cr_expect(strncmp(err.msg, files[k], strlen(files[k])) == 0, "%s", err.msg);
    }
    cr_expect_neq(access(marker, F_OK), 0, "the pickle's command ran");
}

Test(torch, legacy_and_damaged)
{
    qs_file *f = NULL;
    qs_err err = {""};
    cr_expect_eq(qs_file_open(FIX "torch_legacy.pt", &f, &err), QS_ERR);
    cr_expect(strstr(err.msg, "legacy (non-zip) PyTorch checkpoint: not supported") != NULL,
              "%s", err.msg);
    cr_expect_eq(qs_file_open_mem("x.pt", "PK\3\4garbage", 11, &f, &err), QS_ERR);
    cr_expect(strstr(err.msg, "x.pt: not a readable zip archive") != NULL, "%s", err.msg);
    cr_expect_eq(qs_file_open(FIX "torch_dup.pt", &f, &err), QS_ERR);
    cr_expect(strstr(err.msg, "torch_dup.pt: two tensors are both named 'a.b'") != NULL, "%s",
              err.msg);
    cr_expect_eq(qs_file_open_mem("y.pt", "abc", 3, &f, &err), QS_ERR);
    cr_expect(strstr(err.msg, "y.pt: not a zip PyTorch checkpoint") != NULL, "%s", err.msg);
}

/* ---- the unpickler on hand-made pickles -------------------------------------------------- */

static int unpickle(const char *pk, size_t len, qs_err *err, int *n)
{
    qs_pk_tensor *t = NULL;
    int rc = qs_io_pickle_tensors((const uint8_t *)pk, len, "p.pt", &t, n, err);
    qs_io_pickle_free(t, *n);
    return rc;
}

#define PK(s) s, sizeof(s) - 1

Test(pickle, refuses_any_other_global)
{
    qs_err err = {""};
    int n;
    cr_expect_eq(unpickle(PK("\x80\x02" "cbuiltins\neval\n" "X\x04\0\0\0" "1+1" "\x85R."), &err,
                          &n), QS_ERR);
    cr_expect(strstr(err.msg, "refusing to load global 'builtins.eval'") != NULL, "%s", err.msg);
    cr_expect_eq(unpickle(PK("\x80\x04\x8c\x02os\x8c\x06system\x93."), &err, &n), QS_ERR);
    cr_expect(strstr(err.msg, "refusing to load global 'os.system'") != NULL, "%s", err.msg);
    cr_expect_eq(unpickle(PK("ctorch._utils\n_load_from_bytes\n."), &err, &n), QS_ERR);
    cr_expect(strstr(err.msg, "'torch._utils._load_from_bytes'") != NULL, "%s", err.msg);
}

Test(pickle, malformed_streams)
{
    static const struct { const char *pk; size_t len; const char *msg; } cases[] = {
        {PK("\x80\x02}q\x00"), "truncated"},
        {PK("\x80\x02."), "stack underflow"},
        {PK("\x80\x02h\x05."), "memo entry that was never stored"},
        {PK("\x80\x02}(K\x01u."), "SETITEMS with an odd number of items"},
        {PK("\x80\x02]K\x01K\x02s."), "SETITEM on something that is not a dict"},
        {PK("\x80\x02\xff."), "unsupported pickle opcode 0xff"},
        {PK("\x80\x02X\xff\xff\xff\x7f."), "string longer than the pickle"},
        {PK("\x80\x02r\xff\xff\xff\x00."), "stack underflow"},
        {PK("\x80\x02}r\xff\xff\xff\x00."), "memo index beyond the pickle's size"},
        {PK("\x80\x02)R."), "stack underflow"},
        {PK("\x80\x02K\x01)R."), "REDUCE on something that is not an allowed global"},
        {PK("\x80\x02(t(K\x01Q."), "persistent id is not"},
        {PK("\x80\x09."), "unknown pickle protocol"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        qs_err err = {""};
        int n;
        cr_expect_eq(unpickle(cases[i].pk, cases[i].len, &err, &n), QS_ERR, "case %zu", i);
        cr_expect(strstr(err.msg, cases[i].msg) != NULL, "case %zu: %s", i, err.msg);
        cr_expect(strncmp(err.msg, "p.pt: data.pkl byte ", 20) == 0, "%s", err.msg);
    }
}

/* A dict that contains itself: the walk stops at the nesting limit instead of looping. */
Test(pickle, self_referencing_dict)
{
    qs_err err = {""};
    int n;
    cr_expect_eq(unpickle(PK("\x80\x02}q\x00X\x01\0\0\0ah\x00s."), &err, &n), QS_ERR);
    cr_expect(strstr(err.msg, "nested deeper than 32 levels") != NULL, "%s", err.msg);
    /* a wide shared DAG: 2^40 paths, bounded by the visit limit */
    char pk[2048];
    size_t o = 0;
    memcpy(pk + o, "\x80\x02}q\x00", 5);
    o += 5;
    for (int i = 1; i <= 30; i++) {         /* d_i = {'a': d_{i-1}, 'b': d_{i-1}} */
        o += (size_t)sprintf(pk + o, "}(X\x01%c%c%cah%cX\x01%c%c%cbh%cuq%c", 0, 0, 0, i - 1, 0,
                             0, 0, i - 1, i);
    }
    pk[o++] = '.';
    cr_expect_eq(unpickle(pk, o, &err, &n), QS_ERR);
    cr_expect(strstr(err.msg, "too large") != NULL || strstr(err.msg, "deeper") != NULL, "%s",
              err.msg);
}

/* Size fields and long streams cannot make the machine grow without bound. */
Test(pickle, limits)
{
    size_t n = 3000000;
    char *pk = malloc(n + 3);
    memcpy(pk, "\x80\x02", 2);
    memset(pk + 2, 'N', n);            /* pushes of the shared None: no values, only stack */
    pk[n + 2] = '.';
    qs_err err = {""};
    int cnt;
    cr_expect_eq(unpickle(pk, n + 3, &err, &cnt), QS_ERR);
    cr_expect(strstr(err.msg, "the stack holds more than 2000000 items") != NULL, "%s", err.msg);
    memset(pk + 2, ')', n);            /* a new empty tuple per byte */
    cr_expect_eq(unpickle(pk, n + 3, &err, &cnt), QS_ERR);
    cr_expect(strstr(err.msg, "more than 2000000 values (limit)") != NULL, "%s", err.msg);
    free(pk);
}

/* A tensor under a dict key of keylen bytes, reached through `levels` lists that each hold
 * the one below twice (memo refs): 2^levels names from a pickle of a few hundred bytes. */
static size_t pickle_fanout(char *pk, int levels, size_t keylen)
{
    size_t o = 0;
#define PUT(s) (memcpy(pk + o, s, sizeof(s) - 1), o += sizeof(s) - 1)
    PUT("\x80\x02" "ctorch._utils\n_rebuild_tensor_v2\n" "(" "(X\x07\0\0\0storage"
        "ctorch\nFloatStorage\n" "X\x01\0\0\0" "0" "X\x03\0\0\0cpu" "K\x03" "tQ"
        "K\x00" "K\x03\x85" "K\x01\x85" "\x89" "}" "tR" "q\x01" "}" "X");
    pk[o++] = (char)(keylen & 0xff);
    pk[o++] = (char)(keylen >> 8);
    pk[o++] = 0;
    pk[o++] = 0;
    memset(pk + o, 'k', keylen);
    o += keylen;
    PUT("h\x01" "s" "q\x02");
    for (int i = 0; i < levels; i++) {      /* l_i = [l_{i-1}, l_{i-1}] */
        PUT("(h");
        pk[o++] = (char)(2 + i);
        pk[o++] = 'h';
        pk[o++] = (char)(2 + i);
        PUT("lq");
        pk[o++] = (char)(3 + i);
    }
    pk[o++] = '.';
#undef PUT
    return o;
}

/* Shared sub-lists reached by many paths yield a name per path: bounded in count and in
 * bytes (a 4.5 kB checkpoint with one 4000-byte key under 2^20 paths took 6 GB). */
Test(pickle, names_by_many_paths_are_bounded)
{
    static char pk[8192];
    qs_err err = {""};
    int n;
    size_t len = pickle_fanout(pk, 2, 10);          /* the builder makes a good pickle */
    qs_pk_tensor *t = NULL;
    cr_assert_eq(qs_io_pickle_tensors((const uint8_t *)pk, len, "p.pt", &t, &n, &err), QS_OK,
                 "%s", err.msg);
    cr_expect_eq(n, 4);
    cr_expect_str_eq(t[3].name, "1.1.kkkkkkkkkk");
    cr_expect_eq(t[3].storage_numel, 3);
    qs_io_pickle_free(t, n);
    /* 2^15 names of 4000+ bytes: 131 MB of names */
    len = pickle_fanout(pk, 15, 4000);
    cr_expect_eq(unpickle(pk, len, &err, &n), QS_ERR);
    cr_expect(strstr(err.msg, "the tensor names take more than 67108864 bytes (limit)") != NULL,
              "%s", err.msg);
    /* 2^19 short names */
    len = pickle_fanout(pk, 19, 1);
    cr_expect_eq(unpickle(pk, len, &err, &n), QS_ERR);
    cr_expect(strstr(err.msg, "more than 262144 tensors (limit)") != NULL, "%s", err.msg);
    /* 2^18 is the limit itself */
    len = pickle_fanout(pk, 18, 1);
    cr_expect_eq(unpickle(pk, len, &err, &n), QS_OK, "%s", err.msg);
    cr_expect_eq(n, 262144);
}
