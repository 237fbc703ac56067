/* test_rest_http.c - gateways/rest/http.c: complete and partial requests,
 * pipelining, bodies by length and by chunks, and a refusal with the right
 * status for every malformed or oversized input. */
#include "../check.h"
#include "http.h"

static const http_limits_t LIM = {.header_bytes = 1024, .body_bytes = 64};

/* Parses a string literal (copied, since chunked bodies decode in place). */
static int parse(const char *s, http_request_t *req)
{
    static char buf[8192];
    size_t n = strlen(s);
    memcpy(buf, s, n);
    return http_parse(buf, n, &LIM, req);
}

static void test_get_without_body_is_complete_at_blank_line(void)
{
    http_request_t r;
    const char *s = "GET /v1/book/BTC-USD?depth=5 HTTP/1.1\r\nHost: x\r\nX-Bourse-Key: abc \r\n\r\n";
    CHECK_EQ(parse(s, &r), (int)strlen(s));
    CHECK_EQ(r.method_len, 3);
    CHECK(memcmp(r.method, "GET", 3) == 0);
    CHECK_EQ(r.target_len, strlen("/v1/book/BTC-USD?depth=5"));
    CHECK_EQ(r.path_len, strlen("/v1/book/BTC-USD"));
    CHECK_EQ(r.version_minor, 1);
    CHECK(r.keep_alive);
    CHECK_EQ(r.body_len, 0);
    const char *v;
    uint32_t vl;
    CHECK_EQ(http_header(&r, "x-bourse-key", &v, &vl), 1);
    CHECK_EQ(vl, 3); /* trailing space trimmed */
    CHECK(memcmp(v, "abc", 3) == 0);
    CHECK_EQ(http_header(&r, "x-missing", &v, &vl), 0);
}

static void test_every_prefix_of_a_request_is_incomplete(void)
{
    const char *s = "POST /v1/orders HTTP/1.1\r\nContent-Length: 7\r\n\r\n{\"a\":1}";
    char buf[256];
    size_t n = strlen(s);
    for (size_t k = 0; k < n; k++) {
        memcpy(buf, s, k);
        http_request_t r;
        int rc = http_parse(buf, k, &LIM, &r);
        if (rc != 0) {
            fprintf(stderr, "  prefix of %zu bytes gave %d\n", k, rc);
            CHECK_EQ(rc, 0);
        }
    }
    http_request_t r;
    memcpy(buf, s, n);
    CHECK_EQ(http_parse(buf, n, &LIM, &r), (int)n);
    CHECK_EQ(r.body_len, 7);
    CHECK(memcmp(r.body, "{\"a\":1}", 7) == 0);
}

static void test_pipelined_requests_are_taken_one_at_a_time_in_order(void)
{
    char buf[512];
    const char *s = "GET /a HTTP/1.1\r\n\r\nPOST /b HTTP/1.1\r\nContent-Length: 5\r\n\r\nhelloGET /c HTTP/1.1\r\n\r\n";
    size_t n = strlen(s), off = 0;
    memcpy(buf, s, n);
    const char *want[] = {"/a", "/b", "/c"};
    for (int i = 0; i < 3; i++) {
        http_request_t r;
        int rc = http_parse(buf + off, n - off, &LIM, &r);
        CHECK(rc > 0);
        CHECK_EQ(r.target_len, 2);
        CHECK(memcmp(r.target, want[i], 2) == 0);
        if (i == 1) {
            CHECK_EQ(r.body_len, 5);
            CHECK(memcmp(r.body, "hello", 5) == 0);
        }
        off += (size_t)rc;
    }
    CHECK_EQ(off, n);
}

static void test_chunked_body_is_decoded_in_place(void)
{
    http_request_t r;
    const char *s = "POST /v1/orders HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "3\r\nabc\r\n4;ext=1\r\ndefg\r\n0\r\nTrailer: x\r\n\r\nGET /next HTTP/1.1\r\n\r\n";
    int rc = parse(s, &r);
    CHECK_EQ(rc, (int)(strlen(s) - strlen("GET /next HTTP/1.1\r\n\r\n")));
    CHECK(r.chunked);
    CHECK_EQ(r.body_len, 7);
    CHECK(memcmp(r.body, "abcdefg", 7) == 0);
    /* incomplete chunked bodies wait */
    CHECK_EQ(parse("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nab", &r), 0);
    CHECK_EQ(parse("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n", &r), 0);
}

