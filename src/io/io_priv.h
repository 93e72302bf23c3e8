/* io_priv.h — helpers shared by the io loaders (npy, safetensors, text); not a public header. */
#ifndef QSCOPE_IO_PRIV_H
#define QSCOPE_IO_PRIV_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "qscope/err.h"
#include "qscope/io.h"
#include "qscope/tensor.h"

/* Room for a name or token quoted in a message by qs_io_quote (80 bytes + "..." + NUL). */
#define QS_IO_QUOTE_LEN 96

/* Each loader reads f->map / f->maplen (already checked non-empty) and fills f->entries,
 * f->n and f->meta. On error it returns QS_ERR with a message that starts with f->path;
 * whatever it allocated in f is freed by qs_file_close. */
int qs_io_npy_open(qs_file *f, qs_err *err);
int qs_io_st_open(qs_file *f, qs_err *err);
int qs_io_text_open(qs_file *f, qs_err *err);
/* GGUF v2/v3 (gguf.c). */
int qs_io_gguf_open(qs_file *f, qs_err *err);
/* PyTorch zip checkpoint (torchzip.c): sets f->priv, f->priv_free and f->read. */
int qs_io_torch_open(qs_file *f, qs_err *err);
/* Sharded safetensors (shards.c): f->map holds the index JSON; dir is the folder the shard
 * file names are relative to. Sets f->priv, f->priv_free and f->read. */
int qs_io_shards_open(qs_file *f, const char *dir, qs_err *err);

/* ---- the restricted unpickler (pickle.c) --------------------------------------------------
 * Runs a pickle (protocols 0-5) on a small stack machine that understands the data opcodes
 * and only the globals torch uses to rebuild a state dict: torch._utils._rebuild_tensor_v2,
 * torch._utils._rebuild_parameter, the typed storages (torch.FloatStorage, ...),
 * torch.dtype objects with UntypedStorage, collections.OrderedDict. Any other global (os.system,
 * builtins.eval, ...) stops it with a message naming the global; nothing is ever called or
 * imported. The result is the list of tensors found in the (possibly nested) dicts. */
typedef struct qs_pk_tensor {
    char *name;                     /* dotted path in the dicts: "layer.0.weight" (owned) */
    char *key;                      /* storage key: the zip entry data/<key> (owned) */
    qs_dtype dtype;                 /* storage element type */
    int64_t storage_numel;          /* elements in the storage, as the pickle says */
    int64_t offset;                 /* storage offset in elements */
    int ndim;                       /* dims */
    int64_t shape[QS_MAX_DIMS];     /* sizes */
    int64_t stride[QS_MAX_DIMS];    /* strides in elements */
} qs_pk_tensor;

/* Unpickles buf[0..len) (a torch data.pkl); path names the file in messages. On success
 * *out holds *n tensors (free with qs_io_pickle_free). */
int qs_io_pickle_tensors(const uint8_t *buf, size_t len, const char *path, qs_pk_tensor **out,
                         int *n, qs_err *err);
void qs_io_pickle_free(qs_pk_tensor *t, int n);

/* Decodes count elements of dtype dt starting at src (any alignment; big-endian when be)
 * into dst[0], dst[stride], dst[2*stride], ... as float32. Returns QS_ERR for a dtype
 * without a fixed element size (block and text types). */
int qs_io_decode(const uint8_t *src, qs_dtype dt, int be, int64_t count, float *dst,
                 int64_t stride);

/* Copies at most 80 bytes of s[0..len) into out (QS_IO_QUOTE_LEN bytes) for a message:
 * control bytes become '?', a cut never splits a UTF-8 sequence and is marked "...". */
void qs_io_quote(char *out, const char *s, size_t len);

/* The file name without directories and without its last extension ("a/w.npy" -> "w"),
 * newly allocated, or NULL when out of memory. */
char *qs_io_stem(const char *path);

/* Appends a metadata pair (copies both). Returns QS_ERR (message naming f->path) when
 * out of memory. */
int qs_io_meta_add(qs_file *f, const char *key, const char *value, qs_err *err);

/* double to float without an out-of-range conversion (C leaves it undefined); values from
 * the rounding midpoint above FLT_MAX on become infinities, as IEEE rounding would give. */
static inline float qs_io_d2f(double d)
{
    if (d >= 0x1.ffffffp+127) return (float)INFINITY;
    if (d <= -0x1.ffffffp+127) return -(float)INFINITY;
    return (float)d;
}

/* Little-endian loads from unaligned memory. */
static inline uint16_t qs_io_le16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t qs_io_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}
static inline uint64_t qs_io_le64(const uint8_t *p)
{
    return (uint64_t)qs_io_le32(p) | ((uint64_t)qs_io_le32(p + 4) << 32);
}

#endif
