/* test_cmd_specs.c — the command rows' argument specs: every spec of every row (and of every
 * nested subcommand row, at every depth: lab gpt ptq) completes after the command through the
 * real completion function, table-driven values complete after "key=" (each item of a list),
 * numbers outside a spec's range are refused and its bounds accepted; rows without specs
 * complete every key= their usage line shows. A subcommand's parser sees only words its specs
 * accept (qs_cmd_run_sub checks them first), so the specs are the keys it accepts. Completion
 * drifted from the grammar before (hist bins= / range=, synth n= / seed=, lab gpt ptq method=);
 * this walks the whole table so it cannot again. */
#include <criterion/criterion.h>

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "front/front.h"
#include "qscope/calib.h"
#include "qscope/cmd.h"
#include "qscope/quant.h"
#include "qscope/gpt_ptq.h"
#include "qscope/synth.h"

const char *qs_gpt_vocab_method(int i, const char **help);     /* src/cmd/cmd_gpt_ptq.c */

/* 1 when completing `line` at its end offers `want` (prefix: a candidate starting with it,
 * e.g. "convention=torch" for "convention="). */
static int offers(const char *line, const char *want, int prefix)
{
    qs_completion c;
    cr_assert_geq(qs_complete(NULL, line, (int)strlen(line), &c), 0, "out of memory");
    int found = 0;
    for (int i = 0; i < c.n; i++)
        if (prefix ? strncmp(c.words[i], want, strlen(want)) == 0
                   : strcmp(c.words[i], want) == 0)
            found = 1;
    qs_completion_fini(&c);
    return found;
}

static int completes(const char *line, const char *want) { return offers(line, want, 0); }

static void check_specs(const qs_cmd *row, const char *prefix, int *nspec)
{
    char line[256], want[256];
    for (const qs_arg *a = row->args; a && a->type != QS_ARG_END; a++) {
        (*nspec)++;
        const char *v;
        switch (a->type) {
        case QS_ARG_FLAG:
            snprintf(line, sizeof line, "%s ", prefix);
            cr_expect(completes(line, a->name), "'%s' does not complete %s", line, a->name);
            break;
        case QS_ARG_INT: case QS_ARG_REAL: case QS_ARG_TEXT: case QS_ARG_LIST:
            snprintf(line, sizeof line, "%s ", prefix);
            snprintf(want, sizeof want, "%s=", a->name);
            cr_expect(completes(line, want), "'%s' does not complete %s", line, want);
            for (int i = 0; (v = qs_arg_choice_at(a, i, NULL)); i++) {
                snprintf(line, sizeof line, "%s %s=", prefix, a->name);
                snprintf(want, sizeof want, "%s=%s", a->name, v);
                cr_expect(completes(line, want), "'%s' does not complete %s", line, want);
                if (a->type != QS_ARG_LIST) continue;
                /* a list: after "key=FIRST," the next item completes, and the list passes */
                const char *first = qs_arg_choice_at(a, 0, NULL);
                char w[256];
                char *argv[2] = { w, NULL };
                qs_err err = {{0}};
                snprintf(line, sizeof line, "%s %s=%s,", prefix, a->name, first);
                snprintf(want, sizeof want, "%s=%s,%s", a->name, first, v);
                cr_expect(completes(line, want), "'%s' does not complete %s", line, want);
                snprintf(w, sizeof w, "%s=%s,%s", a->name, first, v);
                cr_expect_eq(qs_args_check(row, 1, argv, &err), QS_OK, "%s %s: %s", prefix, w,
                             err.msg);
                snprintf(w, sizeof w, "%s=%s,%s,no-such-item", a->name, first, v);
                cr_expect_eq(qs_args_check(row, 1, argv, &err), QS_ERR, "%s %s accepted",
                             prefix, w);
            }
            break;
        case QS_ARG_WORD:
            cr_expect_not_null(qs_arg_choice_at(a, 0, NULL), "%s: WORD %s has no choices",
                               prefix, a->name);
            for (int i = 0; (v = qs_arg_choice_at(a, i, NULL)); i++) {
                snprintf(line, sizeof line, "%s ", prefix);
                cr_expect(completes(line, v), "'%s' does not complete %s", line, v);
                /* the options the word brings complete once it is on the line */
                const char *k;
                for (int j = 0; a->keys && (k = a->keys(v, j, NULL)); j++) {
                    snprintf(line, sizeof line, "%s %s ", prefix, v);
                    snprintf(want, sizeof want, "%s=", k);
                    cr_expect(completes(line, want), "'%s' does not complete %s", line, want);
                    (*nspec)++;
                }
            }
            break;
        default:
            break;
        }
        if (a->type == QS_ARG_INT || a->type == QS_ARG_REAL) {
            /* the bounds pass qs_args_check; one step beyond them fails */
            char w[128];
            char *argv[2] = { w, NULL };
            qs_err err = {{0}};
            snprintf(w, sizeof w, "%s=%.17g", a->name, a->lo);
            cr_expect_eq(qs_args_check(row, 1, argv, &err), QS_OK, "%s %s: %s", prefix, w,
                         err.msg);
            snprintf(w, sizeof w, "%s=%.17g", a->name, a->hi);
            cr_expect_eq(qs_args_check(row, 1, argv, &err), QS_OK, "%s %s: %s", prefix, w,
                         err.msg);
            double below = a->type == QS_ARG_INT ? a->lo - 1 : a->lo - fmax(1.0, fabs(a->lo));
            if (isfinite(below) && below != a->lo) {
                snprintf(w, sizeof w, "%s=%.17g", a->name, below);
                cr_expect_eq(qs_args_check(row, 1, argv, &err), QS_ERR, "%s %s accepted",
                             prefix, w);
            }
        }
    }
}

