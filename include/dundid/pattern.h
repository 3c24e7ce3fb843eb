/* Asterisk dialplan extension patterns ("1001", "_1XXX", "_NXX[2-5].", ...). */
#ifndef DUNDID_PATTERN_H
#define DUNDID_PATTERN_H
#include <stdbool.h>
#include <stddef.h>

#define PATTERN_MAX 80            /* max pattern / number length in characters */

/* Result bits of matching one number against one pattern. */
enum pattern_match {
    PM_EXISTS    = 1,   /* the number matches the pattern completely */
    PM_CANMATCH  = 2,   /* the number matches or is a prefix of something that matches */
    PM_MATCHMORE = 4,   /* a longer number starting with this one would match */
};

struct pattern {
    char text[PATTERN_MAX + 1];   /* as written in the config, e.g. "_1XXX" or "1001" */
    /* Compiled form: one 256-bit character set per number position, followed
       by an optional open tail. Literals compile to the same form, so a single
       matcher serves both. nelem == 0 && tail == 0 marks an invalid pattern. */
    unsigned char nelem;                  /* positions in set[] */
    unsigned char tail;                   /* 0, '.' (one or more) or '!' (zero or more) */
    unsigned char set[PATTERN_MAX][32];   /* bit c set: character c allowed */
};

/* Compile PATTERN. Returns 0, or -1 and writes a short human reason into err (errlen bytes),
   e.g. "unterminated [ in pattern", "empty pattern", "pattern too long". */
int pattern_compile(struct pattern *p, const char *text, char *err, size_t errlen);

/* Match NUMBER (digits and other dialable chars, NUL-terminated) against P.
   Returns an OR of enum pattern_match bits (0 = cannot match). */
unsigned pattern_match(const struct pattern *p, const char *number);

/* Asterisk's order of a context's extensions (<0: a first, 0: same place,
   >0: b first): every literal before every pattern; literals by their
   characters; patterns position by position, the smaller character set
   first, then the lower lowest character, then '.', then '!', then the end. */
int pattern_order(const struct pattern *a, const struct pattern *b);
#endif
