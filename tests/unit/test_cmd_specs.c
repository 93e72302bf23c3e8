/* test_cmd_specs.c — the command rows' argument specs: every spec of every row (and of every
 * nested subcommand row) completes after the command, table-driven values complete after
 * "key=", numbers outside a spec's range are refused and its bounds accepted; rows without
 * specs complete every key= their usage line shows. Completion drifted from the grammar before
 * (hist bins= / range=, synth n= / seed=); this walks the whole table so it cannot again. */
#include <criterion/criterion.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "front/front.h"
#include "qscope/calib.h"
#include "qscope/cmd.h"
#include "qscope/quant.h"

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
        case QS_ARG_INT: case QS_ARG_REAL: case QS_ARG_TEXT:
            snprintf(line, sizeof line, "%s ", prefix);
            snprintf(want, sizeof want, "%s=", a->name);
            cr_expect(completes(line, want), "'%s' does not complete %s", line, want);
            for (int i = 0; (v = qs_arg_choice_at(a, i, NULL)); i++) {
                snprintf(line, sizeof line, "%s %s=", prefix, a->name);
                snprintf(want, sizeof want, "%s=%s", a->name, v);
                cr_expect(completes(line, want), "'%s' does not complete %s", line, want);
            }
            break;
        case QS_ARG_WORD:
            cr_expect_not_null(qs_arg_choice_at(a, 0, NULL), "%s: WORD %s has no choices",
                               prefix, a->name);
            for (int i = 0; (v = qs_arg_choice_at(a, i, NULL)); i++) {
                snprintf(line, sizeof line, "%s ", prefix);
                cr_expect(completes(line, v), "'%s' does not complete %s", line, v);
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

Test(specs, every_option_completes)
{
    int nspec = 0, nkeys = 0;
    for (int i = 0; i < qs_cmd_count(); i++) {
        const qs_cmd *c = qs_cmd_at(i);
        if (c->args) check_specs(c, c->name, &nspec);
        else if (!c->subs) check_usage(c, c->name, &nkeys);
        for (const qs_cmd *sub = c->subs; sub && sub->name; sub++) {
            char prefix[128];
            snprintf(prefix, sizeof prefix, "%s ", c->name);
            cr_expect(completes(prefix, sub->name), "'%s' does not complete the subcommand %s",
                      prefix, sub->name);
            snprintf(prefix, sizeof prefix, "%s %s", c->name, sub->name);
            if (sub->args) check_specs(sub, prefix, &nspec);
            else check_usage(sub, prefix, &nkeys);
        }
    }
    cr_assert_gt(nspec, 40, "only %d specs walked", nspec);
    cr_assert_gt(nkeys, 10, "only %d usage keys walked", nkeys);
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