/* Every "key=" the usage line of a row without specs shows completes. */
static void check_usage(const qs_cmd *row, const char *prefix, int *nkeys)
{
    const char *u = row->usage;
    for (const char *p = u ? strchr(u, '=') : NULL; p; p = strchr(p + 1, '=')) {
        const char *k = p;
        while (k > u && (k[-1] == '_' || k[-1] == '-' || (k[-1] >= 'a' && k[-1] <= 'z') ||
                         (k[-1] >= 'A' && k[-1] <= 'Z') || (k[-1] >= '0' && k[-1] <= '9')))
            k--;
        if (k == p || k[0] == '-') continue;
        char want[64], line[256];
        snprintf(want, sizeof want, "%.*s=", (int)(p - k), k);
        snprintf(line, sizeof line, "%s ", prefix);
        (*nkeys)++;
        cr_expect(offers(line, want, 1), "'%s' does not complete %s (usage: %s)", line, want,
                  u);
    }
}

/* Walks row (whose command words are `prefix`) and its nested tables, depth first. */
static void walk(const qs_cmd *row, const char *prefix, int depth, int *nspec, int *nkeys,
                 int *nrows, int *deepest)
{
    char line[256], sub_prefix[256];
    (*nrows)++;
    if (depth > *deepest) *deepest = depth;
    if (row->args) check_specs(row, prefix, nspec);
    else if (!row->subs) check_usage(row, prefix, nkeys);
    for (const qs_cmd *sub = row->subs; sub && sub->name; sub++) {
        snprintf(line, sizeof line, "%s ", prefix);
        cr_expect(completes(line, sub->name), "'%s' does not complete the subcommand %s",
                  line, sub->name);
        snprintf(line, sizeof line, "help %s ", prefix);
        cr_expect(completes(line, sub->name), "'%s' does not complete %s", line, sub->name);
        snprintf(sub_prefix, sizeof sub_prefix, "%s %s", prefix, sub->name);
        /* its usage line starts with its command words, and `help` finds the row */
        cr_expect_eq(strncmp(sub->usage, sub_prefix, strlen(sub_prefix)), 0,
                     "usage of '%s': %s", sub_prefix, sub->usage);
        char label[128];
        qs_cmd_label(sub, label, sizeof label);
        cr_expect_str_eq(label, sub_prefix);
        walk(sub, sub_prefix, depth + 1, nspec, nkeys, nrows, deepest);
    }
}

Test(specs, every_option_completes)
{
    int nspec = 0, nkeys = 0, nrows = 0, deepest = 0;
    for (int i = 0; i < qs_cmd_count(); i++) {
        const qs_cmd *c = qs_cmd_at(i);
        walk(c, c->name, 0, &nspec, &nkeys, &nrows, &deepest);
    }
    cr_assert_gt(nspec, 150, "only %d specs walked", nspec);
    cr_assert_gt(nkeys, 10, "only %d usage keys walked", nkeys);
    cr_assert_geq(deepest, 2, "the walk never went below a subcommand (lab gpt ptq)");
    /* the options the GPT lab's parsers read complete where they are accepted, not elsewhere */
    cr_expect(completes("lab gpt ptq ", "method="));
    cr_expect(completes("lab gpt ptq method=", "method=gptq"));
    cr_expect(completes("lab gpt sweep ", "methods="));
    cr_expect(completes("lab gpt sweep ", "formats="));
    cr_expect(completes("lab gpt sweep formats=fp32,", "formats=fp32,nvfp4"));
    cr_expect(!completes("lab gpt ptq ", "steps="), "steps= is not a ptq option");
    cr_expect(!completes("lab gpt ", "method="), "keys belong to the subcommands");
}

