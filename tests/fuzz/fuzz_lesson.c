/* fuzz_lesson.c — libFuzzer harness for the lesson file parser (qs_lesson_parse). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qscope/lesson.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    qs_lesson *l = NULL;
    qs_err err = {""};
    if (qs_lesson_parse(text, "fuzz.lesson", &l, &err) != QS_OK) {
        if (l || strchr(err.msg, '\n') || !err.msg[0]) abort();
    }
    qs_lesson_free(l);
    free(text);
    return 0;
}
