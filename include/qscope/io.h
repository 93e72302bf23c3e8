/* io.h — opening tensor files (.npy, .safetensors, text/CSV; later GGUF, torch zip, sharded
 * safetensors) and converting one chosen tensor to float32. Files are memory-mapped; opening
 * only reads headers, so listing a 10 GB file is instant. Every loader treats the file as
 * hostile: all sizes and offsets are checked against the mapping before use. */
#ifndef QSCOPE_IO_H
#define QSCOPE_IO_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "qscope/err.h"
#include "qscope/tensor.h"

/* One tensor inside a file (not yet converted). */
typedef struct qs_entry {
    char *name;                     /* tensor name (owned) */
    qs_dtype dtype;                 /* stored type */
    int ndim;                       /* number of dims */
    int64_t shape[QS_MAX_DIMS];     /* dims, as stored (C order unless fortran) */
    int64_t n;                      /* element count */
    uint64_t nbytes;                /* bytes of stored data */
    uint64_t offset;                /* offset of the data in the mapping (or shard) */
    int fortran;                    /* npy: Fortran (column-major) order */
    int big_endian;                 /* npy: big-endian elements */
    int shard;                      /* sharded formats: index of the shard file, else 0 */
    const char *type_name;          /* the stored type's own name when qs_dtype has none
                                       (GGUF "IQ2_XS"; dtype is then QS_DT_COUNT and reading
                                       it fails with a message), else NULL (static string) */
} qs_entry;

/* Metadata key/value (safetensors __metadata__, GGUF keys, npy header fields). */
typedef struct qs_meta {
    char *key;                      /* owned */
    char *value;                    /* owned, rendered as text */
} qs_meta;

typedef struct qs_file {
    char *path;                     /* as given (owned) */
    const char *format;             /* "npy", "safetensors", "text", "gguf", ... */
    int n;                          /* number of tensors */
    qs_entry *entries;              /* n entries (owned) */
    int nmeta;                      /* number of metadata pairs */
    qs_meta *meta;                  /* metadata (owned) */
    const uint8_t *map;             /* the mapped file (or NULL for text) */
    size_t maplen;                  /* its length */
    int owns_map;                   /* 1 when map is our own mmap (unmapped on close) */
    float *text_values;             /* text/CSV: the parsed values (owned) */
    void *priv;                     /* format-specific state (owned) */
    void (*priv_free)(void *priv);  /* frees priv (NULL: plain free) */
    /* reads entry idx into dst (e->n floats, C order) for formats whose data is not a plain
     * range of the mapping (torch zip, shards); NULL for the others */
    int (*read)(const struct qs_file *f, int idx, float *dst, qs_err *err);
    volatile sig_atomic_t *cancel;  /* while opening: raised to stop (sharded indexes poll it),
                                       or NULL */
} qs_file;

/* Opens a file, detecting the format by magic bytes (then extension for text): .npy,
 * safetensors, GGUF v2/v3 (little-endian), PyTorch zip checkpoints (.pt/.pth/.bin, read by a
 * restricted unpickler that never executes code), text/CSV. A directory or a
 * `*.safetensors.index.json` opens a sharded safetensors checkpoint (one tensor list across
 * shards; a shard is mapped only while one of its tensors is read). Only headers are read. On error returns QS_ERR with a one-line message that names the file and the
 * problem, e.g. "w.safetensors: tensor 'fc1.weight' data_offsets [0, 400] exceed the data
 * size 312". */
int qs_file_open(const char *path, qs_file **out, qs_err *err);
/* qs_file_open that stops with QS_CANCELLED when *cancel is raised while a long index (a
 * sharded checkpoint of many tensors) is read. cancel may be NULL. */
int qs_file_open_cancel(const char *path, volatile sig_atomic_t *cancel, qs_file **out,
                        qs_err *err);
/* Like qs_file_open, but reads from a caller-owned buffer instead of a file (fuzzing, tests,
 * embedded data). name stands in for the path: it is used in messages, for the extension
 * fallback and for the tensor name of .npy and text files. The buffer is not copied: it must
 * stay valid and unchanged until qs_file_close. */
int qs_file_open_mem(const char *name, const void *buf, size_t len, qs_file **out,
                     qs_err *err);
/* Limits every loader enforces (explicit, so hostile files cannot make them grow). */
#define QS_IO_ST_HEADER_MAX 100000000u  /* safetensors JSON header bytes */
#define QS_IO_NPY_HEADER_MAX (1u << 20) /* .npy header dict bytes (v2/v3 allow 4 GB) */
#define QS_IO_TOKEN_MAX 255             /* longest number token in a text file */
#define QS_IO_GGUF_NEST_MAX 4           /* GGUF arrays of arrays nested at most this deep */
#define QS_IO_PICKLE_DEPTH_MAX 32       /* nesting of dicts / lists / tuples in a pickle */
#define QS_IO_PICKLE_VALUES_MAX 2000000u /* values a pickle may create */
#define QS_IO_PICKLE_TENSORS_MAX (1 << 18) /* tensor names a pickle may yield (a shared
                                           sub-dict reached by many paths counts each time) */
#define QS_IO_PICKLE_NAMES_MAX (64u << 20) /* bytes of all those names together */
#define QS_IO_SHARDS_MAX 10000          /* shard files of one sharded checkpoint */
#define QS_IO_INDEX_MAX (64u << 20)     /* bytes of a model.safetensors.index.json */
#define QS_IO_NAME_MAX 4096             /* bytes of a tensor name or metadata key */
#define QS_IO_VIEW_EXPAND_MAX 16        /* a PyTorch view over QS_IO_VIEW_FREE elements may
                                           hold at most this many times its storage's */
