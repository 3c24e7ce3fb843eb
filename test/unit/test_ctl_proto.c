/* Unit tests for the control protocol (src/ops/ctl_proto.c) and the command
 * output writer (src/ops/ctl_out.c). */
#include "dundid/ctl_out.h"
#include "dundid/ctl_proto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static struct ctl_request rq;

static int parse(const char *line, char *err)
{
    return ctl_parse(line, strlen(line), &rq, err, CTL_REASON_MAX);
}

static void test_parse(void)
{
    char err[CTL_REASON_MAX];

    if (CHECK(parse("show peers", err) == 0, "two words")) {
        CHECK_INT(rq.argc, 2);
        CHECK_STR(rq.argv[0], "show");
        CHECK_STR(rq.argv[1], "peers");
        CHECK(rq.argv[2] == NULL, "argv ends with NULL");
        CHECK(!rq.json, "no json");
    }
    if (CHECK(parse("  --json\tlookup  1001@priv bypass \r", err) == 0, "blanks, tab, CR, --json")) {
        CHECK(rq.json, "--json seen");
        CHECK_INT(rq.argc, 3);
        CHECK_STR(rq.argv[0], "lookup");
        CHECK_STR(rq.argv[2], "bypass");
    }
    if (CHECK(parse("lookup --json", err) == 0, "--json later is a plain word"))
        CHECK(!rq.json && rq.argc == 2, "not an option there");

    CHECK(parse("", err) < 0 && !strcmp(err, "empty request"), "empty line: %s", err);
    CHECK(parse("   \t ", err) < 0 && !strcmp(err, "empty request"), "blank line");
    CHECK(parse("--json", err) < 0 && !strcmp(err, "empty request"), "only --json");
    CHECK(parse("show\x01peers", err) < 0 && strstr(err, "(0x01) at offset 4"), "control byte: %s", err);
    CHECK(parse("show p\xc3\xa9", err) < 0 && strstr(err, "(0xc3) at offset 6"), "non-ASCII: %s", err);
    CHECK(parse("a\x7f", err) < 0, "DEL");
    CHECK(ctl_parse("ab\0cd", 5, &rq, err, sizeof(err)) < 0 && strstr(err, "(0x00) at offset 2"), "NUL inside");

    char line[CTL_LINE_MAX + 8];
    memset(line, 'x', sizeof(line));
    for (size_t i = 1; i < CTL_LINE_MAX; i += 2)
        line[i] = ' ';
    CHECK(ctl_parse(line, CTL_LINE_MAX, &rq, err, sizeof(err)) < 0 && strstr(err, "more than 16 words"),
          "too many words: %s", err);
    memset(line, 'x', sizeof(line));
    CHECK(ctl_parse(line, CTL_WORD_MAX, &rq, err, sizeof(err)) == 0, "a word of 255 characters");
    CHECK(ctl_parse(line, CTL_WORD_MAX + 1, &rq, err, sizeof(err)) < 0 && strstr(err, "longer than 255"),
          "a word of 256: %s", err);
    for (size_t i = 100; i < CTL_LINE_MAX; i += 101)
        line[i] = ' ';
    CHECK(ctl_parse(line, CTL_LINE_MAX + 1, &rq, err, sizeof(err)) < 0 && strstr(err, "longer than 4096 bytes"),
          "4097 bytes: %s", err);
    line[CTL_LINE_MAX] = '\r';
    /* 4096 bytes of 41 words: the length passes, the word count does not. */
    CHECK(ctl_parse(line, CTL_LINE_MAX + 1, &rq, err, sizeof(err)) < 0 && strstr(err, "words"),
          "4096 + CR is within the limit: %s", err);

    char words[400] = "";
    for (int i = 0; i < CTL_MAX_WORDS; i++)
        strcat(words, "w ");
    CHECK(parse(words, err) == 0 && rq.argc == CTL_MAX_WORDS, "16 words");
    strcat(words, "w");
    CHECK(parse(words, err) < 0, "17 words");
}

static int roundtrip(const char *out, bool ok, const char *reason, struct ctl_response *r)
{
    size_t n;
    char *f = ctl_frame(out, strlen(out), ok, reason, &n);
    if (!f)
        return -1;
    int complete = ctl_response_complete(f, n);
    int rc = complete ? ctl_parse_response(f, n, r) : -1;
    free(f);
    return rc;
}

static void test_frame(void)
{
    struct ctl_response r;
    size_t n;
    char *f = ctl_frame("a\n.\n..x\nb", 9, true, NULL, &n);
    if (CHECK(f != NULL, "framed")) {
        CHECK(n == strlen("a\n..\n...x\nb\nOK\n.\n") && !memcmp(f, "a\n..\n...x\nb\nOK\n.\n", n), "stuffed: %.*s",
              (int)n, f);
        free(f);
    }
    if (CHECK(roundtrip("a\n.\n..x\nOK\nERR y\n", true, NULL, &r) == 0, "roundtrip with tricky lines")) {
        CHECK_STR(r.out, "a\n.\n..x\nOK\nERR y\n");
        CHECK(r.ok, "status OK");
        ctl_response_free(&r);
    }
    if (CHECK(roundtrip("", false, "bad\nthing", &r) == 0, "error without output")) {
        CHECK(!r.ok, "status ERR");
        CHECK_STR(r.reason, "bad thing");
        CHECK_INT(r.outlen, 0);
        ctl_response_free(&r);
    }
    if (CHECK(roundtrip("x", true, NULL, &r) == 0, "missing final newline added")) {
        CHECK_STR(r.out, "x\n");
        ctl_response_free(&r);
    }

    static const char *bad[] = {
        "",             /* nothing */
        "OK\n",         /* no terminator */
        ".\n",          /* no status */
        "x\n.\n",       /* status is not OK/ERR */
        "OK\n.\nmore",  /* bytes after the terminator */
        "ERR\n.\n",     /* ERR without a reason separator */
        "OK",           /* unterminated */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK(ctl_parse_response(bad[i], strlen(bad[i]), &r) < 0, "bad response %zu refused", i);
    CHECK(ctl_response_complete(".\n", 2), "bare terminator is complete");
    CHECK(!ctl_response_complete("OK\n.", 4), "no final newline: incomplete");
    CHECK(ctl_response_complete("OK\n.\n", 5), "complete");
}

static void test_out(void)
{
    struct ctl_out o;
    ctl_out_init(&o, 1 << 20, true);
    cj_obj(&o, NULL);
    cj_str(&o, "s", "q\"b\\\n\x01\xe9");
    cj_int(&o, "i", -5);
    cj_arr(&o, "a");
    cj_bool(&o, NULL, true);
    cj_null(&o, NULL);
    cj_obj(&o, NULL);
    cj_end(&o);
    cj_end(&o);
    cj_end(&o);
    CHECK_STR(o.buf, "{\"s\":\"q\\\"b\\\\\\u000a\\u0001\\u00e9\",\"i\":-5,\"a\":[\ntrue,\nnull,\n{}]}\n");
    CHECK(!o.full, "within the limit");
    ctl_out_free(&o);

    ctl_out_init(&o, 10, false);
    ctl_printf(&o, "%s", "0123456789");
    CHECK(!o.full && o.len == 10, "exactly the limit");
    ctl_printf(&o, "x");
    CHECK(o.full && o.len == 10, "beyond the limit: dropped, marked full");
    ctl_write(&o, "y", 1);
    CHECK(o.len == 10, "still dropped");
    ctl_out_free(&o);
}

int main(void)
{
    test_parse();
    test_frame();
    test_out();
    return test_summary("test_ctl_proto");
}
