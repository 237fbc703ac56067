/* entry.c - order entry over bourse-ws (the optional part of issue 7): an
 * authenticated trader key places and cancels its account's orders with
 *   {"op":"order", "symbol", "side", "price", "qty", "type"?, "tif"?, "post_only"?, "client_order_id"?, "id"?}
 *   {"op":"cancel", "order_id" | "client_order_id", "id"?}
 * checked as bourse-rest checks them (decimals at the instrument's scales,
 * on its tick and lot grids), sent through the engine link with a tag
 * naming the session, and answered on the socket, once the engine's answer
 * is complete and durable (as bourse-rest's acks), with
 *   {"type":"order-ack", "id", "cmd_seq", "order_id", "client_order_id", "symbol", "side", "price", "qty",
 *    "filled_qty", "fills", "status": open | partially-filled | filled | cancelled | partially-filled-cancelled}
 *   {"type":"cancel-ack", "id", "cmd_seq", "order_id", "client_order_id", "symbol", "cancelled_qty"}
 * or an error frame whose code is the matcher's reason ("insufficient-balance"). */
#include "ws_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "decimal.h"

/* A decimal field at scale, on a grid of step. Returns 0, or -1 with an error sent. */
static int decimal_field(ws_t *w, session_t *s, const ws_req_t *r, const char *what, const char *text, unsigned scale,
                         int64_t step, int64_t *out)
{
    char code[32], m[160];
    int rc = dec_parse(text, strlen(text), scale, out);
    if (rc == -EDOM) {
        snprintf(code, sizeof(code), "%s-off-%s", what, what[0] == 'p' ? "tick" : "lot");
        snprintf(m, sizeof(m), "%s has more decimals than the instrument's %u", what, scale);
    } else if (rc < 0) {
        snprintf(code, sizeof(code), "bad-%s", what);
        snprintf(m, sizeof(m), "%s must be a decimal string such as \"12.50\"%s", what,
                 rc == -ERANGE ? " (this one is too large)" : "");
    } else if (*out <= 0) {
        snprintf(code, sizeof(code), "%s-not-positive", what);
        snprintf(m, sizeof(m), "%s must be above zero", what);
    } else if (*out % step != 0) {
        snprintf(code, sizeof(code), "%s-off-%s", what, what[0] == 'p' ? "tick" : "lot");
        snprintf(m, sizeof(m), "%s is not a multiple of the instrument's %s size", what, what[0] == 'p' ? "tick" : "lot");
    } else {
        return 0;
    }
    session_error(w, s->id, r->id, code, m);
    return -1;
}

static pending_t *pending_slot(session_t *s)
{
    for (int i = 0; i < SESSION_PENDING_MAX; i++)
        if (s->pend[i].tag == 0)
            return &s->pend[i];
    return NULL;
}

static void pending_free(ws_t *w, session_t *s, pending_t *p)
{
    p->tag = 0;
    s->npend--;
    w->npending--;
}

/* An order or a cancel: checked here as bourse-rest checks it, then sent. */
void entry_command(ws_t *w, session_t *s, const ws_req_t *r)
{
    if (!s->authed) {
        session_error(w, s->id, r->id, "auth-required", "orders need an authenticated connection (op auth)");
        return;
    }
    if (!auth_role_permits(s->role, AUTH_ROLE_TRADER)) {
        session_error(w, s->id, r->id, "forbidden-role", "this API key's role may not place or cancel orders");
        return;
    }
    pending_t *p = pending_slot(s);
    if (p == NULL) {
        session_error(w, s->id, r->id, "too-many-pending", "at most 8 commands a connection await the engine");
        return;
    }
    rec_t cmd;
    memset(&cmd, 0, sizeof(cmd));
    pending_t np = {.type = r->op == WSOP_ORDER ? CMD_NEW_ORDER : CMD_CANCEL};
    if (r->op == WSOP_ORDER) {
        sym_t *sym = ws_sym_by_name(w, r->symbol);
        if (sym == NULL) {
            session_error(w, s->id, r->id, "unknown-symbol", "no instrument has this symbol");
            return;
        }
        cmd_new_order_t o = {.client_order_id = r->client_order_id, .account = s->account, .instrument = sym->id,
                             .side = r->side, .type = r->type, .tif = r->tif,
                             .flags = r->post_only ? ORDF_POST_ONLY : 0};
        if (decimal_field(w, s, r, "price", r->price, sym->price_scale, sym->tick, &o.price) < 0 ||
            decimal_field(w, s, r, "qty", r->qty, sym->qty_scale, sym->lot, &o.qty) < 0)
            return;
        cmd.type = CMD_NEW_ORDER;
        cmd.len = sizeof(o);
        memcpy(cmd.payload, &o, sizeof(o));
        np.instrument = sym->id;
        np.price = o.price;
        np.qty = o.qty;
        np.side = o.side;
        np.client_order_id = o.client_order_id;
    } else {
        cmd_cancel_t c = {.order_id = r->order_id, .client_order_id = r->client_order_id, .account = s->account};
        cmd.type = CMD_CANCEL;
        cmd.len = sizeof(c);
        memcpy(cmd.payload, &c, sizeof(c));
        np.order_id = r->order_id;
        np.client_order_id = r->client_order_id;
    }
    int rc = ws_submit(w, &cmd, WSC_INDEX(s->id), &np.tag);
    if (rc == -EAGAIN) {
        session_error(w, s->id, r->id, "engine-busy", "the engine's command ring is full: retry shortly");
        return;
    }
    if (rc < 0) {
        session_error(w, s->id, r->id, "engine-unavailable", "the gateway is not attached to a running engine");
        return;
    }
    memcpy(np.id, r->id, sizeof(np.id));
    *p = np;
    s->npend++;
    w->npending++;
}

