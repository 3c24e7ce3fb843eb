/* dundiq's queries as text: "NUMBER[@CONTEXT]" on the command line, and the
 * lines of a batch file (-f), "[HOST[:PORT]] NUMBER[@CONTEXT]" with "#"
 * comments. Pure: no I/O, every length checked. */
#ifndef DUNDID_QLINE_H
#define DUNDID_QLINE_H

#include <stdbool.h>

#include "dundid/wire.h"

enum qline_rc {
    QLINE_OK = 1,
    QLINE_EMPTY = 0,     /* blank or a comment */
    QLINE_E_WORDS = -1,  /* more than two words */
    QLINE_E_NUMBER = -2, /* not NUMBER[@CONTEXT], each 1..DUNDI_MAX_NUMBER */
};

/* Split "NUMBER[@CONTEXT]" (context e164 when absent). */
bool qline_split_number(const char *arg, char number[DUNDI_MAX_NUMBER + 1], char context[DUNDI_MAX_NUMBER + 1]);
/* Parse one line in place (it is cut into words). *host is NULL when the
 * line names none, else points into line; *word is the query's word
 * (for messages). */
int qline_parse(char *line, const char **host, const char **word, char number[DUNDI_MAX_NUMBER + 1],
                char context[DUNDI_MAX_NUMBER + 1]);

#endif
