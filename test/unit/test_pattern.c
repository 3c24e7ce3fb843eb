/* Unit tests for the dialplan extension pattern matcher. */
#include "dundid/pattern.h"

#include <stdio.h>
#include <string.h>

#define E PM_EXISTS
#define C PM_CANMATCH
#define M PM_MATCHMORE

struct match_case {
    const char *pattern;
    const char *number;
    unsigned want;
};

static const struct match_case match_cases[] = {
    /* literal extensions */
    { "1001", "1001", E | C },
    { "1001", "100", C | M },
    { "1001", "10010", 0 },
    { "1001", "1002", 0 },
    { "1001", "", C | M },
    { "1001", "1", C | M },
    /* literals are case-sensitive (as Asterisk) and ignore dashes */
    { "abc", "abc", E | C },
    { "abc", "ABC", 0 },
    { "ABC", "ab", 0 },
    { "ABC", "AB", C | M },
    { "8xyz", "8XYZ", 0 },
    { "alice", "ALICE", 0 },
    { "555-1212", "5551212", E | C },
    { "555-1212", "555-1212", E | C },
    { "5551212", "555-12", C | M },
    { "555-1212", "5551213", 0 },
    /* a literal is not a pattern, so X means the letter X */
    { "1XXX", "1234", 0 },
    { "1XXX", "1XXX", E | C },
    { "1XXX", "1xxx", 0 },
    /* _1XXX */
    { "_1XXX", "1234", E | C },
    { "_1XXX", "1000", E | C },
    { "_1XXX", "123", C | M },
    { "_1XXX", "12345", 0 },
    { "_1XXX", "2234", 0 },
    { "_1XXX", "12a4", 0 },
    { "_1xxx", "1999", E | C },
    /* _NXXNXXXXXX: North American numbers */
    { "_NXXNXXXXXX", "2125551212", E | C },
    { "_NXXNXXXXXX", "9995551212", E | C },
    { "_NXXNXXXXXX", "1235551212", 0 },
    { "_NXXNXXXXXX", "2121551212", 0 },
    { "_NXXNXXXXXX", "2120551212", 0 },
    { "_NXXNXXXXXX", "212555", C | M },
    { "_nxxnxxxxxx", "2125551212", E | C },
    /* Z */
    { "_ZX", "10", E | C },
    { "_ZX", "01", 0 },
    { "_zX", "90", E | C },
    /* the brief's _1007X example */
    { "_1007X", "1007", C | M },
    { "_1007X", "10071", E | C },
    { "_1007X", "100", C | M },
    { "_1007X", "1009", 0 },
    { "_1007X", "", C | M },
    /* one-or-more tail */
    { "_1337X.", "13375", C | M },
    { "_1337X.", "133751", E | C | M },
    { "_1337X.", "1337512345", E | C | M },
    { "_1337X.", "1337", C | M },
    { "_1337X.", "1338", 0 },
    { "_.", "", C | M },
    { "_.", "x", E | C | M },
    /* zero-or-more tail */
    { "_1!", "1", E | C | M },
    { "_1!", "12", E | C | M },
    { "_1!", "", C | M },
    { "_1!", "2", 0 },
    { "_!", "", E | C | M },
    { "_!", "#*", E | C | M },
    /* text after the tail is ignored */
    { "_1.XX", "12", E | C | M },
    { "_1![", "1", E | C | M },
    /* character classes */
    { "_[2-5]XX", "200", E | C },
    { "_[2-5]XX", "599", E | C },
    { "_[2-5]XX", "399", E | C },
    { "_[2-5]XX", "199", 0 },
    { "_[2-5]XX", "699", 0 },
    { "_[2-5]XX", "4", C | M },
    { "_[13579]", "1", E | C },
    { "_[13579]", "9", E | C },
    { "_[13579]", "2", 0 },
    { "_[13579]", "13", 0 },
    { "_[1-37]", "2", E | C },
    { "_[1-37]", "7", E | C },
    { "_[1-37]", "5", 0 },
    { "_[a-c]1", "b1", E | C },
    { "_[a-c]1", "B1", 0 },
    /* N, X and Z are classes in either case */
    { "_nxz", "201", E | C },
    { "_NXZ", "200", 0 },
    { "_[*#]X", "#5", E | C },
    { "_[-12]", "1", E | C },
    { "_[12-]", "2", E | C },
    { "_[X]", "X", E | C },
    { "_[X]", "5", 0 },
    /* other characters match themselves, case-sensitively */
    { "_*XX#", "*12#", E | C },
    { "_abcX", "abc1", E | C },
    { "_abcX", "ABC1", 0 },
    { "_8ABC", "8ABC", E | C },
    { "_8ABC", "8abc", 0 },
    { "_8ABC", "8a", 0 },
    { "_ABCX", "ABC", C | M },
    /* dashes in patterns (outside brackets) and in numbers are ignored */
    { "_NXX-XXXX", "5551212", E | C },
    { "_NXX-XXXX", "555-1212", E | C },
    { "_1XXX", "1-2-3-4", E | C },
    { "_1XXX", "-", C | M },
    /* number length limit */
    { "_X.", "1234567890123456789012345678901234567890"
             "1234567890123456789012345678901234567890", E | C | M },
    { "_X.", "1234567890123456789012345678901234567890"
             "12345678901234567890123456789012345678901", 0 },
    { "_!", "1234567890123456789012345678901234567890"
            "12345678901234567890123456789012345678901", 0 },
};

struct compile_case {
    const char *pattern;
    const char *reason;   /* expected error substring; NULL means must compile */
};