#define QS_IO_VIEW_FREE (1 << 24)       /* elements any view may have (64 MB of float32) */
/* Index of the tensor called name, or -1. */
int qs_file_find(const qs_file *f, const char *name);
/* The shard files a sharded checkpoint reads besides its index (0 for every other format),
 * and shard i's path as opened ("dir/name", newly allocated; NULL when out of memory or i
 * is out of range). A caller that confines reads (the lesson sandbox) checks them too: a
 * shard may be a link to anywhere. */
int qs_file_nshards(const qs_file *f);
char *qs_file_shard_path(const qs_file *f, int i);
/* Converts tensor idx to a new float32 qs_tensor (C order). */
int qs_file_read(const qs_file *f, int idx, qs_tensor **out, qs_err *err);
/* Unmaps and frees everything. NULL is allowed. */
void qs_file_close(qs_file *f);

/* ---- text from files: one escape function ---------------------------------------------
 * Every string that came from a file (tensor names, metadata keys and values, file names,
 * lesson text) passes qs_escape before a text face prints it: C0 controls, DEL, C1
 * controls and the bidirectional formatting characters (U+202E and kin, which can make a
 * name display as another) become visible escapes (\x1b, \n, \u009b, \u202e) and bytes
 * that are not UTF-8 become \xNN; valid UTF-8 text is kept as is. JSON output passes qs_json_escape_controls after
 * json_dumps (names are valid UTF-8 after loading, see qs_file_open). */
enum {
    QS_ESC_KEEP_NL = 1 << 0,        /* keep '\n' (narration, preformatted blocks) */
    QS_ESC_KEEP_TAB = 1 << 1        /* keep '\t' */
};
/* A new string (caller frees), or NULL when out of memory. NULL s is taken as "". */
char *qs_escape(const char *s, int flags);
/* 1 when qs_escape writes the code point cp as an escape (C0, DEL, C1, the bidirectional
 * formatting characters): the one list, which the handout writer uses too. */
int qs_escape_cp(unsigned cp);
/* 1 when qs_escape would change s. */
int qs_escape_needed(const char *s, int flags);
/* 1 when s[0..len) is valid UTF-8 (no overlong forms, surrogates or values past U+10FFFF). */
int qs_utf8_valid(const char *s, size_t len);
/* s[0..len) with every byte that is not part of valid UTF-8 written as the text \xNN: a new
 * string (caller frees) or NULL. qs_file_open applies it to every tensor name, metadata key
 * and value, so a name always reaches results, JSON and exported files as valid UTF-8 (and a
 * file qscope writes loads back with the same names). */
char *qs_utf8_fix(const char *s, size_t len);
/* JSON text from json_dumps with DEL and the C1 controls (U+0080..U+009F, which JSON allows
 * raw and some terminals read as CSI) written as \u007f and \u0080..\u009f. Takes js
 * (frees it) and returns a new string, or NULL (js NULL or out of memory). Every JSON emitter
 * (--json, lesson and handout JSON, written headers and side files) uses it. */
char *qs_json_escape_controls(char *js);

/* ---- writing files: one atomic path ----------------------------------------------------
 * Each target is written to ".<name>.qscope-<pid>-XXXXXX" in its own folder, fsync'ed and
 * moved into place with rename (force) or link (no force: an existing target is never
 * replaced, even one that appears meanwhile). A target that is a symbolic link (dangling or
 * not) or not a regular file is refused. Several targets are committed together or not at
 * all (old files are put back when a later one fails). Stale temp files of the same pattern
 * left by a qscope that is gone are removed first. Messages start with "who: ". */
#define QS_IO_WRITE_MAX 4
typedef struct qs_io_out {
    const char *path;               /* the target */
    const void *data;               /* its bytes */
    size_t len;                     /* their count */
} qs_io_out;
int qs_io_write_files(const char *who, const qs_io_out *files, int n, int force,
                      qs_err *err);
int qs_io_write_file(const char *who, const char *path, const void *data, size_t len,
                     int force, qs_err *err);
/* The writers' check of a target, for a command that wants it said before any work: QS_ERR
 * ("who: ...") for an empty or folder name, a symbolic link, something that is not a
 * regular file, or an existing file without force; *exists (may be NULL) says whether a
 * regular file is there. */
int qs_io_check_target(const char *who, const char *path, int force, int *exists,
                       qs_err *err);
/* QS_OK when path is a regular file (symbolic links followed), else QS_ERR "who: path: not
 * a regular file ..." (or the stat error): every reader of a named file (load, source, a
 * lesson, the TUI's :load) asks first, so a FIFO or a device never blocks or floods it. */
int qs_io_check_regular(const char *who, const char *path, qs_err *err);
/* Removes the temp files being written right now (async-signal-safe): a face's SIGINT /
 * SIGTERM handler calls it before the process dies. */
void qs_io_write_cleanup(void);

/* One tensor for qs_io_st_build: data holds count(shape) elements in host byte order. */
typedef struct qs_io_st_tensor {
    const char *name;               /* tensor name (UTF-8) */
    const char *dtype;              /* "F32", "I32", "I8", "U8", ... */
    int ndim;                       /* dims */
    const int64_t *shape;           /* sizes */
    const void *data;               /* elements */
} qs_io_st_tensor;
struct json_t;
/* Serializes tensors (in this order, data without holes) and meta (an object of strings, or
 * NULL) as a safetensors file in a new buffer *out of *outlen bytes (caller frees). QS_ERR
 * when a name is not UTF-8 or is given twice, a dtype is unknown, or memory runs out. */
int qs_io_st_build(const qs_io_st_tensor *t, int n, const struct json_t *meta,
                   unsigned char **out, size_t *outlen, qs_err *err);

#endif
