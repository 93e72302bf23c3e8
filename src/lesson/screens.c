/* screens.c — the table of screens and highlight names (include/qscope/screens.h). */
#include "qscope/screens.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

const char *const qs_hl_names[QS_HL_COUNT] = {
    [QS_HL_SCALE] = "scale",
    [QS_HL_ZERO_POINT] = "zero_point",
    [QS_HL_PER_CHANNEL] = "per_channel",
    [QS_HL_STEPS] = "steps",
    [QS_HL_ACTIVATIONS] = "activations",
    [QS_HL_SIGN] = "sign",
    [QS_HL_EXPONENT] = "exponent",
    [QS_HL_MANTISSA] = "mantissa",
    [QS_HL_BITS_PER_PARAM] = "bits_per_param",
};
static_assert(sizeof qs_hl_names / sizeof qs_hl_names[0] == QS_HL_COUNT, "a name per qs_hl");
static_assert(QS_HL_COUNT <= 32, "qs_screen_desc.hl holds a bit per highlight");

const qs_screen_desc qs_screens[QS_SCREEN_COUNT] = {
    [QS_SCREEN_DATA] = {"data", "Data",
                        QS_HLM(QS_HL_SCALE) | QS_HLM(QS_HL_ZERO_POINT) |
                            QS_HLM(QS_HL_PER_CHANNEL)},
    [QS_SCREEN_DERIVE] = {"derive", "Derive",
                          QS_HLM(QS_HL_SCALE) | QS_HLM(QS_HL_ZERO_POINT) |
                              QS_HLM(QS_HL_PER_CHANNEL) | QS_HLM(QS_HL_STEPS) |
                              QS_HLM(QS_HL_ACTIVATIONS)},
    [QS_SCREEN_BITS] = {"bits", "Bits",
                        QS_HLM(QS_HL_SIGN) | QS_HLM(QS_HL_EXPONENT) | QS_HLM(QS_HL_MANTISSA)},
    [QS_SCREEN_ERROR] = {"error", "Error",
                         QS_HLM(QS_HL_PER_CHANNEL) | QS_HLM(QS_HL_BITS_PER_PARAM)},
    [QS_SCREEN_LAB] = {"lab", "Lab", QS_HLM(QS_HL_STEPS)},
    [QS_SCREEN_LESSON] = {"lesson", "Lesson", 0},
};
static_assert(sizeof qs_screens / sizeof qs_screens[0] == QS_SCREEN_COUNT, "a row per screen");
static_assert(QS_SCREEN_COUNT <= 9, "@screen numbers are one digit");

int qs_screen_find(const char *name)
{
    if (!name) return -1;
    for (int i = 0; i < QS_SCREEN_COUNT; i++)
        if (strcmp(name, qs_screens[i].name) == 0) return i;
    if (name[0] >= '1' && name[0] < '1' + QS_SCREEN_COUNT && name[1] == '\0')
        return name[0] - '1';
    return -1;
}

int qs_hl_find(const char *name)
{
    if (!name) return -1;
    for (int h = 0; h < QS_HL_COUNT; h++) {
        if (strcmp(name, qs_hl_names[h]) != 0) continue;
        for (int s = 0; s < QS_SCREEN_COUNT; s++)
            if (qs_screens[s].hl & QS_HLM(h)) return h;
        return -1;      /* a name no screen declares */
    }
    return -1;
}

int qs_screen_marks(int s, int h)
{
    return s >= 0 && s < QS_SCREEN_COUNT && h >= 0 && h < QS_HL_COUNT &&
           (qs_screens[s].hl & QS_HLM(h)) != 0;
}

/* Appends s to buf (truncating, always terminated). */
static void cat(char *buf, size_t len, size_t *n, const char *s)
{
    if (*n >= len) return;
    int k = snprintf(buf + *n, len - *n, "%s", s);
    if (k > 0) *n += (size_t)k;
    if (*n >= len) *n = len - 1;
}

void qs_screen_list(char *buf, size_t len)
{
    if (!len) return;
    size_t n = 0;
    buf[0] = '\0';
    for (int i = 0; i < QS_SCREEN_COUNT; i++) {
        if (i) cat(buf, len, &n, ", ");
        cat(buf, len, &n, qs_screens[i].name);
    }
    char num[16];
    snprintf(num, sizeof num, " or 1-%d", QS_SCREEN_COUNT);
    cat(buf, len, &n, num);
}

void qs_hl_list(char *buf, size_t len)
{
    if (!len) return;
    size_t n = 0;
    buf[0] = '\0';
    for (int h = 0; h < QS_HL_COUNT; h++) {
        if (qs_hl_find(qs_hl_names[h]) != h) continue;
        if (n) cat(buf, len, &n, ", ");
        cat(buf, len, &n, qs_hl_names[h]);
    }
}
