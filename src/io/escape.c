/* escape.c — the one escape function for text that came from a file (tensor names, metadata,
 * file names, lesson text): control characters and bytes that are not UTF-8 become visible
 * escapes before a text face prints them; and the UTF-8 check the loaders use for names. */
#include "qscope/io.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at s[0..len) (1..4), or 0 when s does not start one
 * (a stray continuation byte, an overlong form, a surrogate, a value past U+10FFFF, a cut
 * sequence). *cp receives the code point. */
static size_t utf8_seq(const unsigned char *s, size_t len, unsigned *cp)
{
    unsigned c = s[0];
    size_t n;
    unsigned v, min;
    if (c < 0x80) { *cp = c; return 1; }
    if (c >= 0xc2 && c <= 0xdf) { n = 2; v = c & 0x1f; min = 0x80; }
    else if (c >= 0xe0 && c <= 0xef) { n = 3; v = c & 0x0f; min = 0x800; }
    else if (c >= 0xf0 && c <= 0xf4) { n = 4; v = c & 0x07; min = 0x10000; }
    else return 0;
    if (len < n) return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        v = (v << 6) | (s[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) return 0;
    *cp = v;
    return n;
}

int qs_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    unsigned cp;
    while (i < len) {
        size_t k = utf8_seq(p + i, len - i, &cp);
        if (!k) return 0;
        i += k;
    }
    return 1;
}

/* The bidirectional formatting characters (Unicode's Bidi_Control: ALM, LRM, RLM, the
 * embeddings and overrides U+202A..U+202E, the isolates U+2066..U+2069): invisible, they can
 * make a name display as another ("\u202egnp.exe" shows as "exe.png"), so they are escaped
 * like controls. */
static int bidi_control(unsigned cp)
{
    return cp == 0x061c || cp == 0x200e || cp == 0x200f || (cp >= 0x202a && cp <= 0x202e) ||
           (cp >= 0x2066 && cp <= 0x2069);
}

int qs_escape_cp(unsigned cp)
{
    return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) || bidi_control(cp);
}

int qs_escape_needed(const char *s, int flags)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t len = strlen(s), i = 0;
    unsigned cp;
    while (i < len) {
        size_t k = utf8_seq(p + i, len - i, &cp);
        if (!k) return 1;
        if (cp == '\n' && (flags & QS_ESC_KEEP_NL)) { i++; continue; }
        if (cp == '\t' && (flags & QS_ESC_KEEP_TAB)) { i++; continue; }
        if (qs_escape_cp(cp)) return 1;
        i += k;
    }
    return 0;
}

char *qs_escape(const char *s, int flags)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    size_t len = strlen((const char *)p), i = 0, o = 0;
    /* worst case: every byte becomes \xNN (4 bytes); a C1 code point (2 bytes) \u0080 (6) */
    char *out = malloc(len * 4 + 1);
    if (!out) return NULL;
    while (i < len) {
        unsigned cp;
        size_t k = utf8_seq(p + i, len - i, &cp);
        if (!k) {                               /* not UTF-8: the byte, in hex */
            o += (size_t)sprintf(out + o, "\\x%02x", p[i]);
            i++;
            continue;
        }
        if ((cp == '\n' && (flags & QS_ESC_KEEP_NL)) ||
            (cp == '\t' && (flags & QS_ESC_KEEP_TAB))) {
            out[o++] = (char)cp;
        } else if (cp < 0x20 || cp == 0x7f) {   /* C0 and DEL */
            const char *named = cp == '\n' ? "\\n" : cp == '\t' ? "\\t" : cp == '\r' ? "\\r"
                                                                              : NULL;
            if (named) {
                memcpy(out + o, named, 2);
                o += 2;
            } else {
                o += (size_t)sprintf(out + o, "\\x%02x", cp);
            }
        } else if ((cp >= 0x80 && cp <= 0x9f) || bidi_control(cp)) {   /* C1, bidi */
            o += (size_t)sprintf(out + o, "\\u%04x", cp);
        } else {
            memcpy(out + o, p + i, k);
            o += k;
        }
        i += k;
    }
    out[o] = '\0';
    return out;
}

char *qs_utf8_fix(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, o = 0;
    char *out = malloc(len * 4 + 1);
    if (!out) return NULL;
    while (i < len) {
        unsigned cp;
        size_t k = utf8_seq(p + i, len - i, &cp);
        if (!k) {
            o += (size_t)sprintf(out + o, "\\x%02x", p[i]);
            i++;
        } else {
            memcpy(out + o, p + i, k);
            o += k;
            i += k;
        }
    }
    out[o] = '\0';
    return out;
}

char *qs_json_escape_controls(char *js)
{
    if (!js) return NULL;
    const unsigned char *p = (const unsigned char *)js;
    size_t len = strlen(js), i = 0, o = 0;
    char *out = malloc(len * 6 + 1);            /* DEL (1 byte) -> \u007f (6) is the worst */
    if (!out) {
        free(js);
        return NULL;
    }
    while (i < len) {
        if (p[i] == 0x7f) {
            memcpy(out + o, "\\u007f", 6);
            o += 6;
            i++;
        } else if (p[i] == 0xc2 && i + 1 < len && p[i + 1] >= 0x80 && p[i + 1] <= 0x9f) {
            /* 0xc2 never continues a sequence: this is the C1 code point U+0080..U+009F */
            o += (size_t)sprintf(out + o, "\\u%04x", (unsigned)p[i + 1]);
            i += 2;
        } else {
            out[o++] = (char)p[i++];
        }
    }
    out[o] = '\0';
    free(js);
    return out;
}