/* Runs line on a fresh session: QS_ERR expected, its message returned in err. */
static int run_fails(const char *line, qs_err *err)
{
    qs_session s;
    qs_session_init(&s);
    json_t *out = NULL;
    memset(err, 0, sizeof *err);
    int rc = qs_cmd_run_line(&s, line, &out, NULL, err);
    json_decref(out);
    qs_session_fini(&s);
    return rc != QS_OK;
}

/* Every subcommand row refuses a key outside its specs before its run() starts (so before a
 * model is trained or loaded): what a subcommand accepts is exactly what its specs say. */
static void check_gate(const qs_cmd *row, const char *prefix, int *n)
{
    for (const qs_cmd *sub = row->subs; sub && sub->name; sub++) {
        char line[400], want[400], sub_prefix[256];
        snprintf(sub_prefix, sizeof sub_prefix, "%s %s", prefix, sub->name);
        if (sub->args) {
            qs_err err;
            snprintf(line, sizeof line, "%s no_such_key=1", sub_prefix);
            snprintf(want, sizeof want, "%s: unknown option 'no_such_key'", sub_prefix);
            cr_expect(run_fails(line, &err), "'%s' ran", line);
            cr_expect(strstr(err.msg, want) != NULL, "'%s': %s", line, err.msg);
            (*n)++;
        }
        check_gate(sub, sub_prefix, n);
    }
}

Test(specs, subcommands_accept_only_their_specs)
{
    int n = 0;
    for (int i = 0; i < qs_cmd_count(); i++) check_gate(qs_cmd_at(i), qs_cmd_at(i)->name, &n);
    cr_assert_geq(n, 20, "only %d subcommand rows with specs", n);
    qs_err err;
    cr_expect(run_fails("lab gpt ptq method=nope", &err));
    cr_expect(strstr(err.msg, "rtn, gptq, awq") != NULL, "%s", err.msg);
    /* an option the method does not read is refused, naming what it reads */
    cr_expect(run_fails("lab gpt ptq method=w8a8 bits=3", &err));
    cr_expect(strstr(err.msg, "method=w8a8 does not read bits") != NULL, "%s", err.msg);
    cr_expect(run_fails("lab gpt ptq method=rtn actorder", &err));
    cr_expect(strstr(err.msg, "does not read actorder (it reads: bits group sym text chars)") != NULL,
              "%s", err.msg);
    cr_expect(run_fails("lab gpt ptq method=gptq alpha=0.3", &err));
    cr_expect(strstr(err.msg, "alpha") != NULL, "%s", err.msg);
    cr_expect(run_fails("lab gpt ptq method=rotate bits=0 group=8", &err));
    cr_expect(strstr(err.msg, "quantizes nothing: group") != NULL, "%s", err.msg);
    cr_expect(run_fails("lab gpt sweep methods=gptq,nope", &err));
    cr_expect(strstr(err.msg, "'nope' is not one of") != NULL, "%s", err.msg);
    cr_expect(run_fails("lab gpt nope", &err));
    cr_expect(strstr(err.msg, "lab gpt: unknown subcommand 'nope'") != NULL, "%s", err.msg);
}

Test(specs, help_reaches_every_nested_row)
{
    qs_session ss, *s = &ss;
    qs_session_init(s);
    json_t *out = NULL;
    qs_err err = {{0}};
    cr_assert_eq(qs_cmd_run_line(s, "help lab gpt ptq", &out, NULL, &err), QS_OK, "%s", err.msg);
    cr_expect_str_eq(json_string_value(json_object_get(out, "name")), "lab gpt ptq");
    const char *opts = json_string_value(json_object_get(out, "options"));
    cr_assert_not_null(opts);
    for (int i = 0; i < 7; i++) {   /* every method of the table is on method='s line */
        const char *m = qs_gpt_vocab_method(i, NULL);
        cr_assert_not_null(m);
        cr_expect(strstr(opts, m) != NULL, "help lab gpt ptq lacks %s", m);
    }
    json_decref(out);
    cr_assert_eq(qs_cmd_run_line(s, "help lab gpt", &out, NULL, &err), QS_OK, "%s", err.msg);
    cr_expect_eq(json_array_size(json_object_get(out, "subcommands")), 12);
    json_decref(out);
    cr_expect_eq(qs_cmd_run_line(s, "help lab gpt nope", &out, NULL, &err), QS_ERR);
    qs_session_fini(s);
}