static void test_connection_header_and_http10_set_keep_alive(void)
{
    http_request_t r;
    CHECK(parse("GET / HTTP/1.1\r\nConnection: close\r\n\r\n", &r) > 0);
    CHECK(!r.keep_alive);
    CHECK(parse("GET / HTTP/1.0\r\n\r\n", &r) > 0);
    CHECK(!r.keep_alive);
    CHECK_EQ(r.version_minor, 0);
    CHECK(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", &r) > 0);
    CHECK(r.keep_alive);
    CHECK(parse("POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n", &r) == 0);
    CHECK(r.expect_continue);
    CHECK(r.header_bytes > 0);
}

static void test_leading_empty_lines_are_skipped(void)
{
    http_request_t r;
    const char *s = "\r\n\r\nGET /x HTTP/1.1\r\n\r\n";
    CHECK_EQ(parse(s, &r), (int)strlen(s));
    CHECK_EQ(r.target_len, 2);
}

static void test_malformed_input_is_refused_with_its_status(void)
{
    static const struct {
        const char *in;
        int status;
    } cases[] = {
        {"\x00\x01\x02 garbage\r\n\r\n", 400},
        {"get / HTTP/1.1\r\n\r\n", 400},
        {"GETTINGLONG / HTTP/1.1\r\n\r\n", 400},
        {"GET noslash HTTP/1.1\r\n\r\n", 400},
        {"GET /a#frag HTTP/1.1\r\n\r\n", 400},
        {"GET / HTTP/2.0\r\n\r\n", 505},
        {"GET / HTTP/1.2\r\n\r\n", 505},
        {"GET / HTTQ/1.1\r\n\r\n", 400},
        {"GET / HTTP/1.1\nHost: x\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: x\nY: z\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost x\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHo st: x\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\n folded: x\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nX: a\x01b\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\nContent-Length: 65\r\n\r\n", 413},
        {"POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n", 413},
        {"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 501},
        {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400},
        {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n41\r\n", 413},
        {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n123456789\r\n", 413},
        {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n", 400},
        {"GET / HTTP/1.1\r\nExpect: magic\r\n\r\n", 417},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        http_request_t r;
        char buf[256];
        size_t n = i == 0 ? 15 : strlen(cases[i].in);
        memcpy(buf, cases[i].in, n);
        int rc = http_parse(buf, n, &LIM, &r);
        if (rc != -cases[i].status) {
            fprintf(stderr, "  case %zu: got %d, want %d\n", i, rc, -cases[i].status);
            CHECK_EQ(rc, -cases[i].status);
        }
        CHECK(r.error != NULL);
    }
}

static void test_oversized_header_block_is_431_and_long_target_414(void)
{
    static char buf[4096];
    http_request_t r;
    int n = snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\nX-Big: ");
    memset(buf + n, 'a', 2000);
    /* no end of headers yet, but already past the limit */
    CHECK_EQ(http_parse(buf, (size_t)n + 2000, &LIM, &r), -431);
    n = snprintf(buf, sizeof(buf), "GET /");
    memset(buf + n, 'a', HTTP_TARGET_MAX + 10);
    http_limits_t big = {.header_bytes = 8192, .body_bytes = 64};
    CHECK_EQ(http_parse(buf, (size_t)n + HTTP_TARGET_MAX + 10, &big, &r), -414);
    /* too many header lines */
    n = snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\n");
    for (int i = 0; i < HTTP_HEADERS_MAX + 1; i++)
        n += snprintf(buf + n, sizeof(buf) - (size_t)n, "A%d: b\r\n", i);
    n += snprintf(buf + n, sizeof(buf) - (size_t)n, "\r\n");
    CHECK_EQ(http_parse(buf, (size_t)n, &big, &r), -431);
}

static void test_reason_phrases(void)
{
    CHECK(strcmp(http_reason(404), "Not Found") == 0);
    CHECK(strcmp(http_reason(429), "Too Many Requests") == 0);
    CHECK(strcmp(http_reason(299), "Unknown") == 0);
}

int main(int argc, char **argv)
{
    CHECK_MAIN_BEGIN(argc, argv);
    RUN(test_get_without_body_is_complete_at_blank_line);
    RUN(test_every_prefix_of_a_request_is_incomplete);
    RUN(test_pipelined_requests_are_taken_one_at_a_time_in_order);
    RUN(test_chunked_body_is_decoded_in_place);
    RUN(test_connection_header_and_http10_set_keep_alive);
    RUN(test_leading_empty_lines_are_skipped);
    RUN(test_malformed_input_is_refused_with_its_status);
    RUN(test_oversized_header_block_is_431_and_long_target_414);
    RUN(test_reason_phrases);
    CHECK_MAIN_END();
}
