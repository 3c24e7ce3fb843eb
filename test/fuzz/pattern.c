/* libFuzzer target: dialplan patterns. The input is "PATTERN<NUL or \n>NUMBER";
 * compile the pattern and match the number against it; the number is also
 * compiled as a pattern to check pattern_order() both ways. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dundid/pattern.h"

static struct pattern pat, other;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t cut = 0;
    while (cut < size && data[cut] != '\0' && data[cut] != '\n')
        cut++;
    /* Exact-size heap copies so ASan catches reads past a terminator. */
    char *text = malloc(cut + 1);
    size_t nlen = cut < size ? size - cut - 1 : 0;
    char *number = malloc(nlen + 1);
    if (!text || !number) {
        free(text);
        free(number);
        return 0;
    }
    memcpy(text, data, cut);
    text[cut] = '\0';
    if (nlen)
        memcpy(number, data + cut + 1, nlen);
    number[nlen] = '\0';

    char err[64];
    err[0] = '\0';
    if (pattern_compile(&pat, text, err, sizeof(err)) == 0) {
        unsigned m = pattern_match(&pat, number);
        if (m & ~(unsigned)(PM_EXISTS | PM_CANMATCH | PM_MATCHMORE))
            abort();
        if ((m & PM_EXISTS) && !(m & PM_CANMATCH))
            abort(); /* a complete match can always match */
        (void)pattern_match(&pat, "");
        (void)pattern_match(&pat, text);
        /* The number as a second pattern: Asterisk's order must be antisymmetric. */
        if (pattern_compile(&other, number, NULL, 0) == 0) {
            int ab = pattern_order(&pat, &other), ba = pattern_order(&other, &pat);
            if ((ab > 0) != (ba < 0) || (ab < 0) != (ba > 0) || pattern_order(&pat, &pat) != 0)
                abort();
        }
    } else if (err[0] == '\0') {
        abort(); /* failures must say why */
    }
    char tiny[4];
    (void)pattern_compile(&pat, text, tiny, sizeof(tiny)); /* err truncation */
    (void)pattern_compile(&pat, text, NULL, 0);
    free(text);
    free(number);
    return 0;
}
