/* test_decimal.c - gateways/common/decimal.c: the grammar, every error class
 * in its documented order, the int64 boundaries at every scale, formatting,
 * and the parse(format(v)) == v round trip over random values and scales. */
#include "../check.h"
#include "decimal.h"

static int parse_s(const char *s, unsigned scale, int64_t *out)
{
    return dec_parse(s, strlen(s), scale, out);
}

static int parse_signed_s(const char *s, unsigned scale, int64_t *out)
{
    return dec_parse_signed(s, strlen(s), scale, out);
}

static void test_plain_numbers_scale_to_integers(void)
{
    int64_t v = -1;
    CHECK_EQ(parse_s("123", 0, &v), 0);
    CHECK_EQ(v, 123);
    CHECK_EQ(parse_s("123.45", 2, &v), 0);
    CHECK_EQ(v, 12345);
    CHECK_EQ(parse_s("123.4", 2, &v), 0);
    CHECK_EQ(v, 12340);
    CHECK_EQ(parse_s("0", 8, &v), 0);
    CHECK_EQ(v, 0);
    CHECK_EQ(parse_s("0.00000001", 8, &v), 0);
    CHECK_EQ(v, 1);
    CHECK_EQ(parse_s("7", 18, &v), 0);
    CHECK_EQ(v, 7000000000000000000LL);
}

static void test_signed_variant_accepts_minus_only(void)
{
    int64_t v = 0;
    CHECK_EQ(parse_signed_s("-0.5", 1, &v), 0);
    CHECK_EQ(v, -5);
    CHECK_EQ(parse_signed_s("-12.25", 2, &v), 0);
    CHECK_EQ(v, -1225);
    CHECK_EQ(parse_signed_s("-0", 3, &v), 0);
    CHECK_EQ(v, 0);
    CHECK_EQ(parse_signed_s("+1", 0, &v), -EINVAL);
    CHECK_EQ(parse_signed_s("-", 0, &v), -EINVAL);
    CHECK_EQ(parse_signed_s("--1", 0, &v), -EINVAL);
    CHECK_EQ(parse_signed_s("-.5", 1, &v), -EINVAL);
    CHECK_EQ(parse_signed_s("-01", 0, &v), -EINVAL);
}

static void test_unsigned_variant_refuses_any_sign(void)
{
    int64_t v = 42;
    CHECK_EQ(parse_s("-1", 0, &v), -EINVAL);
    CHECK_EQ(parse_s("-0", 0, &v), -EINVAL);
    CHECK_EQ(parse_s("+1", 0, &v), -EINVAL);
    CHECK_EQ(v, 42); /* untouched on error */
}

static void test_syntax_errors_are_einval(void)
{
    static const char *const bad[] = {
        "", " 1", "1 ", " ", "1.", ".5", ".", "01", "00", "00.5", "1e3", "1E3", "0x10",
        "1.2.3", "1,5", "1_000", "١", "inf", "nan", "1..2", "1.-2", "1-", "\t1", "1\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int64_t v;
        int rc = parse_signed_s(bad[i], 2, &v);
        if (rc != -EINVAL)
            fprintf(stderr, "  '%s' gave %d\n", bad[i], rc);
        CHECK_EQ(rc, -EINVAL);
    }
    int64_t v;
    CHECK_EQ(dec_parse("1\0" "2", 3, 0, &v), -EINVAL); /* an embedded NUL is not a digit */
    CHECK_EQ(dec_parse(NULL, 0, 0, &v), -EINVAL);
    CHECK_EQ(parse_s("1", DEC_SCALE_MAX + 1, &v), -EINVAL);
}

static void test_len_bounds_the_read_not_the_nul(void)
{
    int64_t v = 0;
    CHECK_EQ(dec_parse("12345", 3, 0, &v), 0);
    CHECK_EQ(v, 123);
    CHECK_EQ(dec_parse("1.5xyz", 3, 1, &v), 0);
    CHECK_EQ(v, 15);
}

