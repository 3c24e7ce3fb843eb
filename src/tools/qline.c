/* dundiq's query words and batch lines. */
#include "dundid/qline.h"

#include <string.h>

bool qline_split_number(const char *arg, char number[DUNDI_MAX_NUMBER + 1], char context[DUNDI_MAX_NUMBER + 1])
{
    const char *at = strchr(arg, '@');
    size_t nlen = at ? (size_t)(at - arg) : strlen(arg);
    const char *ctx = at ? at + 1 : "e164";
    size_t clen = strlen(ctx);
    if (!nlen || nlen > DUNDI_MAX_NUMBER || !clen || clen > DUNDI_MAX_NUMBER)
        return false;
    memcpy(number, arg, nlen);
    number[nlen] = '\0';
    memcpy(context, ctx, clen + 1);
    return true;
}

int qline_parse(char *line, const char **host, const char **word, char number[DUNDI_MAX_NUMBER + 1],
                char context[DUNDI_MAX_NUMBER + 1])
{
    char *hash = strchr(line, '#');
    char *w[3], *save = NULL;
    int nw = 0;

    if (hash)
        *hash = '\0';
    for (char *tok = strtok_r(line, " \t\r\n", &save); tok && nw < 3; tok = strtok_r(NULL, " \t\r\n", &save))
        w[nw++] = tok;
    *host = NULL;
    *word = nw ? w[nw - 1] : NULL;
    if (!nw)
        return QLINE_EMPTY;
    if (nw > 2)
        return QLINE_E_WORDS;
    if (nw == 2)
        *host = w[0];
    return qline_split_number(w[nw - 1], number, context) ? QLINE_OK : QLINE_E_NUMBER;
}
