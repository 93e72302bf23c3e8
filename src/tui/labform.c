/* labform.c — the Lab screen's settings form: which action (sweep, PTQ, QAT, train,
 * integer-only inference, LoRA, QLoRA), and the settings each uses, spelled as the `lab`
 * command line that r runs. The cursor moves only over the settings the action uses, so ←/→
 * never changes one that is not part of the command. No ncurses calls (KEY_* only). */
#include "tui_int.h"

#include <stdio.h>
#include <string.h>

/* Actions, in the form's order; bit i of a setting's `used` mask is action i. */
static const char *const lab_actions[] = {"sweep", "ptq", "qat", "train", "int", "lora", "qlora",
                                          NULL};
enum { A_SWEEP = 1, A_PTQ = 2, A_QAT = 4, A_TRAIN = 8, A_INT = 16, A_LORA = 32, A_QLORA = 64 };
static const char *const lab_data[] = {"digits", "fashion", NULL};
static const char *const lab_bits[] = {"2", "3", "4", "5", "6", "7", "8", NULL};
static const char *const lab_range[] = {"2..8", "3..8", "4..8", "2..6", "2..4", "5..8", NULL};
static const char *const lab_abits[] = {"4", "5", "6", "7", "8", NULL};
static const char *const lab_gran[] = {"tensor", "channel", NULL};
static const char *const lab_epochs[] = {"1", "2", "3", "5", "10", "20", "30", NULL};
static const char *const lab_rank[] = {"1", "2", "4", "8", "16", NULL};

static const struct {
    const char *name;           /* the label on the form */
    const char *key;            /* the command's key (the sweep's range is bits=) */
    const char *const *values;  /* its values; NULL: the choices of the command's own spec of
                                   `key` (calib=: every calibrator row the lab takes, from the
                                   descriptor table, as `lab ptq calib=` completes) */
    int dflt;                   /* default choice */
    unsigned used;              /* actions using it (epochs are QAT epochs: train, LoRA and
                                   QLoRA keep their own defaults; `:lab train epochs=N`) */
} lab_fields[QS_TUI_LAB_FIELDS] = {
    {"action", "", lab_actions, 0, 0x7f},
    {"data", "data", lab_data, 0, A_TRAIN},
    {"bits", "bits", lab_bits, 2, A_PTQ | A_QAT | A_INT},
    {"range", "bits", lab_range, 0, A_SWEEP},
    {"abits", "abits", lab_abits, 4, A_SWEEP | A_PTQ | A_QAT | A_INT},
    {"gran", "gran", lab_gran, 0, A_SWEEP | A_PTQ | A_QAT | A_INT},
    {"calib", "calib", NULL, 0, A_SWEEP | A_PTQ | A_QAT | A_INT},
    {"epochs", "epochs", lab_epochs, 3, A_SWEEP | A_QAT},
    {"rank", "rank", lab_rank, 2, A_LORA | A_QLORA},
};

/* The spec of field f's key in the row of the first action that uses it. */
static const qs_arg *field_spec(int f)
{
    const qs_cmd *lab = qs_cmd_find("lab");
    for (int a = 0; lab_actions[a]; a++)
        if ((lab_fields[f].used >> a) & 1) {
            const qs_cmd *row = qs_cmd_sub(lab, lab_actions[a]);
            const char *k = lab_fields[f].key;
            return row ? qs_arg_spec(row->args, k, strlen(k)) : NULL;
        }
    return NULL;
}

/* The i-th value of field f, NULL past the end. */
static const char *field_value(int f, int i)
{
    if (i < 0) return NULL;
    if (!lab_fields[f].values) {
        const qs_arg *a = field_spec(f);
        return a ? qs_arg_choice_at(a, i, NULL) : NULL;
    }
    for (int k = 0; lab_fields[f].values[k]; k++)
        if (k == i) return lab_fields[f].values[k];
    return NULL;
}

static int lab_count(int f)
{
    int n = 0;
    while (field_value(f, n)) n++;
    return n;
}

/* Field f's current value ("?" if the table lost a row since: never expected). */
static const char *field_current(const qs_tui_model *m, int f)
{
    const char *v = field_value(f, m->lab_set[f]);
    return v ? v : "?";
}

