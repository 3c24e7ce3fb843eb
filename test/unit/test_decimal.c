/* The bounded decimal parser: boundaries of every width, leading zeros, signs
 * and junk. Built with -fsanitize=undefined, any overflow is a failure. */
#include <inttypes.h>
#include <stdint.h>

#include "dundid/decimal.h"
#include "testutil.h"

static int u64(const char *s, uint64_t max, uint64_t *v)
{
    *v = 12345; /* must stay untouched on refusal */
    return dec_parse_u64(s, strlen(s), max, v);
}

static int i64(const char *s, int64_t min, int64_t max, int64_t *v)
{
    *v = 12345;
    return dec_parse_i64(s, strlen(s), min, max, v);
}

static void test_span(void)
{
    CHECK_INT(dec_span("", 0), 0);
    CHECK_INT(dec_span("123abc", 6), 3);
    CHECK_INT(dec_span("123", 2), 2); /* never past n */
    CHECK_INT(dec_span("x1", 2), 0);
    CHECK_INT(dec_span("0123456789/:", 12), 10); /* '/' and ':' are next to the digits */
}

static void test_u64_bounds(void)
{
    uint64_t v;
    CHECK(u64("0", 0, &v) && v == 0, "0 within max 0");
    CHECK(!u64("1", 0, &v) && v == 12345, "1 over max 0");
    CHECK(u64("65535", 65535, &v) && v == 65535, "the largest accepted value");
    CHECK(!u64("65536", 65535, &v), "one more");
    CHECK(!u64("655350", 65535, &v), "one more digit");
    CHECK(u64("000000000000000000000000065535", 65535, &v) && v == 65535, "leading zeros beyond 20 digits");
    CHECK(u64("00000000000000000000000000000", 0, &v) && v == 0, "only zeros");
    /* int64_t's edge, where the bug of issue 18 was */
    CHECK(u64("9223372036854775807", INT64_MAX, &v) && v == INT64_MAX, "INT64_MAX");
    CHECK(!u64("9223372036854775808", INT64_MAX, &v), "INT64_MAX + 1");
    CHECK(!u64("9999999999999999999", INT64_MAX, &v) && v == 12345, "19 nines");
    CHECK(!u64("10000000000000000000", INT64_MAX, &v), "20 digits");
    CHECK(u64("0009223372036854775807", INT64_MAX, &v) && v == INT64_MAX, "INT64_MAX with leading zeros");
    /* uint64_t's edge: no wider type to hide an overflow in */
    CHECK(u64("18446744073709551615", UINT64_MAX, &v) && v == UINT64_MAX, "UINT64_MAX");
    CHECK(!u64("18446744073709551616", UINT64_MAX, &v), "UINT64_MAX + 1");
    CHECK(!u64("18446744073709551620", UINT64_MAX, &v), "UINT64_MAX + 5, last digit wraps");
    CHECK(!u64("99999999999999999999", UINT64_MAX, &v), "20 nines");
    CHECK(!u64("184467440737095516150", UINT64_MAX, &v), "21 digits");
    CHECK(u64("4294967295", UINT32_MAX, &v) && v == UINT32_MAX, "UINT32_MAX");
    CHECK(!u64("4294967296", UINT32_MAX, &v), "UINT32_MAX + 1");
    /* every power of ten around a max of 10^k - 1 and 10^k */
    uint64_t p = 1;
    for (int k = 1; k <= 19; k++) {
        p *= 10;
        char buf[32];
        snprintf(buf, sizeof(buf), "%" PRIu64, p);
        CHECK(!u64(buf, p - 1, &v), "10^%d over max 10^%d-1", k, k);
        CHECK(u64(buf, p, &v) && v == p, "10^%d at max 10^%d", k, k);
        snprintf(buf, sizeof(buf), "%" PRIu64, p - 1);
        CHECK(u64(buf, p - 1, &v) && v == p - 1, "10^%d-1 at max", k);
    }
}

static void test_u64_syntax(void)
{
    uint64_t v;
    const char *bad[] = {"", " 1", "1 ", "+1", "-1", "1a", "a1", "0x10", "1.0", "1,000", "\t7", "12\n"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK(!u64(bad[i], UINT64_MAX, &v) && v == 12345, "'%s' refused", bad[i]);
    /* n bounds the input: a digit past it is not read, a NUL inside it is junk */
    CHECK(dec_parse_u64("123", 2, 1000, &v) && v == 12, "only n bytes");
    CHECK(!dec_parse_u64("1\0" "2", 3, 1000, &v), "NUL inside");
    CHECK(!dec_parse_u64(NULL, 0, 1000, &v), "empty, NULL");
}

static void test_i64(void)
{
    int64_t v;
    CHECK(i64("9223372036854775807", INT64_MIN, INT64_MAX, &v) && v == INT64_MAX, "INT64_MAX");
    CHECK(!i64("9223372036854775808", INT64_MIN, INT64_MAX, &v), "INT64_MAX + 1");
    CHECK(i64("-9223372036854775808", INT64_MIN, INT64_MAX, &v) && v == INT64_MIN, "INT64_MIN");
    CHECK(!i64("-9223372036854775809", INT64_MIN, INT64_MAX, &v), "INT64_MIN - 1");
    CHECK(!i64("-99999999999999999999", INT64_MIN, INT64_MAX, &v) && v == 12345, "20 nines, negative");
    CHECK(i64("+42", 0, 100, &v) && v == 42, "plus sign");
    CHECK(i64("-0", 0, 100, &v) && v == 0, "minus zero is zero");
    CHECK(!i64("-1", 0, 100, &v), "below min 0");
    CHECK(i64("-5", -5, 5, &v) && v == -5, "min itself");
    CHECK(!i64("-6", -5, 5, &v), "below min");
    CHECK(!i64("6", -5, 5, &v), "above max");
    CHECK(!i64("9", 10, 20, &v), "below a positive min");
    CHECK(i64("-10", -20, -10, &v) && v == -10, "negative range, its max");
    CHECK(!i64("-9", -20, -10, &v), "negative range, over its max");
    CHECK(!i64("0", -20, -10, &v), "zero above a negative range");
    CHECK(!i64("5", 10, 0, &v), "min > max refuses all");
    CHECK(i64("-000000000000000000000000007", -10, 10, &v) && v == -7, "leading zeros after the sign");
    const char *bad[] = {"", "-", "+", "--1", "+-1", " 1", "1 ", "- 1", "1-"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK(!i64(bad[i], INT64_MIN, INT64_MAX, &v) && v == 12345, "'%s' refused", bad[i]);
}

/* Every byte against a model: 0-9, a-f and A-F, nothing else. */
static void test_hex_digit(void)
{
    const char *digits = "0123456789abcdef", *upper = "ABCDEF";
    for (int c = 0; c < 256; c++) {
        const char *d = c ? strchr(digits, c) : NULL, *u = c ? strchr(upper, c) : NULL;
        int want = d ? (int)(d - digits) : u ? 10 + (int)(u - upper) : -1;
        CHECK(hex_digit((char)c) == want, "hex_digit(%d) = %d, want %d", c, hex_digit((char)c), want);
    }
}

int main(void)
{
    test_hex_digit();
    test_span();
    test_u64_bounds();
    test_u64_syntax();
    test_i64();
    return test_summary("test_decimal");
}
