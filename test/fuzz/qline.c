/* libFuzzer target: dundiq's batch lines and query words (qline.c). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dundid/qline.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char line[1024], number[DUNDI_MAX_NUMBER + 1], context[DUNDI_MAX_NUMBER + 1];
    const char *host, *word;
    size_t n = size < sizeof(line) - 1 ? size : sizeof(line) - 1;

    memcpy(line, data, n);
    line[n] = '\0';
    if (qline_split_number(line, number, context) && (strlen(number) > DUNDI_MAX_NUMBER || !number[0]))
        abort();
    int rc = qline_parse(line, &host, &word, number, context);
    if (rc == QLINE_OK && (!number[0] || !context[0] || strlen(number) > DUNDI_MAX_NUMBER ||
                           strlen(context) > DUNDI_MAX_NUMBER || (host && !host[0])))
        abort();
    if (rc != QLINE_EMPTY && !word)
        abort();
    return 0;
}
