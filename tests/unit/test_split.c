/* test_split.c — the command-line splitter (qs_split, qs_split_commands) and the "did you
 * mean" ranking (qs_edit_distance, qs_cmd_suggest). Expected words are written out by hand
 * from the shell rules cmd.h documents. */
#include <criterion/criterion.h>

#include <string.h>

#include "qscope/cmd.h"

/* Splits line and checks the words equal want[0..n). */
static void check_words(const char *line, int n, const char *const *want)
{
    char **v = NULL;
    qs_err err = {{0}};
    int got = qs_split(line, &v, &err);
    cr_assert_eq(got, n, "split(%s): %d words, want %d (%s)", line, got, n, err.msg);
    for (int i = 0; i < n; i++)
        cr_assert_str_eq(v[i], want[i], "split(%s) word %d", line, i);
    cr_assert_null(v[n], "argv is NULL-terminated");
    qs_split_free(v);
}

#define WORDS(line, ...)                                                              \
    do {                                                                              \
        static const char *const w_[] = {__VA_ARGS__};                                \
        check_words(line, (int)(sizeof w_ / sizeof w_[0]), w_);                       \
    } while (0)

Test(split, plain_words_and_blanks)
{
    WORDS("synth normal n=1000", "synth", "normal", "n=1000");
    WORDS("  \tload   a.npy\t\t b  ", "load", "a.npy", "b");
    check_words("", 0, NULL);
    check_words("   \t ", 0, NULL);
}

Test(split, null_line_is_empty)
{
    char **v = NULL;
    qs_err err = {{0}};
    cr_assert_eq(qs_split(NULL, &v, &err), 0);
    cr_assert_null(v[0]);
    qs_split_free(v);
}

Test(split, single_quotes_are_literal)
{
    WORDS("load 'my file.npy'", "load", "my file.npy");
    WORDS("x 'a\\b' 'c\"d'", "x", "a\\b", "c\"d");
    WORDS("x '#not a comment'", "x", "#not a comment");
    WORDS("x ''", "x", "");
}

Test(split, double_quotes_and_escapes)
{
    WORDS("x \"a b\"", "x", "a b");
    WORDS("x \"say \\\"hi\\\"\"", "x", "say \"hi\"");
    WORDS("x \"back\\\\slash\"", "x", "back\\slash");
    /* other backslashes inside double quotes stay, as in sh */
    WORDS("x \"a\\nb\"", "x", "a\\nb");
    WORDS("x \"\"", "x", "");
}

Test(split, backslash_outside_quotes)
{
    WORDS("load my\\ file.npy", "load", "my file.npy");
    WORDS("x \\'q", "x", "'q");
    WORDS("x a\\#b \\#c", "x", "a#b", "#c");
    /* a backslash at the very end is kept literally */
    WORDS("x a\\", "x", "a\\");
}

Test(split, quoted_parts_join_into_one_word)
{
    WORDS("x 'a'\"b\"c", "x", "abc");
    WORDS("x pre'mid dle'post", "x", "premid dlepost");
    WORDS("x 'it'\\''s'", "x", "it's");
}

Test(split, comments)
{
    WORDS("stats # the statistics", "stats");
    check_words("# only a comment", 0, NULL);
    WORDS("values 1#2", "values", "1#2");
    WORDS("values 1 #2 3", "values", "1");
}

Test(split, unbalanced_quotes_fail_and_say_where)
{
    char **v = (char **)0x1;
    qs_err err = {{0}};
    cr_assert_eq(qs_split("load 'abc", &v, &err), -1);
    cr_assert(strstr(err.msg, "single") != NULL, "%s", err.msg);
    cr_assert(strstr(err.msg, "column 6") != NULL, "%s", err.msg);
    qs_err_clear(&err);
    cr_assert_eq(qs_split("x \"ab\\\"", &v, &err), -1, "an escaped quote does not close");
    cr_assert(strstr(err.msg, "double") != NULL, "%s", err.msg);
    cr_assert(strstr(err.msg, "column 3") != NULL, "%s", err.msg);
}

Test(split, utf8_words_pass_through)
{
    WORDS("use 'couche·1' é", "use", "couche·1", "é");
}

/* ---- qs_split_commands ------------------------------------------------------------------- */

static void check_cmds(const char *text, int n, const char *const *want)
{
    char **v = NULL;
    qs_err err = {{0}};
    int got = qs_split_commands(text, &v, &err);
    cr_assert_eq(got, n, "split_commands(%s): %d, want %d (%s)", text, got, n, err.msg);
    for (int i = 0; i < n; i++)
        cr_assert_str_eq(v[i], want[i], "split_commands(%s) line %d", text, i);
    cr_assert_null(v[n]);
    qs_split_free(v);
}

#define CMDS(text, ...)                                                               \
    do {                                                                              \
        static const char *const c_[] = {__VA_ARGS__};                                \
        check_cmds(text, (int)(sizeof c_ / sizeof c_[0]), c_);                        \
    } while (0)

Test(split_commands, semicolons_and_newlines)
{
    CMDS("synth normal; stats", "synth normal", "stats");
    CMDS("a;b;;  c  ;", "a", "b", "c");
    CMDS("a\nb\r\n c", "a", "b", "c");
    check_cmds(" ; ;\n ", 0, NULL);
}

Test(split_commands, quotes_keep_semicolons_and_stay_quoted)
{
    CMDS("load 'a;b.npy'; stats", "load 'a;b.npy'", "stats");
    CMDS("x \"q\\\";\" ; y", "x \"q\\\";\"", "y");
    CMDS("values 1\\;2; stats", "values 1\\;2", "stats");
}