static void test_extra_fraction_digits_allowed_only_when_zero(void)
{
    int64_t v = 0;
    CHECK_EQ(parse_s("1.2300", 2, &v), 0);
    CHECK_EQ(v, 123);
    CHECK_EQ(parse_s("5.00000000", 0, &v), 0);
    CHECK_EQ(v, 5);
    CHECK_EQ(parse_s("1.234", 2, &v), -EDOM);
    CHECK_EQ(parse_s("1.2301", 2, &v), -EDOM);
    CHECK_EQ(parse_s("0.5", 0, &v), -EDOM);
    CHECK_EQ(parse_signed_s("-0.000000000000000001", 17, &v), -EDOM);
}

static void test_too_long_input_is_e2big_before_anything_else(void)
{
    char s[DEC_INPUT_MAX + 2];
    memset(s, '0', sizeof(s));
    s[0] = '1';
    s[1] = '.';
    s[DEC_INPUT_MAX] = '\0'; /* exactly the limit: fine ("1.000...") */
    int64_t v = 0;
    CHECK_EQ(parse_s(s, 2, &v), 0);
    CHECK_EQ(v, 100);
    s[DEC_INPUT_MAX] = '0';
    s[DEC_INPUT_MAX + 1] = '\0';
    CHECK_EQ(parse_s(s, 2, &v), -E2BIG);
    memset(s, 'x', sizeof(s) - 1); /* garbage too: length is checked first */
    CHECK_EQ(parse_s(s, 2, &v), -E2BIG);
}

static void test_error_order_is_syntax_then_precision_then_range(void)
{
    int64_t v;
    /* too big and too precise and malformed: syntax wins */
    CHECK_EQ(parse_s("99999999999999999999.999x", 2, &v), -EINVAL);
    /* too big and too precise: precision wins */
    CHECK_EQ(parse_s("99999999999999999999.999", 2, &v), -EDOM);
    CHECK_EQ(parse_s("99999999999999999999.99", 2, &v), -ERANGE);
}

/* 10^k for k <= 18 */
static int64_t pow10_i(unsigned k)
{
    int64_t p = 1;
    while (k--)
        p *= 10;
    return p;
}

static void test_int64_max_parses_at_every_scale_and_one_more_is_erange(void)
{
    for (unsigned scale = 0; scale <= DEC_SCALE_MAX; scale++) {
        char buf[DEC_STR_MAX], one_more[DEC_STR_MAX];
        int n = dec_format(INT64_MAX, scale, buf, sizeof(buf));
        CHECK(n > 0);
        int64_t v = 0;
        CHECK_EQ(dec_parse(buf, (size_t)n, scale, &v), 0);
        CHECK(v == INT64_MAX);
        /* the same text with its last digit one higher ("...807" -> "...808") */
        memcpy(one_more, buf, (size_t)n + 1);
        CHECK_EQ(one_more[n - 1], '7');
        one_more[n - 1] = '8';
        CHECK_EQ(dec_parse(one_more, (size_t)n, scale, &v), -ERANGE);
        /* and INT64_MIN is reachable with a sign, one below it is not */
        n = dec_format(INT64_MIN, scale, buf, sizeof(buf));
        CHECK_EQ(dec_parse_signed(buf, (size_t)n, scale, &v), 0);
        CHECK(v == INT64_MIN);
        CHECK_EQ(buf[n - 1], '8');
        buf[n - 1] = '9';
        CHECK_EQ(dec_parse_signed(buf, (size_t)n, scale, &v), -ERANGE);
        /* the largest integer part for this scale, and one more */
        int64_t whole = INT64_MAX / pow10_i(scale);
        snprintf(buf, sizeof(buf), "%" PRId64, whole);
        CHECK_EQ(parse_s(buf, scale, &v), 0);
        CHECK(v == whole * pow10_i(scale));
        snprintf(buf, sizeof(buf), "%" PRIu64, (uint64_t)whole + 1);
        CHECK_EQ(parse_s(buf, scale, &v), -ERANGE);
    }
}

static void test_huge_integer_parts_are_erange(void)
{
    int64_t v;
    CHECK_EQ(parse_s("9223372036854775808", 0, &v), -ERANGE);
    CHECK_EQ(parse_s("99999999999999999999999999999999999999", 0, &v), -ERANGE);
    CHECK_EQ(parse_s("10", 18, &v), -ERANGE);
    CHECK_EQ(parse_s("9", 18, &v), 0);
}