static const struct compile_case compile_cases[] = {
    { "_[12", "unterminated [" },
    { "_[", "unterminated [" },
    { "_1[23", "unterminated [" },
    { "_[]", "empty" },
    { "_[-]", "empty" },
    { "_[5-2]", "range" },
    { "_", "empty pattern" },
    { "", "empty pattern" },
    { "---", "empty pattern" },
    { "_-", "empty pattern" },
    { "_1234567890123456789012345678901234567890"
      "123456789012345678901234567890123456789X", "too long" },
    { "1234567890123456789012345678901234567890"
      "12345678901234567890123456789012345678901", "too long" },
    /* boundaries that must still compile */
    { "_1234567890123456789012345678901234567890"
      "12345678901234567890123456789012345678X", NULL },
    { "1234567890123456789012345678901234567890"
      "1234567890123456789012345678901234567890", NULL },
    { "_.", NULL },
    { "_!", NULL },
    { "_]", NULL },
    { "_1.[", NULL },
};

static void fmt_bits(unsigned v, char *buf, size_t len)
{
    snprintf(buf, len, "%s%s%s%s",
             v == 0 ? "0" : "",
             (v & PM_EXISTS) ? "E" : "",
             (v & PM_CANMATCH) ? "C" : "",
             (v & PM_MATCHMORE) ? "M" : "");
}

int main(void)
{
    int passed = 0, failed = 0;
    char err[128];
    struct pattern p;

    for (size_t i = 0; i < sizeof(match_cases) / sizeof(match_cases[0]); i++) {
        const struct match_case *tc = &match_cases[i];
        if (pattern_compile(&p, tc->pattern, err, sizeof(err)) != 0) {
            printf("FAIL: pattern=%s number=%s got=compile error (%s) want=compiled\n",
                   tc->pattern, tc->number, err);
            failed++;
            continue;
        }
        unsigned got = pattern_match(&p, tc->number);
        if (got != tc->want) {
            char g[8], w[8];
            fmt_bits(got, g, sizeof(g));
            fmt_bits(tc->want, w, sizeof(w));
            printf("FAIL: pattern=%s number=%s got=%s want=%s\n",
                   tc->pattern, tc->number, g, w);
            failed++;
        } else {
            passed++;
        }
    }

    for (size_t i = 0; i < sizeof(compile_cases) / sizeof(compile_cases[0]); i++) {
        const struct compile_case *tc = &compile_cases[i];
        err[0] = '\0';
        int rc = pattern_compile(&p, tc->pattern, err, sizeof(err));
        bool ok;
        if (tc->reason == NULL)
            ok = rc == 0 && strcmp(p.text, tc->pattern) == 0;
        else
            ok = rc == -1 && strstr(err, tc->reason) != NULL
                 && pattern_match(&p, "") == 0 && pattern_match(&p, "1") == 0;
        if (!ok) {
            printf("FAIL: pattern=%s number=(compile) got=%s want=%s\n",
                   tc->pattern, rc == 0 ? "compiled" : err,
                   tc->reason ? tc->reason : "compiled");
            failed++;
        } else {
            passed++;
        }
    }

    /* API edge cases: tiny/absent error buffers and NULL inputs. */
    {
        char tiny[4];
        int rc = pattern_compile(&p, "_[", tiny, sizeof(tiny));
        bool ok = rc == -1 && strlen(tiny) == 3;
        rc = pattern_compile(&p, "_", NULL, 0);
        ok = ok && rc == -1;
        rc = pattern_compile(&p, NULL, err, sizeof(err));
        ok = ok && rc == -1;
        ok = ok && pattern_compile(&p, "_X", err, sizeof(err)) == 0
             && pattern_match(&p, NULL) == 0 && pattern_match(NULL, "1") == 0;
        if (!ok) {
            printf("FAIL: pattern=(api edge cases) number=- got=bad want=ok\n");
            failed++;
        } else {
            passed++;
        }
    }

    /* Asterisk's order of extensions (ext_cmp): each list is sorted. */
    {
        static const char *const sorted[][6] = {
            {"1001", "555-1212", "8XYZ", "8xyz", "_1XXX", NULL},   /* literals first, bytewise */
            {"_4X!", "_NXXNXXXXXX", NULL},                          /* '4' (1 char) before N (8) */
            {"_1XX", "_1X.", "_1X!", "_1X", NULL},               /* a set < '.' < '!' < the end */
            {"_[13]", "_[23]", "_N", "_Z", "_X", NULL},              /* size, then lowest char */
            {"_[25]", "_[34]", NULL},                               /* equal key: lowest member first */
        };
        for (size_t i = 0; i < sizeof(sorted) / sizeof(sorted[0]); i++)
            for (size_t j = 0; sorted[i][j] && sorted[i][j + 1]; j++) {
                struct pattern a, b;
                bool ok = pattern_compile(&a, sorted[i][j], err, sizeof(err)) == 0 &&
                          pattern_compile(&b, sorted[i][j + 1], err, sizeof(err)) == 0 &&
                          pattern_order(&a, &b) < 0 && pattern_order(&b, &a) > 0 && pattern_order(&a, &a) == 0;
                if (!ok) {
                    printf("FAIL: order %s before %s\n", sorted[i][j], sorted[i][j + 1]);
                    failed++;
                } else {
                    passed++;
                }
            }
        struct pattern a, b;
        bool ok = pattern_compile(&a, "_X", err, sizeof(err)) == 0 && pattern_compile(&b, "_[0-9]", err, sizeof(err)) == 0 &&
                  pattern_order(&a, &b) == 0 && pattern_compile(&b, "555-1212", err, sizeof(err)) == 0 &&
                  pattern_compile(&a, "5551212", err, sizeof(err)) == 0 && pattern_order(&a, &b) == 0;
        if (!ok) {
            printf("FAIL: _X and _[0-9], 5551212 and 555-1212 take the same place\n");
            failed++;
        } else {
            passed++;
        }
    }

    printf("pattern: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
