/* html.h — a lesson handout as one self-contained HTML page (`qscope play --html LESSON`):
 * narration, each command and its result, histograms and curves as inline SVG, expectations
 * with the value found, quizzes with the answers folded. No network: inline CSS and SVG only.
 * A face, not the library: it renders the results the player hands out and computes nothing.
 * Every string from the lesson or from a result is HTML-escaped (lessons are untrusted). */
#ifndef QSCOPE_HTML_H
#define QSCOPE_HTML_H

#include <stdio.h>

#include <jansson.h>

#include "qscope/cmd.h"
#include "qscope/lesson.h"

/* A page being written. */
typedef struct qs_html_doc {
    FILE *f;            /* where the page goes */
    int in_step;        /* 1 while a <section> is open */
    int in_checks;      /* 1 while a <ul class="checks"> is open */
    int nsvg;           /* SVG figures written */
    int precision;      /* significant digits of the result text (6) */
} qs_html_doc;

/* Writes text with & < > " ' escaped; bytes that are not valid UTF-8 and control characters
 * other than newline and tab become U+FFFD. */
void qs_html_escape(FILE *f, const char *s);
/* Writes narration: escaped, with *emphasis* as <strong>. */
void qs_html_narration(FILE *f, const char *s);
/* Starts the page: doctype, inline style, the lesson's title, level and summary. */
void qs_html_begin(qs_html_doc *d, FILE *f, const qs_lesson *l);
/* Writes one item the player handed out (headings, narration, commands with their results,
 * expectations with their messages, quizzes with folded answers; directives are skipped). */
void qs_html_event(qs_html_doc *d, const qs_lesson_event *ev);
/* Writes a command's result: its text rendering in <pre> and, for histograms
 * ({counts, edges}), curves ({x, y}), training curves (an array with a "_sparkline"
 * sibling) and bit-width tables (rows with bits and sqnr_db), SVG figures. */
void qs_html_result(qs_html_doc *d, const qs_cmd *cmd, json_t *res);
/* Ends the page (closes what is open; a footer with the counts of the play). */
void qs_html_end(qs_html_doc *d, const qs_lesson *l, int commands, int passed, int quizzes);

#endif
