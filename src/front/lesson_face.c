/* lesson_face.c — placeholder lesson player until issue 8 lands. */
#include <stdio.h>

#include "qscope/faces.h"

int qs_lesson_main(qs_session *s, int argc, char **argv)
{
    (void)s; (void)argc; (void)argv;
    fprintf(stderr, "qscope: lessons are not built yet\n");
    return 2;
}