static session_t *sess_at(ws_t *w, uint32_t i)
{
    return i < w->cfg.max_connections && w->sess[i].id != 0 ? &w->sess[i] : NULL;
}

/* The answer of a complete, durable command. */
static void answer(ws_t *w, session_t *s, pending_t *p)
{
    if (p->rejected) {
        char m[96];
        snprintf(m, sizeof(m), "the engine refused the command: %s", ws_reason_name(p->reject));
        session_error(w, s->id, p->id, ws_reason_name(p->reject), m);
        return;
    }
    sym_t *sym = ws_sym_by_id(w, p->instrument);
    unsigned ps = sym ? sym->price_scale : 0, qs = sym ? sym->qty_scale : 0;
    jw_t *j = &w->jw;
    jw_reset(j);
    jw_obj(j, NULL);
    jw_str(j, "type", p->type == CMD_NEW_ORDER ? "order-ack" : "cancel-ack");
    session_put_id(j, p->id);
    jw_u64(j, "cmd_seq", p->cmd_seq);
    jw_u64s(j, "order_id", p->order_id);
    session_opt_id(j, "client_order_id", p->client_order_id);
    if (sym)
        jw_str(j, "symbol", sym->symbol);
    else
        jw_null(j, "symbol");
    if (p->type == CMD_NEW_ORDER) {
        jw_str(j, "side", ws_side_name(p->side));
        jw_dec(j, "price", p->price, ps);
        jw_dec(j, "qty", p->qty, qs);
        jw_dec(j, "filled_qty", p->filled, qs);
        jw_u64(j, "fills", p->fills);
        const char *status = p->filled == p->qty ? "filled"
                             : p->cancelled > 0  ? (p->filled > 0 ? "partially-filled-cancelled" : "cancelled")
                             : p->filled > 0     ? "partially-filled"
                                                 : "open";
        jw_str(j, "status", status);
    } else {
        jw_dec(j, "cancelled_qty", p->cancelled, qs);
    }
    jw_obj_end(j);
    session_send_jw(w, s->id);
}

/* The pending command of tag; NULL when its client left. */
static pending_t *pending_of(ws_t *w, uint64_t tag, session_t **s)
{
    *s = sess_at(w, (uint32_t)(tag & ((1u << WS_CMD_INDEX_BITS) - 1)));
    for (int i = 0; *s != NULL && i < SESSION_PENDING_MAX; i++)
        if ((*s)->pend[i].tag == tag)
            return &(*s)->pend[i];
    return NULL;
}

void entry_event(ws_t *w, uint64_t tag, const rec_t *ev)
{
    session_t *s;
    pending_t *p = pending_of(w, tag, &s);
    if (p == NULL || p->done)
        return; /* its client left */
    switch (ev->type) {
    case EVT_ACCEPTED: {
        evt_accepted_t a;
        memcpy(&a, ev->payload, sizeof(a));
        if (p->order_id == 0)
            p->order_id = a.order_id;
        break;
    }
    case EVT_TRADE: {
        evt_trade_t t;
        memcpy(&t, ev->payload, sizeof(t));
        if (t.taker_order_id == p->order_id) {
            p->filled += t.qty;
            p->fills++;
        }
        break;
    }
    case EVT_CANCELLED: {
        evt_cancelled_t c;
        memcpy(&c, ev->payload, sizeof(c));
        if (p->type == CMD_CANCEL && p->cancelled == 0) {
            p->order_id = c.order_id;
            p->client_order_id = c.client_order_id;
            p->instrument = c.instrument;
            p->cancelled = c.qty;
        } else if (c.order_id == p->order_id) {
            p->cancelled = c.qty;
        }
        break;
    }
    case EVT_REJECTED: {
        evt_rejected_t j;
        memcpy(&j, ev->payload, sizeof(j));
        p->rejected = true;
        p->reject = j.reason;
        break;
    }
    default:
        break;
    }
    if (!(ev->flags & REC_LAST))
        return;
    p->done = true;
    p->cmd_seq = ev->cmd_seq;
    /* durable already: the ack goes before the streams hear of the command's
     * last event (the link's on_done would come after them) */
    if (client_durable_seq(link_client(w->link)) >= p->cmd_seq) {
        answer(w, s, p);
        pending_free(w, s, p);
    }
}

void entry_done(ws_t *w, uint64_t tag, int status)
{
    session_t *s;
    pending_t *p = pending_of(w, tag, &s);
    if (p == NULL || status == -ESTALE)
        return; /* answered, its client left, or entry_fail's */
    if (status == 0)
        answer(w, s, p);
    else
        session_error(w, s->id, p->id, "engine-timeout",
                      "no answer from the engine in time; the command may still take effect: query it");
    pending_free(w, s, p);
}

void entry_fail(ws_t *w)
{
    for (uint32_t i = 0; i < w->cfg.max_connections && w->npending > 0; i++) {
        session_t *s = &w->sess[i];
        for (int k = 0; s->npend > 0 && k < SESSION_PENDING_MAX; k++) {
            if (s->pend[k].tag == 0)
                continue;
            session_error(w, s->id, s->pend[k].id, "engine-unavailable",
                          "the engine went away before answering; the command may have taken effect");
            pending_free(w, s, &s->pend[k]);
        }
    }
}

void entry_forget(ws_t *w, session_t *s)
{
    for (int k = 0; s->npend > 0 && k < SESSION_PENDING_MAX; k++)
        if (s->pend[k].tag != 0)
            pending_free(w, s, &s->pend[k]);
}
