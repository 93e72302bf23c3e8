/* test_render.c — the text renderer (src/front/render.c): numbers keep their digits, long
 * text wraps within the width and is never cut, long arrays stay on one line, nested
 * histograms and curves are one-line sparklines, help options wrap under their column, and
 * no line ends in blanks. The inputs are literal JSON; the expectations are written out by
 * hand. */
#include <criterion/criterion.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "front/front.h"

/* Renders JSON text with the given width (UTF-8, no colour) into a malloc'd string. */
static char *render(const char *json, int width)
{
    json_error_t je;
    json_t *o = json_loads(json, 0, &je);
    cr_assert_not_null(o, "bad test JSON: %s", je.text);
    qs_render_opts opt = {0, 1, 6, width};
    char *s = qs_render_text_str(NULL, o, &opt);
    json_decref(o);
    cr_assert_not_null(s);
    return s;
}

/* Display columns of each line (code points): all at most width, none ending in a blank. */
static void check_lines(const char *s, int width)
{
    int col = 0, line = 1;
    for (const char *p = s; *p; p++) {
        if (*p == '\n') {
            cr_assert(p == s || p[-1] != ' ', "line %d ends in a blank:\n%s", line, s);
            col = 0;
            line++;
            continue;
        }
        if (((unsigned char)*p & 0xC0) != 0x80) col++;
        cr_assert_leq(col, width, "line %d is wider than %d:\n%s", line, width, s);
    }
}

Test(render, numbers_keep_their_digits)
{
    char b[64];
    qs_fmt_num(b, sizeof b, 36110839843.75, 6);
    cr_assert_str_eq(b, "36110839844");
    qs_fmt_num(b, sizeof b, -2500000.25, 6);
    cr_assert_str_eq(b, "-2500000");
    qs_fmt_num(b, sizeof b, 3.9215686, 6);
    cr_assert_str_eq(b, "3.92157");
    qs_fmt_num(b, sizeof b, 1.5e-7, 6);
    cr_assert_str_eq(b, "1.5e-07");
    qs_fmt_num(b, sizeof b, 2.5e20, 6);
    cr_assert_str_eq(b, "2.5e+20");
    qs_fmt_num(b, sizeof b, 255, 6);
    cr_assert_str_eq(b, "255");
}