static void expect_format(int64_t v, unsigned scale, const char *want)
{
    char buf[DEC_STR_MAX];
    int n = dec_format(v, scale, buf, sizeof(buf));
    if (n != (int)strlen(want) || strcmp(buf, want) != 0) {
        fprintf(stderr, "  dec_format(%" PRId64 ", %u) = '%s' (%d), want '%s'\n", v, scale, buf,
                n, want);
        check_current_failed = 1;
    }
}

static void test_format_is_canonical_with_trailing_zeros_to_scale(void)
{
    expect_format(0, 0, "0");
    expect_format(0, 2, "0.00");
    expect_format(12345, 2, "123.45");
    expect_format(12340, 2, "123.40");
    expect_format(1, 8, "0.00000001");
    expect_format(100, 2, "1.00");
    expect_format(7, 0, "7");
}

static void test_format_of_negatives_and_int64_min(void)
{
    expect_format(-5, 1, "-0.5");
    expect_format(-1, 18, "-0.000000000000000001");
    expect_format(-1225, 2, "-12.25");
    expect_format(INT64_MIN, 0, "-9223372036854775808");
    expect_format(INT64_MIN, 18, "-9.223372036854775808");
    expect_format(INT64_MIN, 3, "-9223372036854775.808");
    expect_format(INT64_MAX, 18, "9.223372036854775807");
}

static void test_format_refuses_small_buffers_and_bad_scales(void)
{
    char buf[DEC_STR_MAX];
    CHECK_EQ(dec_format(12345, 2, buf, 6), -ENOSPC); /* "123.45" needs 7 */
    CHECK_EQ(dec_format(12345, 2, buf, 7), 6);
    CHECK_EQ(dec_format(0, 0, buf, 0), -ENOSPC);
    CHECK_EQ(dec_format(1, DEC_SCALE_MAX + 1, buf, sizeof(buf)), -EINVAL);
    CHECK_EQ(dec_format(INT64_MIN, 18, buf, DEC_STR_MAX), DEC_STR_MAX - 1);
}

static uint64_t rng_state;
static uint64_t rng(void)
{
    uint64_t z = (rng_state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static void test_round_trip_of_random_values_at_random_scales(void)
{
    rng_state = check_seed();
    for (int i = 0; i < 200000; i++) {
        uint64_t r = rng();
        /* vary the magnitude: shifting spreads values over all digit counts */
        int64_t v = (int64_t)(r >> (rng() % 64));
        if (rng() & 1)
            v = -v;
        if (i < 4)
            v = (int64_t[]){INT64_MIN, INT64_MAX, 0, -1}[i];
        unsigned scale = (unsigned)(rng() % (DEC_SCALE_MAX + 1));
        char buf[DEC_STR_MAX];
        int n = dec_format(v, scale, buf, sizeof(buf));
        CHECK(n > 0);
        int64_t back = 0;
        int rc = dec_parse_signed(buf, (size_t)n, scale, &back);
        if (rc != 0 || back != v)
            fprintf(stderr, "  %" PRId64 " at scale %u -> '%s' -> %d, %" PRId64 "\n", v, scale,
                    buf, rc, back);
        CHECK_EQ(rc, 0);
        CHECK(back == v);
        if (v >= 0) {
            CHECK_EQ(dec_parse(buf, (size_t)n, scale, &back), 0);
            CHECK(back == v);
        }
    }
}

int main(int argc, char **argv)
{
    CHECK_MAIN_BEGIN(argc, argv);
    RUN(test_plain_numbers_scale_to_integers);
    RUN(test_signed_variant_accepts_minus_only);
    RUN(test_unsigned_variant_refuses_any_sign);
    RUN(test_syntax_errors_are_einval);
    RUN(test_len_bounds_the_read_not_the_nul);
    RUN(test_extra_fraction_digits_allowed_only_when_zero);
    RUN(test_too_long_input_is_e2big_before_anything_else);
    RUN(test_error_order_is_syntax_then_precision_then_range);
    RUN(test_int64_max_parses_at_every_scale_and_one_more_is_erange);
    RUN(test_huge_integer_parts_are_erange);
    RUN(test_format_is_canonical_with_trailing_zeros_to_scale);
    RUN(test_format_of_negatives_and_int64_min);
    RUN(test_format_refuses_small_buffers_and_bad_scales);
    RUN(test_round_trip_of_random_values_at_random_scales);
    CHECK_MAIN_END();
}