Test(specs, table_driven_choices_follow_the_calibrator_table)
{
    /* calib's KIND and the lab's calib= come from the table: each row completes, and the
     * help text carries its line */
    const qs_cmd *c = qs_cmd_find("calib");
    cr_assert_not_null(c);
    char *opts = qs_cmd_options(c);
    cr_assert_not_null(opts);
    for (int k = 0; k < QS_CAL_COUNT; k++) {
        const qs_calib_desc *d = &qs_calib_table[k];
        cr_expect(completes("calib ", d->name), "calib %s does not complete", d->name);
        cr_expect(strstr(opts, d->help) != NULL, "help calib lacks %s's line", d->name);
        char want[64];
        snprintf(want, sizeof want, "calib=%s", d->name);
        cr_expect_eq(completes("lab ptq calib=", want), !!(d->flags & QS_CALF_LAB),
                     "lab ptq calib=%s", d->name);
    }
    free(opts);
    cr_expect(completes("hist ", "bins="));
    cr_expect(completes("hist ", "range="));
    cr_expect(completes("synth normal ", "n="));
    cr_expect(completes("synth normal ", "seed="));
    cr_expect(completes("calib percentile ", "abs"));
    cr_expect(completes("help lab ", "ptq"), "help completes a subcommand");
    cr_expect(completes("lab ", "sweep"));
    /* conventions: convention= completes every row of the table, help scheme names them */
    char *sh = qs_cmd_options(qs_cmd_find("scheme"));
    cr_assert_not_null(sh);
    for (int k = 0; k < QS_CONV_COUNT; k++) {
        char want[64];
        snprintf(want, sizeof want, "convention=%s", qs_conv_table[k].name);
        cr_expect(completes("scheme convention=", want), "%s", want);
        cr_expect(strstr(sh, qs_conv_table[k].name) != NULL, "help scheme lacks %s", want);
        cr_expect_eq(qs_conv_find(qs_conv_table[k].name), k);
    }
    free(sh);
    cr_expect(!completes("calib percentile abs ", "abs"), "a flag already given");
}

Test(specs, scheme_families_parse_name_and_complete_from_their_rows)
{
    for (int k = 0; k < QS_Q_COUNT; k++) {
        const qs_qkind_desc *d = &qs_qkind_table[k];
        cr_assert_eq((int)d->kind, k, "row %d", k);
        cr_assert(d->family && d->help, "row %d", k);
        if (!d->word) continue;
        const char *words[2] = { d->word, d->alias };
        for (int j = 0; j < 2 && words[j]; j++) {
            qs_scheme sc;
            qs_scheme_default(&sc);
            char *argv[1] = { (char *)words[j] };
            qs_err err = {{0}};
            cr_assert_eq(qs_scheme_parse(&sc, 1, argv, &err), QS_OK, "%s: %s", words[j],
                         err.msg);
            cr_assert_eq((int)sc.kind, k, "%s", words[j]);
            cr_assert_eq(sc.bits, d->bits, "%s", words[j]);
            cr_assert_str_eq(qs_qkind_name(&sc), d->word);
        }
        cr_expect(completes("scheme ", d->word), "scheme %s does not complete", d->word);
    }
}

/* ---- the parsers' own key lists (rows without specs) --------------------------------------- */

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s (the unit tests run from the repository's top)", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    cr_assert_not_null(b);
    cr_assert_eq(fread(b, 1, (size_t)n, f), (size_t)n);
    b[n] = '\0';
    fclose(f);
    return b;
}

/* The quoted strings of the list whose declaration `decl` (e.g. "keys[] = {") lies in
 * [p, end), calling fn(row, word) for each; returns how many. */
static int each_quoted(const char *p, const char *end, const char *decl, const char *row,
                       void (*fn)(const char *row, const char *w))
{
    const char *d = strstr(p, decl);
    if (!d || d >= end) return 0;
    const char *close = strchr(d, '}');
    int n = 0;
    for (const char *q = strchr(d, '"'); q && q < close; q = strchr(q + 1, '"')) {
        const char *e = strchr(q + 1, '"');
        char w[64];
        snprintf(w, sizeof w, "%.*s", (int)(e - q - 1), q + 1);
        fn(row, w);
        n++;
        q = e;
    }
    return n;
}

static void key_completes(const char *row, const char *k)
{
    char line[128], want[80];
    snprintf(line, sizeof line, "%s ", row);
    snprintf(want, sizeof want, "%s=", k);
    cr_expect(offers(line, want, 1), "'%s' accepts %s but '%s' does not complete it", row,
              want, line);
}

