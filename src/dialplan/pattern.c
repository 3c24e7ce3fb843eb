/* Asterisk dialplan extension pattern matcher.
 *
 * Both literal extensions and "_" patterns compile to a list of per-position
 * character sets plus an optional trailing '.' / '!'. Since every position
 * consumes exactly one number character, matching is a single linear walk.
 * Dashes are never significant: they are dropped from literals, from patterns
 * outside brackets, from class contents and from the number being matched.
 * Characters compare case-sensitively, as in Asterisk; only the classes
 * N, X and Z are letters of either case.
 */
#include "dundid/pattern.h"

#include <string.h>

static void set_err(char *err, size_t errlen, const char *msg)
{
    if (err == NULL || errlen == 0)
        return;
    size_t n = strlen(msg);
    if (n >= errlen)
        n = errlen - 1;
    memcpy(err, msg, n);
    err[n] = '\0';
}

static void set_add(unsigned char *set, unsigned char c)
{
    set[c >> 3] |= (unsigned char)(1u << (c & 7));
}

static void set_del(unsigned char *set, unsigned char c)
{
    set[c >> 3] &= (unsigned char)~(1u << (c & 7));
}

static bool set_has(const unsigned char *set, unsigned char c)
{
    return (set[c >> 3] >> (c & 7)) & 1u;
}

static bool set_empty(const unsigned char *set)
{
    for (size_t i = 0; i < 32; i++)
        if (set[i])
            return false;
    return true;
}

static void set_add_range(unsigned char *set, unsigned char lo, unsigned char hi)
{
    for (unsigned c = lo; c <= hi; c++)
        set_add(set, (unsigned char)c);
}

/* Parses the class body starting just after '['. On success returns the
 * index just past the closing ']'; on error returns 0 and sets *why. */
static size_t parse_class(const char *s, size_t j, unsigned char *set, const char **why)
{
    for (;;) {
        unsigned char c = (unsigned char)s[j];
        if (c == '\0') {
            *why = "unterminated [ in pattern";
            return 0;
        }
        if (c == ']')
            break;
        if (c == '-') {
            /* A dash with nothing on one side is a stray separator: ignore. */
            j++;
            continue;
        }
        /* s[j+2] is only read when s[j+1] is '-', i.e. not the terminator. */
        if (s[j + 1] == '-' && s[j + 2] != ']' && s[j + 2] != '\0') {
            unsigned char hi = (unsigned char)s[j + 2];
            if (hi < c) {
                *why = "reversed range in [ ] in pattern";
                return 0;
            }
            set_add_range(set, c, hi);
            j += 3;
        } else {
            set_add(set, c);
            j++;
        }
    }
    /* Dashes are stripped from numbers, so a class member '-' could never match. */
    set_del(set, '-');
    if (set_empty(set)) {
        *why = "empty [ ] in pattern";
        return 0;
    }
    return j + 1;
}

int pattern_compile(struct pattern *p, const char *text, char *err, size_t errlen)
{
    const char *why = NULL;

    if (p == NULL) {
        set_err(err, errlen, "no pattern object");
        return -1;
    }
    memset(p, 0, sizeof(*p));
    if (text == NULL) {
        set_err(err, errlen, "empty pattern");
        return -1;
    }

    /* Bounded length scan: never look beyond PATTERN_MAX + 1 bytes. */
    size_t len = 0;
    while (len <= PATTERN_MAX && text[len] != '\0')
        len++;
    if (len > PATTERN_MAX) {
        set_err(err, errlen, "pattern too long");
        return -1;
    }

    size_t n = 0;
    if (text[0] != '_') {
        for (size_t i = 0; i < len; i++) {
            unsigned char c = (unsigned char)text[i];
            if (c == '-')
                continue;
            set_add(p->set[n++], c);
        }
    } else {
        size_t i = 1;
        while (i < len && why == NULL) {
            unsigned char c = (unsigned char)text[i];
            if (c == '.' || c == '!') {
                /* Open tail ends the pattern; the rest is ignored, as Asterisk does. */
                p->tail = c;
                break;
            }
            if (c == '-') {
                i++;
                continue;
            }
            unsigned char *set = p->set[n];
            switch (c) {
            case 'X': case 'x':
                set_add_range(set, '0', '9');
                i++;
                break;
            case 'Z': case 'z':
                set_add_range(set, '1', '9');
                i++;
                break;
            case 'N': case 'n':
                set_add_range(set, '2', '9');
                i++;
                break;
            case '[':
                i = parse_class(text, i + 1, set, &why);
                break;
            default:
                set_add(set, c);
                i++;
                break;
            }
            n++;
        }
    }

    if (why == NULL && n == 0 && p->tail == 0)
        why = "empty pattern";
    if (why != NULL) {
        memset(p, 0, sizeof(*p));
        set_err(err, errlen, why);
        return -1;
    }
    /* Each position consumed at least one input char, so n <= len <= PATTERN_MAX. */
    p->nelem = (unsigned char)n;
    memcpy(p->text, text, len);
    p->text[len] = '\0';
    return 0;
}