Test(split_commands, comments_run_to_the_end_of_the_line)
{
    CMDS("# a; b\nstats", "stats");
    CMDS("   # indented; comment\nstats", "stats");
    CMDS("stats # note; hist\nuse x", "stats", "use x");
    CMDS("values 1#2; stats", "values 1#2", "stats");
}

Test(split_commands, unbalanced_quote_fails)
{
    char **v = NULL;
    qs_err err = {{0}};
    cr_assert_eq(qs_split_commands("a; load \"x", &v, &err), -1);
    cr_assert(strstr(err.msg, "double") != NULL, "%s", err.msg);
}

Test(split_commands, each_line_splits_back_into_the_same_words)
{
    char **lines = NULL, **w = NULL;
    qs_err err = {{0}};
    cr_assert_eq(qs_split_commands("load 'my file.npy' \"a b\"; x", &lines, &err), 2);
    cr_assert_eq(qs_split(lines[0], &w, &err), 3);
    cr_assert_str_eq(w[1], "my file.npy");
    cr_assert_str_eq(w[2], "a b");
    qs_split_free(w);
    qs_split_free(lines);
}

/* ---- suggestions ------------------------------------------------------------------------- */

Test(suggest, edit_distance_by_hand)
{
    cr_assert_eq(qs_edit_distance("", ""), 0);
    cr_assert_eq(qs_edit_distance("abc", ""), 3);
    cr_assert_eq(qs_edit_distance("", "ab"), 2);
    cr_assert_eq(qs_edit_distance("kitten", "sitting"), 3);
    cr_assert_eq(qs_edit_distance("stats", "stast"), 1, "one transposition");
    cr_assert_eq(qs_edit_distance("hlep", "help"), 1, "one transposition");
    cr_assert_eq(qs_edit_distance("HeLP", "help"), 0, "case-insensitive");
    cr_assert_eq(qs_edit_distance("HLep", "help"), 1, "transposition ignores case too");
    cr_assert_eq(qs_edit_distance("load", "lod"), 1);
    cr_assert_eq(qs_edit_distance("ca", "abc"), 3, "optimal string alignment, not full DL");
}

static int suggest(const char *w, const char **out)
{
    return qs_cmd_suggest(w, out, 3);
}

Test(suggest, typos_find_the_command_first)
{
    const char *s[3];
    cr_assert_geq(suggest("hlep", s), 1);
    cr_assert_str_eq(s[0], "help");
    cr_assert_geq(suggest("stast", s), 1);
    cr_assert_str_eq(s[0], "stats");
    cr_assert_geq(suggest("lod", s), 1);
    cr_assert_str_eq(s[0], "load");
    cr_assert_geq(suggest("sytnh", s), 1);
    cr_assert_str_eq(s[0], "synth");
    cr_assert_geq(suggest("STATS", s), 1);
    cr_assert_str_eq(s[0], "stats", "case does not hide the command");
}

Test(suggest, prefixes_rank_before_typos)
{
    const char *s[3];
    int n = suggest("tensor", s);
    cr_assert_geq(n, 1);
    cr_assert_str_eq(s[0], "tensors");
    n = suggest("hel", s);
    cr_assert_geq(n, 1);
    cr_assert_str_eq(s[0], "help");
}

Test(suggest, closer_beats_farther)
{
    /* sve -> save is one insertion; sve -> set two substitutions */
    const char *s[3];
    int n = suggest("sve", s);
    cr_assert_geq(n, 1);
    cr_assert_str_eq(s[0], "save", "sve -> save (1 edit) before set (2 edits)");
    for (int i = 1; i < n; i++)
        cr_assert(qs_edit_distance("sve", s[i]) >= qs_edit_distance("sve", s[0]));
}

Test(suggest, only_the_best_tier)
{
    const char *s[3];
    /* hsit -> hist is one transposition; set and quit are two edits away */
    cr_assert_eq(suggest("hsit", s), 1);
    cr_assert_str_eq(s[0], "hist");
    /* stat is a prefix of stats; set is one edit away but ranks below a prefix */
    cr_assert_eq(suggest("stat", s), 1);
    cr_assert_str_eq(s[0], "stats");
    /* prefix matches only, none of the typos */
    int n = suggest("sa", s);
    cr_assert_geq(n, 1);
    for (int i = 0; i < n; i++) cr_assert(strncmp(s[i], "sa", 2) == 0, "%s", s[i]);
}

Test(suggest, nonsense_gets_nothing)
{
    const char *s[3];
    cr_assert_eq(suggest("zzzzzzzz", s), 0);
    cr_assert_eq(suggest("", s), 0);
    cr_assert_eq(qs_cmd_suggest("hlep", s, 0), 0);
}

Test(suggest, unknown_command_message_names_word_and_suggestion)
{
    qs_session s;
    qs_err err = {{0}};
    json_t *out = NULL;
    qs_session_init(&s);
    cr_assert_eq(qs_cmd_run_line(&s, "stast", &out, NULL, &err), QS_ERR);
    cr_assert_null(out);
    cr_assert(strstr(err.msg, "'stast'") != NULL, "%s", err.msg);
    cr_assert(strstr(err.msg, "did you mean 'stats'") != NULL, "%s", err.msg);
    qs_err_clear(&err);
    cr_assert_eq(qs_cmd_run_line(&s, "zzzzzzzz", &out, NULL, &err), QS_ERR);
    cr_assert(strstr(err.msg, "unknown command 'zzzzzzzz'") != NULL, "%s", err.msg);
    cr_assert(strstr(err.msg, "help") != NULL, "%s", err.msg);
    qs_session_fini(&s);
}
