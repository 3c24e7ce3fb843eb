/* Bounded decimal numbers from outside input. Pure.
 *
 * Digits only (no blanks; a sign only where said), any number of leading
 * zeros, and a caller's maximum that is checked before each step, so a value
 * that does not fit is refused and never overflows. */
#ifndef DUNDID_DECIMAL_H
#define DUNDID_DECIMAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The number of ASCII digits at the start of s[0..n). */
size_t dec_span(const char *s, size_t n);

/* s[0..n) is one or more ASCII digits with a value of at most max: stores
 * the value in *out and returns true; otherwise false, *out untouched. */
bool dec_parse_u64(const char *s, size_t n, uint64_t max, uint64_t *out);

/* The same for min..max, after an optional '+' or '-'. */
bool dec_parse_i64(const char *s, size_t n, int64_t min, int64_t max, int64_t *out);

/* The value of one hexadecimal digit (either case), or -1. */
int hex_digit(char c);

#endif