unsigned pattern_match(const struct pattern *p, const char *number)
{
    if (p == NULL || number == NULL || (p->nelem == 0 && p->tail == 0))
        return 0;

    size_t m = p->nelem;
    size_t k = 0;      /* significant (non-dash) number chars seen */
    size_t raw = 0;    /* all number chars seen, for the length limit */

    for (; number[raw] != '\0'; raw++) {
        if (raw >= PATTERN_MAX)
            return 0;
        unsigned char c = (unsigned char)number[raw];
        if (c == '-')
            continue;
        if (k < m) {
            if (!set_has(p->set[k], c))
                return 0;
        } else if (p->tail == 0) {
            return 0;   /* number runs past a closed pattern */
        }
        /* Past the fixed positions, '.' and '!' absorb anything. Keep walking
           only to enforce the raw length limit. */
        k++;
    }

    if (k < m)
        return PM_CANMATCH | PM_MATCHMORE;   /* every remaining set is non-empty */
    if (k > m)
        return PM_EXISTS | PM_CANMATCH | PM_MATCHMORE;   /* tail took >= 1 char */
    /* Exactly the fixed positions consumed. */
    switch (p->tail) {
    case '.':
        return PM_CANMATCH | PM_MATCHMORE;
    case '!':
        return PM_EXISTS | PM_CANMATCH | PM_MATCHMORE;
    default:
        return PM_EXISTS | PM_CANMATCH;
    }
}

static unsigned set_count(const unsigned char *set)
{
    unsigned n = 0;
    for (size_t i = 0; i < 32; i++)
        n += (unsigned)__builtin_popcount(set[i]);
    return n;
}

static unsigned set_min(const unsigned char *set)
{
    for (unsigned c = 0; c < 256; c++)
        if (set_has(set, (unsigned char)c))
            return c;
    return 0;
}

/* Sort key of position i: a set by its size, then its lowest character;
 * after the fixed positions '.', then '!', then the end (Asterisk's order). */
static unsigned pos_key(const struct pattern *p, size_t i)
{
    if (i < p->nelem)
        return set_count(p->set[i]) << 8 | set_min(p->set[i]);
    return p->tail == '.' ? 0x18000u : p->tail == '!' ? 0x28000u : 0x30000u;
}

static int literal_cmp(const char *a, const char *b)
{
    for (;; a++, b++) {
        while (*a == '-')
            a++;
        while (*b == '-')
            b++;
        if (*a != *b || !*a)
            return (unsigned char)*a - (unsigned char)*b;
    }
}

int pattern_order(const struct pattern *a, const struct pattern *b)
{
    bool pa = a->text[0] == '_', pb = b->text[0] == '_';
    if (pa != pb)
        return pa ? 1 : -1;
    if (!pa)
        return literal_cmp(a->text, b->text);
    for (size_t i = 0;; i++) {
        unsigned ka = pos_key(a, i), kb = pos_key(b, i);
        if (ka != kb)
            return ka < kb ? -1 : 1;
        if (i >= a->nelem)
            return 0; /* both at the same tail or end */
        /* Same size and lowest character: the set with the lowest character
         * the other lacks goes first. */
        for (unsigned c = 0; c < 256; c++) {
            bool ia = set_has(a->set[i], (unsigned char)c), ib = set_has(b->set[i], (unsigned char)c);
            if (ia != ib)
                return ia ? -1 : 1;
        }
    }
}
