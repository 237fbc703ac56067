/* fuzz_rest.c - libFuzzer target for bourse-rest's input path, no engine
 * needed: the HTTP/1.1 parser (gateways/rest/http.c) and the JSON bodies
 * that become matcher commands (request.c), against a fixed BTC-USD market.
 * The first byte picks the path:
 *   0       the bytes are a connection's stream: requests are parsed one
 *           after the other as the server does; each complete request's body
 *           also goes through request_new_order
 *   1..7    the rest is a JSON body for request_new_order, amend, add-asset,
 *           add-instrument, add-account, deposit, key
 *   8       the rest is a query string for the book and orders parameters
 *   9       the rest is a run of event records collected and answered
 * Invariants: the parser's return is one of its documented values and
 * never reads past the input; an accepted command is of the right type and
 * length and its price and quantity lie on the grid; every refusal carries
 * a 4xx status and a code; answers are balanced JSON. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "http.h"
#include "jsonw.h"
#include "proto.h"
#include "refdata.h"
#include "request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static refdata_t rd;
static int rd_ready;

static void market(void)
{
    refdata_init(&rd);
    cmd_add_asset_t btc = {.name = "BTC", .asset = 1, .decimals = 8};
    cmd_add_asset_t usd = {.name = "USD", .asset = 2, .decimals = 2};
    refdata_add_asset(&rd, &btc);
    refdata_add_asset(&rd, &usd);
    evt_instrument_t in = {.def = {.symbol = "BTC-USD", .instrument = 1, .base = 1, .quote = 2, .band_bps = 1000,
                                   .tick_size = 100, .lot_size = 1000000, .min_qty = 1000000,
                                   .max_qty = 10000000000, .ref_price = 6000000}};
    refdata_add_instrument(&rd, &in);
    rd_ready = 1;
}

static void check_refusal(const rest_err_t *e)
{
    if (e->status < 400 || e->status > 499 || e->code == NULL || e->code[0] == '\0' ||
        strnlen(e->message, sizeof(e->message)) == sizeof(e->message))
        abort();
}

static void check_order(const rec_t *r)
{
    if (r->type != CMD_NEW_ORDER || r->len != sizeof(cmd_new_order_t))
        abort();
    cmd_new_order_t c;
    memcpy(&c, r->payload, sizeof(c));
    if (c.instrument != 1 || c.account != 5 || c.price <= 0 || c.price % 100 != 0 || c.qty <= 0 ||
        c.qty % 1000000 != 0 || c.side > 1 || c.type > 1 || c.tif > 3 || c.stp > 3 || (c.flags & ~ORDF_POST_ONLY))
        abort();
    if ((c.expire_ns != 0) != (c.tif == TIF_GTD))
        abort();
}

static void body_paths(unsigned which, const char *s, size_t n)
{
    rec_t r;
    rest_err_t e;
    int rc = 0;
    const rd_instrument_t *in = refdata_instrument(&rd, 1);
    auth_role_t role;
    uint32_t account;
    switch (which) {
    case 1:
        rc = request_new_order(&rd, 5, s, n, &r, &e);
        if (rc == 0)
            check_order(&r);
        break;
    case 2:
        rc = request_amend(in, 5, 9, 0, s, n, &r, &e);
        if (rc == 0 && (r.type != CMD_AMEND || r.len != sizeof(cmd_amend_t)))
            abort();
        break;
    case 3: rc = request_add_asset(&rd, s, n, &r, &e); break;
    case 4: rc = request_add_instrument(&rd, s, n, &r, &e); break;
    case 5: rc = request_add_account(s, n, &r, &e); break;
    case 6: rc = request_funds(&rd, CMD_DEPOSIT, s, n, &r, &e); break;
    default: rc = request_key(s, n, &role, &account, &e); break;
    }
    if (rc != 0 && rc != -1)
        abort();
    if (rc < 0)
        check_refusal(&e);
}

static void stream(uint8_t *buf, size_t len)
{
    static const http_limits_t lim = {.header_bytes = 2048, .body_bytes = 1024};
    size_t off = 0;
    while (off < len) {
        http_request_t req;
        int n = http_parse((char *)buf + off, len - off, &lim, &req);
        if (n == 0)
            return;
        if (n < 0) {
            int st = -n;
            if (st < 400 || st > 505 || req.error == NULL)
                abort();
            return;
        }
        if ((size_t)n > len - off || req.method_len == 0 || req.target_len == 0 || req.target[0] != '/' ||
            req.path_len > req.target_len || req.body_len > lim.body_bytes || req.header_bytes > (uint32_t)n)
            abort();
        if (req.body_len > 0) {
            if (req.body < (const char *)buf + off || req.body + req.body_len > (const char *)buf + off + (size_t)n)
                abort();
            body_paths(1, req.body, req.body_len);
        }
        off += (size_t)n;
    }
}

static void queries(const char *s, size_t n)
{
    query_arg_t a[] = {{.name = "symbol"}, {.name = "limit"}, {.name = "after"}, {.name = "depth"}};
    rest_err_t e;
    if (request_query(s, n, a, 4, &e) < 0) {
        check_refusal(&e);
        return;
    }
    uint64_t v;
    for (unsigned i = 1; i < 4; i++)
        if (request_query_uint(&a[i], 1, 1000, 20, &v, &e) == 0 && (v < 1 || v > 1000))
            abort();
    uint64_t id;
    if (request_id(s, n, "order_id", &id, &e) == 0 && id == 0)
        abort();
}

static void answers(const uint8_t *p, size_t n)
{
    collect_t c;
    collect_init(&c);
    collect_reset(&c, 64, p[0] & 1);
    static const uint16_t types[] = {EVT_ACCEPTED, EVT_REJECTED, EVT_TRADE, EVT_CANCELLED, EVT_REPLACED, EVT_BOOK,
                                     EVT_BALANCE, EVT_ADMIN, EVT_Q_LEVEL, EVT_Q_BALANCE, EVT_Q_ORDER, EVT_Q_END};
    /* each record: a type byte, then up to 88 payload bytes */
    size_t i = 1;
    while (i < n) {
        rec_t r;
        memset(&r, 0, sizeof(r));
        r.type = types[p[i] % (sizeof(types) / sizeof(types[0]))];
        size_t k = n - i - 1 < sizeof(r.payload) ? n - i - 1 : sizeof(r.payload);
        memcpy(r.payload, p + i + 1, k);
        r.len = (uint16_t)k;
        collect_add(&c, &r);
        i += 1 + k;
    }
    jw_t w;
    jw_init(&w);
    const rd_instrument_t *in = refdata_instrument(&rd, 1);
    rec_t cmd;
    memset(&cmd, 0, sizeof(cmd));
    cmd.type = CMD_DEPOSIT;
    int st[] = {answer_order(&w, &rd, CMD_NEW_ORDER, &c, 1), answer_order(&w, &rd, CMD_AMEND, &c, 1),
                answer_order(&w, &rd, CMD_CANCEL, &c, 1), answer_mass_cancel(&w, &rd, &c, 1),
                answer_open_order(&w, &rd, &c, 1), answer_open_orders(&w, &rd, &c, TC_ANY, 1),
                answer_balances(&w, &rd, &c, 1), answer_book(&w, in, &c, 1), answer_admin(&w, &rd, &cmd, &c, 1)};
    for (size_t k = 0; k < sizeof(st) / sizeof(st[0]); k++)
        if (st[k] < 200 || st[k] > 599)
            abort();
    if (!jw_ok(&w) || w.buf == NULL || w.buf[0] != '{' || w.buf[w.len - 1] != '}')
        abort();
    jw_free(&w);
    collect_free(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!rd_ready)
        market();
    if (size == 0)
        return 0;
    unsigned which = data[0] % 10;
    /* a private copy: chunked bodies are decoded in place, and the fuzzer's
     * buffer is read-only; exact size, so ASan sees any overread */
    uint8_t *copy = malloc(size - 1 ? size - 1 : 1);
    if (copy == NULL)
        return 0;
    memcpy(copy, data + 1, size - 1);
    if (which == 0)
        stream(copy, size - 1);
    else if (which <= 7)
        body_paths(which, (const char *)copy, size - 1);
    else if (which == 8)
        queries((const char *)copy, size - 1);
    else if (size > 1)
        answers(copy, size - 1);
    free(copy);
    return 0;
}
