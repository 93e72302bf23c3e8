/* lab.c — the lab's state (nn.h's qs_lab) kept on the session in an extension slot. */
#include <stdlib.h>

#include "qscope/nn.h"
#include "qscope/session.h"

static const char lab_tag;     /* its address is the slot's tag */

static void lab_free(void *p) { qs_lab_free(p); }

qs_lab *qs_lab_get(qs_session *s)
{
    qs_lab *lab = qs_session_ext_get(s, &lab_tag);
    if (lab) return lab;
    lab = calloc(1, sizeof *lab);
    if (lab && qs_session_ext_set(s, &lab_tag, lab, lab_free) != QS_OK) {
        free(lab);
        lab = NULL;
    }
    return lab;
}