static void flag_completes(const char *row, const char *k)
{
    char line[128];
    snprintf(line, sizeof line, "%s ", row);
    cr_expect(completes(line, k), "'%s' accepts %s but '%s' does not complete it", row, k,
              line);
}

/* Rows without specs check their words with qs_arg_check against the parser's own keys[] and
 * flags[]: every one of those (read from the source, function by function) completes after
 * the row that parser serves. */
Test(specs, every_key_a_parser_lists_completes)
{
    DIR *d = opendir("src/cmd");
    cr_assert_not_null(d, "src/cmd (the unit tests run from the repository's top)");
    struct dirent *e;
    int parsers = 0, words = 0;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l < 3 || strcmp(e->d_name + l - 2, ".c")) continue;
        char path[512];
        snprintf(path, sizeof path, "src/cmd/%s", e->d_name);
        char *src = slurp(path);
        /* function by function: a body ends at a '}' alone on its line */
        for (const char *p = src, *end; *p; p = end) {
            end = strstr(p, "\n}\n");
            end = end ? end + 3 : p + strlen(p);
            const char *chk = strstr(p, "qs_arg_check(");
            while (chk && chk < end && !strncmp(chk, "qs_arg_check(const", 18))  /* its definition */
                chk = strstr(chk + 1, "qs_arg_check(");
            if (!chk || chk >= end) continue;
            char row[64] = "";
            const char *f1 = strstr(p, "qs_cmd_find(\""), *f2 = strstr(p, "row_of(\"");
            const char *f = f1 && f1 < end ? f1 : NULL;
            if (f2 && f2 < end && (!f || f2 < f)) f = f2;
            if (f) {
                const char *q = strchr(f, '"');
                snprintf(row, sizeof row, "%.*s", (int)strcspn(q + 1, "\""), q + 1);
            } else if (strstr(p, "&qs_cmds_bits[0]") && strstr(p, "&qs_cmds_bits[0]") < end) {
                snprintf(row, sizeof row, "bits 1");
            }
            cr_expect(row[0], "%s: a qs_arg_check whose row this test cannot name at: %.60s",
                      path, chk);
            if (!row[0]) continue;
            const qs_cmd *c = qs_cmd_find(strtok(strcpy((char[64]){0}, row), " "));
            cr_expect_not_null(c, "%s: no row '%s'", path, row);
            int n = each_quoted(p, end, "keys[] = {", row, key_completes);
            n += each_quoted(p, end, "flags[] = {", row, flag_completes);
            if (n) parsers++;
            words += n;
        }
        free(src);
    }
    closedir(d);
    cr_assert_geq(parsers, 15, "only %d parsers with key lists found", parsers);
    cr_assert_geq(words, 60, "only %d keys found", words);
    /* scheme's parser (src/quant/scheme.c) spells its keys KEY("...") */
    char *sc = slurp("src/quant/scheme.c");
    int nk = 0;
    for (const char *q = strstr(sc, "KEY(\""); q; q = strstr(q + 1, "KEY(\"")) {
        char k[64];
        snprintf(k, sizeof k, "%.*s", (int)strcspn(q + 5, "\""), q + 5);
        if (!strcmp(k, "k")) continue;          /* the macro's own definition */
        key_completes("scheme", k);
        nk++;
    }
    free(sc);
    cr_assert_geq(nk, 7, "only %d scheme keys found", nk);
    /* synth DIST brings its parameters (the distribution table): each completes after it,
     * and passes the row's specs */
    int nd = 0;
    const qs_synth_dist *dists = qs_synth_dists(&nd);
    const qs_cmd *synth = qs_cmd_find("synth");
    for (int i = 0; i < nd; i++)
        for (int j = 0; j < dists[i].np; j++) {
            char line[128], want[64], w[64];
            snprintf(line, sizeof line, "synth %s ", dists[i].name);
            snprintf(want, sizeof want, "%s=", dists[i].p[j].name);
            cr_expect(completes(line, want), "'%s' does not complete %s", line, want);
            char *argv[3] = { (char *)dists[i].name, w, NULL };
            qs_err err = {{0}};
            snprintf(w, sizeof w, "%s=1", dists[i].p[j].name);
            cr_expect_eq(qs_args_check(synth, 2, argv, &err), QS_OK, "%s: %s", line, err.msg);
        }
    cr_expect(!completes("synth normal ", "b="), "b= is laplace's, not normal's");
    /* one distribution: once chosen, the names are not offered again */
    cr_expect(completes("synth ", "laplace"));
    cr_expect(!completes("synth laplace ", "normal"), "a second distribution is an error");
    cr_expect(!completes("calib entropy ", "minmax"), "a second calibrator is an error");
}
