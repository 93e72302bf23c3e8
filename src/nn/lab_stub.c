/* lab_stub.c — placeholder for the PTQ/QAT lab state until src/nn/lab.c lands (issue 7). */
#include <stdlib.h>

struct qs_lab;
void qs_lab_free(struct qs_lab *lab);
void qs_lab_free(struct qs_lab *lab)
{
    free(lab);
}