static int field_used(const qs_tui_model *m, int f)
{
    return (int)((lab_fields[f].used >> m->lab_set[0]) & 1);
}

const char *qs_tui_lab_field(const qs_tui_model *m, int field, const char **value, int *used)
{
    if (field < 0 || field >= QS_TUI_LAB_FIELDS) return NULL;
    *value = field_current(m, field);
    *used = field_used(m, field);
    return lab_fields[field].name;
}

void qs_tui_lab_line(qs_tui_model *m)
{
    size_t k = (size_t)snprintf(m->lab_line, sizeof m->lab_line, "lab %s",
                                lab_actions[m->lab_set[0]]);
    for (int f = 1; f < QS_TUI_LAB_FIELDS && k < sizeof m->lab_line; f++)
        if (field_used(m, f))
            k += (size_t)snprintf(m->lab_line + k, sizeof m->lab_line - k, " %s=%s",
                                  lab_fields[f].key, field_current(m, f));
}

void qs_tui_lab_init(qs_tui_model *m)
{
    for (int f = 0; f < QS_TUI_LAB_FIELDS; f++) m->lab_set[f] = lab_fields[f].dflt;
    qs_tui_lab_line(m);
}

/* The next setting the action uses, from f in direction d (the action itself always). */
static int next_used(const qs_tui_model *m, int f, int d)
{
    for (int i = 0; i < QS_TUI_LAB_FIELDS; i++) {
        f = (f + d + QS_TUI_LAB_FIELDS) % QS_TUI_LAB_FIELDS;
        if (field_used(m, f)) return f;
    }
    return 0;
}

int qs_tui_lab_key(qs_tui_model *m, int key)
{
    const qs_tui_binding *b = qs_tui_binding_find(QS_SCR_LAB, key);
    if (!b || b->screen != QS_SCR_LAB) return 0;
    int f = m->lab_field;
    switch (b->act) {
    case QA_ROW_UP: m->lab_field = next_used(m, f, -1); break;
    case QA_ROW_DOWN: m->lab_field = next_used(m, f, 1); break;
    case QA_CUR_LEFT:
    case QA_CUR_RIGHT: {
        if (!field_used(m, f)) {
            /* never a silent change to a setting the command does not use */
            qs_tui_status(m, 1, "%s is not part of 'lab %s' (↑/↓ choose a setting it uses)",
                          lab_fields[f].name, lab_actions[m->lab_set[0]]);
            break;
        }
        int n = lab_count(f);
        if (n < 1) break;
        m->lab_set[f] = (m->lab_set[f] + (b->act == QA_CUR_RIGHT ? 1 : n - 1)) % n;
        qs_tui_lab_line(m);
        break;
    }
    case QA_LAB_RUN:
        if (m->job.running) {
            qs_tui_status(m, 1, "busy: '%s' is still running", m->job.line);
            break;
        }
        qs_tui_job_start(m, m->lab_line);
        break;
    case QA_LAB_GPT:
    case QA_LAB_GPT_GEN:
    case QA_LAB_GPT_ACTS:
        if (m->job.running) {
            qs_tui_status(m, 1, "busy: '%s' is still running", m->job.line);
            break;
        }
        qs_tui_job_start(m, b->act == QA_LAB_GPT ? "lab gpt sweep"
                            : b->act == QA_LAB_GPT_GEN ? "lab gpt generate" : "lab gpt acts");
        break;
    case QA_SCROLL_DOWN:
    case QA_SCROLL_UP: {
        /* half a screen per key; the last line may come up to the top, no further */
        int n = qs_tui_gpt_lines(m, m->cols), page = m->rows > 8 ? m->rows / 2 : 4;
        if (!n) return 0;
        m->lab_scroll += b->act == QA_SCROLL_DOWN ? page : -page;
        if (m->lab_scroll > n - 1) m->lab_scroll = n - 1;
        if (m->lab_scroll < 0) m->lab_scroll = 0;
        break;
    }
    default: return 0;
    }
    return QS_TUI_HANDLED | QS_TUI_REDRAW;
}