Test(render, long_text_wraps_and_is_never_cut)
{
    char json[2400] = "{\"n\": 1, \"assumptions\": \"";
    for (int i = 0; i < 150; i++) {
        char w[16];
        snprintf(w, sizeof w, "w%03d ", i);
        strcat(json, w);
    }
    strcat(json, "end\"}");
    char *s = render(json, 50);
    check_lines(s, 50);
    const char *p = s;
    for (int i = 0; i < 150; i++) {         /* every word, in order */
        char w[16];
        snprintf(w, sizeof w, "w%03d", i);
        const char *q = strstr(p, w);
        cr_assert_not_null(q, "word %s lost:\n%s", w, s);
        p = q;
    }
    cr_assert_not_null(strstr(p, "end"));
    /* continuation lines start under the value column (key width 11 + 2) */
    cr_assert_not_null(strstr(s, "\n             w"), "%s", s);
    free(s);
    /* a word longer than a line (a hex dump) is cut at the width, every digit kept */
    char hex[400] = "{\"raw\": \"";
    for (int i = 0; i < 300; i++) hex[9 + i] = "0123456789abcdef"[i % 16];
    strcpy(hex + 309, "\"}");
    s = render(hex, 40);
    check_lines(s, 40);
    int digits = 0;
    for (const char *c = s + 3; *c; c++) digits += (*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f');
    cr_assert_eq(digits, 300, "%s", s);
    free(s);
}

/* Words of characters that take several bytes ("·" is 2, "→" 3) are measured in display
 * columns: a line holds as many as fit (wrap counted bytes and broke lines early: 5 words of
 * "·····" where 6 fit), and one longer than a line is cut at the width's characters. */
Test(render, wrap_counts_columns_not_bytes)
{
    char json[2400] = "{\"assumptions\": \"";
    for (int i = 0; i < 60; i++) strcat(json, "\xc2\xb7\xc2\xb7\xc2\xb7\xc2\xb7\xc2\xb7 ");
    strcat(json, "end\"}");
    char *s = render(json, 50);
    check_lines(s, 50);
    /* the value column is 13 (key 11 + 2): 37 columns hold 6 words of 5 and their blanks */
    const char *nl = strchr(s, '\n');
    cr_assert_not_null(nl);
    int words = 0;
    for (const char *p = s; p < nl; p++) words += *p == ' ' && p[1] != ' ';
    cr_assert_eq(words, 6, "%s", s);
    free(s);
    /* a word of 100 "→" cut at the width (35 columns after "raw  "): every arrow kept, and the
     * cut lines full (cut at 35 bytes they held 11 arrows) */
    char arrows[400] = "{\"raw\": \"";
    for (int i = 0; i < 100; i++) strcat(arrows, "\xe2\x86\x92");
    strcat(arrows, "\"}");
    s = render(arrows, 40);
    check_lines(s, 40);
    int n = 0, cols = 0, widest = 0;
    for (const char *p = s; *p; p++) {
        if (*p == '\n') cols = 0;
        else if (((unsigned char)*p & 0xC0) != 0x80 && ++cols > widest) widest = cols;
        n += strncmp(p, "\xe2\x86\x92", 3) == 0;
    }
    cr_assert_eq(n, 100, "%s", s);
    cr_assert_eq(widest, 40, "the cut lines use the whole width:\n%s", s);
    free(s);
}

Test(render, long_arrays_stay_on_one_line)
{
    char json[4000] = "{\"values\": [";
    for (int i = 0; i < 100; i++) {
        char w[32];
        snprintf(w, sizeof w, "%s%d.125", i ? ", " : "", i);
        strcat(json, w);
    }
    strcat(json, "], \"codes\": [1, 2, 3]}");
    char *s = render(json, 60);
    check_lines(s, 60);
    cr_assert_not_null(strstr(s, "values  [0.125, 1.125, "), "%s", s);
    cr_assert_not_null(strstr(s, ", … (100 in all)]\n"), "%s", s);
    cr_assert_not_null(strstr(s, "codes   [1, 2, 3]\n"), "%s", s);
    free(s);
}

Test(render, nested_histogram_is_one_sparkline)
{
    char *s = render("{\"mse\": 0.5, \"err_hist\": {\"counts\": [0, 1, 2, 4, 8, 4, 2, 1, 0], "
                     "\"edges\": [-4.5, -3.5, -2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5, 4.5]}}", 80);
    check_lines(s, 80);
    /* empty bins blank, the tallest a full block, heights in proportion: level =
     * round(7 · count / 8) of ▁..█ (1 → 1 ▂, 2 → 2 ▃, 4 → 4 ▅, 8 → 7 █) */
    cr_assert_not_null(strstr(s, "err_hist  [-4.5 … 4.5]  ▂▃▅█▅▃▂  (9 bins)\n"), "%s", s);
    free(s);
}

Test(render, nested_curve_is_a_range_and_a_sparkline)
{
    char json[4000] = "{\"curve\": {\"x_label\": \"amax\", \"x\": [";
    for (int i = 0; i < 20; i++) {
        char w[32];
        snprintf(w, sizeof w, "%s%d", i ? ", " : "", i + 1);
        strcat(json, w);
    }
    strcat(json, "], \"y\": [");
    for (int i = 0; i < 20; i++) {
        char w[32];
        snprintf(w, sizeof w, "%s%d", i ? ", " : "", i < 10 ? 10 - i : i - 9);
        strcat(json, w);
    }
    strcat(json, "], \"best\": 9}}");
    char *s = render(json, 80);
    check_lines(s, 80);
    cr_assert_not_null(strstr(s, "\n  x        1 … 20\n"), "%s", s);
    /* 10 down to 1 then 1 up to 10: a V; level = round(7 · (y - 1) / 9): 10 → 7, 9 → 6,
     * 8 → 5, 7 → 5, 6 → 4, 5 → 3, 4 → 2, 3 → 2, 2 → 1, 1 → 0 */
    cr_assert_not_null(strstr(s, "\n  y        [1 … 10] █▇▆▆▅▄▃▃▂▁▁▂▃▃▄▅▆▆▇█\n"), "%s", s);
    cr_assert_not_null(strstr(s, "\n  best     9\n"), "%s", s);
    free(s);
}

Test(render, help_options_wrap_under_their_column)
{
    char *s = render("{\"help\": \"calib\", \"usage\": \"calib [KIND]\", \"summary\": \"short\", "
                     "\"options\": \"minmax     the observed min and max, which is a long text "
                     "that must wrap under its column\\nPATH       a path\\n           continued "
                     "here\", \"example\": \"calib minmax\"}", 50);
    check_lines(s, 50);
    cr_assert_not_null(strstr(s, "  minmax     the observed min and max, which is a\n"
                                 "             long text that must wrap under its\n"
                                 "             column\n"), "%s", s);
    cr_assert_not_null(strstr(s, "  PATH       a path continued here\n"), "%s", s);
    free(s);
}

Test(render, nested_objects_have_no_trailing_blanks)
{
    char *s = render("{\"file\": \"a.npy\", \"metadata\": {\"descr\": \"<f4\"}, \"rows\": "
                     "[{\"a\": 1, \"b\": \"x\"}]}", 80);
    check_lines(s, 80);
    cr_assert_not_null(strstr(s, "metadata\n  descr  <f4\n"), "%s", s);
    free(s);
}

/* A table wider than the terminal: one blank between columns, then the columns with one value
 * in every row go to a note, then columns are left out from the right and named. */
Test(render, wide_tables_fit_the_width)
{
    const char *json = "{\"rows\": ["
        "{\"name\": \"alpha\", \"conv\": \"torch\", \"sqnr_db\": 12.5, \"mse\": 0.001, "
        "\"extra_long_column\": 123456, \"more\": 1},"
        "{\"name\": \"b\", \"conv\": \"torch\", \"sqnr_db\": 18.25, \"mse\": 0.0002, "
        "\"extra_long_column\": 7, \"more\": null}]}";
    char *s = render(json, 80);         /* fits: two blanks, everything */
    cr_assert_not_null(strstr(s, "  name   conv   sqnr_db  mse     extra_long_column  more\n"),
                       "%s", s);
    cr_assert_not_null(strstr(s, "  b      torch    18.25  0.0002                  7     -\n"),
                       "%s", s);
    free(s);
    s = render(json, 45);     /* 2 + 5 + 7 + 6 + 17 + 4 + 4 blanks = 45 without conv */
    check_lines(s, 45);
    cr_assert_not_null(strstr(s, "  name  sqnr_db mse    extra_long_column more\n"
                                 "  alpha    12.5  0.001            123456    1\n"
                                 "  b       18.25 0.0002                 7    -\n"
                                 "  every row: conv torch\n"), "%s", s);
    free(s);
    s = render(json, 30);
    check_lines(s, 30);
    cr_assert_not_null(strstr(s, "  name  sqnr_db mse\n"), "%s", s);
    cr_assert_not_null(strstr(s, "  too wide to show:"), "%s", s);
    cr_assert_not_null(strstr(s, "extra_long_column"), "%s", s);
    free(s);
}

/* A last column of text too wide for the window is cut to the width with "…" and a note,
 * not left out (lab gpt generate's generations vanished behind "too wide to show: text") */
Test(render, last_text_column_is_cut_not_dropped)
{
    const char *json = "{\"generations\": ["
        "{\"format\": \"fp32\", \"bits\": 32, \"text\": \"And the son of the LORD the shall be "
        "the son of the LORD\"},"
        "{\"format\": \"int4-channel\", \"bits\": 4.375, \"text\": \"Aman, I will the shall of "
        "the son\"}]}";
    char *s = render(json, 50);
    check_lines(s, 50);
    cr_assert_null(strstr(s, "too wide to show"), "%s", s);
    cr_assert_not_null(strstr(s, "32 And the son of the LORD the …\n"), "%s", s);
    cr_assert_not_null(strstr(s, "4.375 Aman, I will the shall of th…\n"), "%s", s);
    cr_assert_not_null(strstr(s, "text cut to the width"), "%s", s);
    free(s);
    s = render(json, 120);              /* room: nothing cut, no note */
    cr_assert_not_null(strstr(s, "shall be the son of the LORD\n"), "%s", s);
    cr_assert_null(strstr(s, "cut to the width"), "%s", s);
    free(s);
}

/* A result's "columns" names the columns its rows table shows first (lab gpt sweep declared
 * kld and top1_agree but the table showed nll, bpc and top1 and left those out) */
Test(render, declared_columns_come_first)
{
    const char *json = "{\"columns\": [\"format\", \"ppl\", \"kld\"], \"rows\": ["
        "{\"format\": \"int8\", \"nll\": 1.45238, \"bpc\": 2.09534, \"ppl\": 4.27326, "
        "\"extra_wide_column\": 123456789, \"kld\": 5.2e-05},"
        "{\"format\": \"int4\", \"nll\": 1.46946, \"bpc\": 2.11998, \"ppl\": 4.34689, "
        "\"extra_wide_column\": 1, \"kld\": 0.0145}]}";
    char *s = render(json, 40);
    check_lines(s, 40);
    cr_assert_not_null(strstr(s, "  format ppl     kld"), "%s", s);
    cr_assert_not_null(strstr(s, "too wide to show:"), "%s", s);
    cr_assert_not_null(strstr(s, "extra_wide_column"), "%s", s);
    free(s);
}

/* A row's lists (lab gpt acts' top_channels) cannot be table cells: a note names them */
Test(render, nested_lists_in_rows_are_named)
{
    char *s = render("{\"rows\": [{\"layer\": \"fc1\", \"absmax\": 3.5, \"top\": [{\"c\": 1}, "
                     "{\"c\": 2}]}]}", 80);
    cr_assert_not_null(strstr(s, "  layer absmax\n") ? s : strstr(s, "layer  absmax"), "%s", s);
    cr_assert_not_null(strstr(s, "not in the table: top (lists in each row"), "%s", s);
    free(s);
}

/* A number format's value and its neighbours get the digits that tell them apart: 7.32 in
 * fp32 is 0x40EA3D71 = 7.32000017166, its neighbours 0x40EA3D72 = 7.32000064850 and
 * 0x40EA3D70 = 7.31999969482; eight digits separate them. Other numbers keep 6. */
Test(render, bits_neighbours_are_told_apart)
{
    char *s = render("{\"format\": \"fp32\", \"value\": 7.320000171661377, \"next_up\": "
                     "7.3200006484985352, \"next_down\": 7.3199996948242188, \"ulp\": "
                     "4.76837158203125e-07}", 80);
    cr_assert_not_null(strstr(s, "value      7.3200002\n"), "%s", s);
    cr_assert_not_null(strstr(s, "next_up    7.3200006\n"), "%s", s);
    cr_assert_not_null(strstr(s, "next_down  7.3199997\n"), "%s", s);
    cr_assert_not_null(strstr(s, "ulp        4.76837e-07\n"), "%s", s);
    free(s);
}

/* Histogram bars: an empty bin ends at its count (no trailing blank); log scale says so. */
Test(render, histogram_bars)
{
    char *s = render("{\"counts\": [4, 0, 2], \"edges\": [0, 1, 2, 3], \"log\": false}", 44);
    check_lines(s, 44);
    /* bar width 44 - 34 = 10 columns for the largest count; 2 of 4 is half of it */
    cr_assert_not_null(strstr(s, "         0 … 1                 4 ██████████\n"), "%s", s);
    cr_assert_not_null(strstr(s, "         1 … 2                 0\n"), "%s", s);
    cr_assert_not_null(strstr(s, "         2 … 3                 2 █████\n"), "%s", s);
    free(s);
    s = render("{\"counts\": [9, 0], \"edges\": [0, 1, 2], \"log\": true}", 44);
    cr_assert_not_null(strstr(s, "log scale"), "%s", s);
    free(s);
}
