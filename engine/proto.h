/* proto.h - the matcher's commands and events: what clients ask and what the
 * engine answers. These structs are record payloads (they travel on command
 * rings, in the event log and in the journal), so they are fixed-width, padded
 * explicitly and checked at compile time.
 *
 * Units: prices are integers in the instrument's price unit (quote-asset minor
 * units per whole base unit) and must sit on the tick grid; quantities are
 * base-asset minor units on the lot grid; amounts are minor units of their
 * asset. Decimals exist only in the gateways. */
#ifndef BOURSE_PROTO_H
#define BOURSE_PROTO_H

#include <stddef.h>
#include <stdint.h>

/* The version of every layout in this file and of the journal record
 * (recover_cmd_t), and of what the commands mean. It travels in the segment
 * header, in every journal file header and in every snapshot header: a
 * process or a file of another version is refused, never misread. Any change
 * to a payload's layout, or to what a command does with the same bytes, bumps
 * it (tests/engine/test_proto.c holds each version's layout fingerprint and
 * fails when the layout changes under the same number). */
#define PROTO_VERSION 1u

/* ---------------------------------------------------------------- enums */

enum side { SIDE_BUY = 0, SIDE_SELL = 1 };

enum order_type { ORD_LIMIT = 0, ORD_MARKET = 1 };

enum tif {
    TIF_GTC = 0,   /* rests until filled or cancelled */
    TIF_IOC = 1,   /* fills what it can now, the rest is cancelled */
    TIF_FOK = 2,   /* fills completely now or not at all (decided before any fill) */
    TIF_GTD = 3,   /* rests until expire_ns (engine time) */
};

/* Self-trade prevention: what happens when an order would trade against
 * another order of the same account. The incoming order's mode decides. */
enum stp {
    STP_CANCEL_NEWEST = 0, /* cancel the incoming order's remainder */
    STP_CANCEL_OLDEST = 1, /* cancel the resting order, keep matching */
    STP_CANCEL_BOTH = 2,
    STP_DECREMENT = 3,     /* reduce both by the smaller quantity; cancel what reaches zero */
};

enum order_flags { ORDF_POST_ONLY = 1u << 0 };

/* Why a command was refused. Stable numbers: gateways map them to messages. */
enum reject_reason {
    REJ_NONE = 0,
    REJ_UNKNOWN_COMMAND = 1,
    REJ_BAD_LENGTH = 2,
    REJ_UNKNOWN_INSTRUMENT = 3,
    REJ_UNKNOWN_ACCOUNT = 4,
    REJ_UNKNOWN_ASSET = 5,
    REJ_UNKNOWN_ORDER = 6,
    REJ_INSTRUMENT_HALTED = 7,
    REJ_BAD_SIDE = 8,
    REJ_BAD_TYPE = 9,
    REJ_BAD_TIF = 10,
    REJ_BAD_STP = 11,
    REJ_BAD_FLAGS = 12,
    REJ_QTY_NOT_POSITIVE = 13,
    REJ_QTY_OFF_LOT = 14,
    REJ_QTY_BELOW_MIN = 15,
    REJ_QTY_ABOVE_MAX = 16,
    REJ_PRICE_NOT_POSITIVE = 17,
    REJ_PRICE_OFF_TICK = 18,
    REJ_PRICE_OUT_OF_BAND = 19,
    REJ_OVERFLOW = 20,              /* price x quantity, or the total of the level it would rest at, past int64 */
    REJ_INSUFFICIENT_BALANCE = 21,
    REJ_DUPLICATE_CLIENT_ORDER_ID = 22,
    REJ_POST_ONLY_WOULD_TAKE = 23,
    REJ_FOK_NOT_FILLABLE = 24,
    REJ_GTD_EXPIRED = 25,          /* expire_ns missing or not after the command's time */
    REJ_MARKET_NO_PROTECTION = 26, /* market orders must carry a protection price */
    REJ_ORDERS_FULL = 27,          /* order pool at capacity */
    REJ_BOOK_FULL = 28,            /* price-level capacity of the side reached */
    REJ_ACCOUNT_ORDERS_FULL = 29,  /* the account's open-order limit */
    REJ_EXISTS = 30,               /* add of an instrument, asset or account that exists */
    REJ_BAD_INSTRUMENT = 31,       /* inconsistent instrument definition */
    REJ_CAPACITY = 32,             /* asset, account or instrument table full */
    REJ_AMOUNT_NOT_POSITIVE = 33,
    REJ_BAD_FEE = 34,
    REJ_NOT_HALTED = 35,
    REJ_ALREADY_HALTED = 36,
    REJ_AMEND_NO_CHANGE = 37,
    REJ_BAD_ASSET = 38,
    REJ_BAD_LIMIT = 39,            /* a query's depth or page size is 0 or above its maximum */
    REJ_REASON_MAX
};

enum cancel_reason {
    CXL_USER = 1,
    CXL_IOC_REMAINDER = 2,  /* IOC or market remainder: nothing more at acceptable prices */
    CXL_STP = 3,
    CXL_EXPIRED = 4,
    CXL_MASS = 5,
    CXL_PROTECTION = 6,     /* market order stopped by its protection price */
};

/* ---------------------------------------------------------------- commands */

enum cmd_type_matcher {
    CMD_NEW_ORDER = 2,
    CMD_CANCEL = 3,
    CMD_AMEND = 4,
    CMD_MASS_CANCEL = 5,
    CMD_TIMER = 6,          /* engine-made: expire GTD orders up to the command's time */
    CMD_RESIZE = 7,         /* engine-made: the matcher's capacities grow (cmd_resize_t) */
    /* Queries change nothing. They are sequenced like every command, so their
     * answer is the state after every command before them and before every
     * command after them: a reader applies the events with a higher cmd_seq
     * on top of it. Answers go to the event log, ending with EVT_Q_END. */
    CMD_QUERY_BOOK = 8,
    CMD_QUERY_ACCOUNT = 9,
    CMD_QUERY_ORDER = 10,
    CMD_QUERY_REFDATA = 11, /* every asset and instrument */
    CMD_SNAPSHOT = 12,      /* the engine writes a snapshot of the state after it (EVT_ADMIN) */
    CMD_QUERY_DIGEST = 13,  /* EVT_Q_DIGEST: the state's digest, for replay checks */
    CMD_ADD_ASSET = 16,
    CMD_ADD_INSTRUMENT = 17,
    CMD_HALT = 18,
    CMD_RESUME = 19,
    CMD_ADD_ACCOUNT = 20,
    CMD_DEPOSIT = 21,
    CMD_WITHDRAW = 22,
    CMD_SET_FEE_TIER = 23,  /* an account's tier */
    CMD_DEFINE_FEE_TIER = 24,
};

typedef struct cmd_new_order {
    uint64_t client_order_id;   /* unique per account among live orders; 0: none */
    int64_t price;              /* limit price; for a market order its protection price */
    int64_t qty;
    uint64_t expire_ns;         /* TIF_GTD only */
    uint32_t account;
    uint32_t instrument;
    uint8_t side, type, tif, stp;
    uint8_t flags;              /* enum order_flags */
    uint8_t pad[3];
} cmd_new_order_t;

typedef struct cmd_cancel {
    uint64_t order_id;          /* 0: use client_order_id */
    uint64_t client_order_id;
    uint32_t account;           /* must own the order */
    uint32_t pad;
} cmd_cancel_t;

/* Cancel-replace. new_qty is the new open quantity: a decrease at the same price
 * keeps time priority; a price change or an increase loses it. */
typedef struct cmd_amend {
    uint64_t order_id;          /* 0: use client_order_id */
    uint64_t client_order_id;
    int64_t new_price;
    int64_t new_qty;
    uint32_t account;
    uint32_t pad;
} cmd_amend_t;

typedef struct cmd_mass_cancel {
    uint32_t account;
    uint32_t instrument;        /* UINT32_MAX: every instrument */
} cmd_mass_cancel_t;

typedef struct cmd_add_asset {
    char name[16];
    uint32_t asset;
    uint8_t decimals;           /* minor units per whole unit: 10^decimals */
    uint8_t pad[3];
} cmd_add_asset_t;

typedef struct cmd_add_instrument {
    char symbol[16];
    uint32_t instrument;
    uint32_t base, quote;       /* assets */
    uint32_t band_bps;          /* orders priced beyond ref_price +/- band are refused; 0: no band */
    int64_t tick_size;          /* price unit */
    int64_t lot_size;           /* base minor units */
    int64_t min_qty, max_qty;
    int64_t ref_price;          /* band centre until the first trade; then the last trade price */
} cmd_add_instrument_t;

typedef struct cmd_instrument {
    uint32_t instrument;        /* CMD_HALT, CMD_RESUME */
    uint32_t pad;
} cmd_instrument_t;

typedef struct cmd_account {
    uint32_t account;           /* CMD_ADD_ACCOUNT, CMD_SET_FEE_TIER */
    uint32_t fee_tier;
} cmd_account_t;

typedef struct cmd_funds {
    uint32_t account;           /* CMD_DEPOSIT, CMD_WITHDRAW */
    uint32_t asset;
    int64_t amount;
} cmd_funds_t;

typedef struct cmd_fee_tier {
    uint32_t tier;
    int32_t maker_bps, taker_bps; /* 0..1000 */
    uint32_t pad;
} cmd_fee_tier_t;

/* CMD_RESIZE, engine-made (src SRC_ENGINE; refused from anyone else): from
 * this seq on the matcher has these capacities, its state unchanged. The
 * engine sequences one at start when its [matcher] config grows a capacity
 * of the history it recovered, so that every replay grows it at the same
 * seq. Answered with EVT_ADMIN (the payload echoed). */
typedef struct cmd_resize {
    uint32_t max_orders;
    uint32_t max_gtd;
    uint32_t max_accounts;
    uint32_t max_assets;
    uint32_t max_instruments;
    uint32_t max_levels;
    uint32_t max_account_orders;
    uint32_t pad;
} cmd_resize_t;

enum { QUERY_DEPTH_MAX = 1000, QUERY_ORDERS_MAX = 1000 };

typedef struct cmd_query_book {
    uint32_t instrument;
    uint32_t depth;             /* levels per side, 1..QUERY_DEPTH_MAX */
} cmd_query_book_t;

enum query_account_what { QUERY_BALANCES = 1u << 0, QUERY_ORDERS = 1u << 1 };

/* An account's balances and a page of its open orders, oldest first. Orders
 * come in increasing id order, so the next page starts after the last id. */
typedef struct cmd_query_account {
    uint64_t after_order_id;    /* orders with a larger id only; 0: from the oldest */
    uint32_t account;
    uint32_t limit;             /* orders in this page, 1..QUERY_ORDERS_MAX */
    uint8_t what;               /* enum query_account_what; 0: both */
    uint8_t pad[7];
} cmd_query_account_t;

/* One resting order of an account, by id or client order id. */
typedef cmd_cancel_t cmd_query_order_t;

/* ---------------------------------------------------------------- events */

/* src of the commands the engine makes itself (GTD timers). */
enum { SRC_ENGINE = 0xffff };

enum evt_type_matcher {
    EVT_ACCEPTED = 0x8010,
    EVT_REJECTED = 0x8011,
    EVT_TRADE = 0x8012,
    EVT_CANCELLED = 0x8013,
    EVT_REPLACED = 0x8014,
    EVT_BOOK = 0x8015,
    EVT_BALANCE = 0x8016,
    EVT_ADMIN = 0x8017,         /* an admin command took effect: its payload echoed */
    /* Answers to queries; src says who asked. */
    EVT_Q_LEVEL = 0x8018,       /* evt_book_t: one level, best first, bids then asks */
    EVT_Q_BALANCE = 0x8019,     /* evt_balance_t: one asset of the account */
    EVT_Q_ORDER = 0x801a,       /* evt_accepted_t: a resting order, qty = open quantity */
    EVT_Q_ASSET = 0x801b,       /* cmd_add_asset_t */
    EVT_Q_INSTRUMENT = 0x801c,  /* evt_instrument_t */
    EVT_Q_END = 0x801d,         /* evt_query_end_t: the answer is complete */
    EVT_Q_DIGEST = 0x801e,      /* evt_digest_t */
};

typedef struct evt_accepted {
    uint64_t order_id;
    uint64_t client_order_id;
    int64_t price;
    int64_t qty;
    uint64_t expire_ns;
    uint32_t account;
    uint32_t instrument;
    uint8_t side, type, tif, stp;
    uint8_t flags;
    uint8_t pad[3];
} evt_accepted_t;

/* The account of a refusal whose command could not be read (too long, or a
 * timer from outside the engine): it names no account, not account 0 (the
 * fee account), whose private streams would otherwise show it. */
#define PROTO_NO_ACCOUNT UINT32_MAX

typedef struct evt_rejected {
    uint64_t client_order_id;   /* of the refused command, when it had one */
    uint64_t order_id;          /* cancel and amend: the target */
    uint32_t account;           /* PROTO_NO_ACCOUNT when the command could not be read */
    uint16_t cmd_type;
    uint16_t reason;            /* enum reject_reason */
} evt_rejected_t;

typedef struct evt_trade {
    uint64_t trade_id;
    uint64_t maker_order_id;
    uint64_t taker_order_id;
    int64_t price;              /* the maker's price */
    int64_t qty;
    int64_t maker_fee;          /* quote minor units */
    int64_t taker_fee;
    uint32_t maker_account;
    uint32_t taker_account;
    uint32_t instrument;
    uint8_t taker_side;
    uint8_t maker_done;         /* the maker order is fully filled */
    uint8_t pad[2];
} evt_trade_t;

typedef struct evt_cancelled {
    uint64_t order_id;
    uint64_t client_order_id;
    int64_t qty;                /* open quantity that was cancelled */
    uint32_t account;
    uint32_t instrument;
    uint8_t reason;             /* enum cancel_reason */
    uint8_t side;
    uint8_t pad[6];
} evt_cancelled_t;

typedef struct evt_replaced {
    uint64_t order_id;
    uint64_t client_order_id;
    int64_t price;
    int64_t qty;                /* new open quantity */
    uint32_t account;
    uint32_t instrument;
    uint8_t kept_priority;
    uint8_t side;
    uint8_t pad[6];
} evt_replaced_t;

typedef struct evt_book {
    int64_t price;
    int64_t qty;                /* new total at the level; 0: level gone */
    uint32_t orders;            /* orders at the level */
    uint32_t instrument;
    uint8_t side;
    uint8_t pad[7];
} evt_book_t;

typedef struct evt_balance {
    int64_t available;          /* new values, not deltas */
    int64_t held;
    uint32_t account;
    uint32_t asset;
} evt_balance_t;

typedef struct evt_instrument {
    cmd_add_instrument_t def;   /* ref_price: the band centre now */
    uint8_t halted;
    uint8_t pad[7];
} evt_instrument_t;

typedef struct evt_query_end {
    uint64_t next_after;        /* CMD_QUERY_ACCOUNT with more orders: after_order_id of the next page */
    uint32_t count;             /* records in the answer before this one */
    uint16_t cmd_type;
    uint8_t more;               /* the page was full and more orders follow */
    uint8_t pad;
} evt_query_end_t;

typedef struct evt_digest {
    uint64_t digest;            /* matcher_digest() after every command before this one */
    uint64_t resting;           /* orders resting */
} evt_digest_t;

/* The largest payload: records must hold it. */
#define PROTO_PAYLOAD_MAX 88

/* Every field other processes and the journal read sits where version
 * PROTO_VERSION says: a change here is a new version. */
#define PROTO_AT(t, f, off) _Static_assert(offsetof(t, f) == (off), #t "." #f " offset")
PROTO_AT(cmd_new_order_t, client_order_id, 0);
PROTO_AT(cmd_new_order_t, price, 8);
PROTO_AT(cmd_new_order_t, qty, 16);
PROTO_AT(cmd_new_order_t, expire_ns, 24);
PROTO_AT(cmd_new_order_t, account, 32);
PROTO_AT(cmd_new_order_t, instrument, 36);
PROTO_AT(cmd_new_order_t, side, 40);
PROTO_AT(cmd_new_order_t, type, 41);
PROTO_AT(cmd_new_order_t, tif, 42);
PROTO_AT(cmd_new_order_t, stp, 43);
PROTO_AT(cmd_new_order_t, flags, 44);
PROTO_AT(cmd_cancel_t, order_id, 0);
PROTO_AT(cmd_cancel_t, client_order_id, 8);
PROTO_AT(cmd_cancel_t, account, 16);
PROTO_AT(cmd_amend_t, order_id, 0);
PROTO_AT(cmd_amend_t, client_order_id, 8);
PROTO_AT(cmd_amend_t, new_price, 16);
PROTO_AT(cmd_amend_t, new_qty, 24);
PROTO_AT(cmd_amend_t, account, 32);
PROTO_AT(cmd_mass_cancel_t, account, 0);
PROTO_AT(cmd_mass_cancel_t, instrument, 4);
PROTO_AT(cmd_add_asset_t, name, 0);
PROTO_AT(cmd_add_asset_t, asset, 16);
PROTO_AT(cmd_add_asset_t, decimals, 20);
PROTO_AT(cmd_add_instrument_t, symbol, 0);
PROTO_AT(cmd_add_instrument_t, instrument, 16);
PROTO_AT(cmd_add_instrument_t, base, 20);
PROTO_AT(cmd_add_instrument_t, quote, 24);
PROTO_AT(cmd_add_instrument_t, band_bps, 28);
PROTO_AT(cmd_add_instrument_t, tick_size, 32);
PROTO_AT(cmd_add_instrument_t, lot_size, 40);
PROTO_AT(cmd_add_instrument_t, min_qty, 48);
PROTO_AT(cmd_add_instrument_t, max_qty, 56);
PROTO_AT(cmd_add_instrument_t, ref_price, 64);
PROTO_AT(cmd_instrument_t, instrument, 0);
PROTO_AT(cmd_account_t, account, 0);
PROTO_AT(cmd_account_t, fee_tier, 4);
PROTO_AT(cmd_funds_t, account, 0);
PROTO_AT(cmd_funds_t, asset, 4);
PROTO_AT(cmd_funds_t, amount, 8);
PROTO_AT(cmd_fee_tier_t, tier, 0);
PROTO_AT(cmd_fee_tier_t, maker_bps, 4);
PROTO_AT(cmd_fee_tier_t, taker_bps, 8);
PROTO_AT(cmd_resize_t, max_orders, 0);
PROTO_AT(cmd_resize_t, max_gtd, 4);
PROTO_AT(cmd_resize_t, max_accounts, 8);
PROTO_AT(cmd_resize_t, max_assets, 12);
PROTO_AT(cmd_resize_t, max_instruments, 16);
PROTO_AT(cmd_resize_t, max_levels, 20);
PROTO_AT(cmd_resize_t, max_account_orders, 24);
PROTO_AT(cmd_query_book_t, instrument, 0);
PROTO_AT(cmd_query_book_t, depth, 4);
PROTO_AT(cmd_query_account_t, after_order_id, 0);
PROTO_AT(cmd_query_account_t, account, 8);
PROTO_AT(cmd_query_account_t, limit, 12);
PROTO_AT(cmd_query_account_t, what, 16);
PROTO_AT(evt_accepted_t, order_id, 0);
PROTO_AT(evt_accepted_t, client_order_id, 8);
PROTO_AT(evt_accepted_t, price, 16);
PROTO_AT(evt_accepted_t, qty, 24);
PROTO_AT(evt_accepted_t, expire_ns, 32);
PROTO_AT(evt_accepted_t, account, 40);
PROTO_AT(evt_accepted_t, instrument, 44);
PROTO_AT(evt_accepted_t, side, 48);
PROTO_AT(evt_accepted_t, type, 49);
PROTO_AT(evt_accepted_t, tif, 50);
PROTO_AT(evt_accepted_t, stp, 51);
PROTO_AT(evt_accepted_t, flags, 52);
PROTO_AT(evt_rejected_t, client_order_id, 0);
PROTO_AT(evt_rejected_t, order_id, 8);
PROTO_AT(evt_rejected_t, account, 16);
PROTO_AT(evt_rejected_t, cmd_type, 20);
PROTO_AT(evt_rejected_t, reason, 22);
PROTO_AT(evt_trade_t, trade_id, 0);
PROTO_AT(evt_trade_t, maker_order_id, 8);
PROTO_AT(evt_trade_t, taker_order_id, 16);
PROTO_AT(evt_trade_t, price, 24);
PROTO_AT(evt_trade_t, qty, 32);
PROTO_AT(evt_trade_t, maker_fee, 40);
PROTO_AT(evt_trade_t, taker_fee, 48);
PROTO_AT(evt_trade_t, maker_account, 56);
PROTO_AT(evt_trade_t, taker_account, 60);
PROTO_AT(evt_trade_t, instrument, 64);
PROTO_AT(evt_trade_t, taker_side, 68);
PROTO_AT(evt_trade_t, maker_done, 69);
PROTO_AT(evt_cancelled_t, order_id, 0);
PROTO_AT(evt_cancelled_t, client_order_id, 8);
PROTO_AT(evt_cancelled_t, qty, 16);
PROTO_AT(evt_cancelled_t, account, 24);
PROTO_AT(evt_cancelled_t, instrument, 28);
PROTO_AT(evt_cancelled_t, reason, 32);
PROTO_AT(evt_cancelled_t, side, 33);
PROTO_AT(evt_replaced_t, order_id, 0);
PROTO_AT(evt_replaced_t, client_order_id, 8);
PROTO_AT(evt_replaced_t, price, 16);
PROTO_AT(evt_replaced_t, qty, 24);
PROTO_AT(evt_replaced_t, account, 32);
PROTO_AT(evt_replaced_t, instrument, 36);
PROTO_AT(evt_replaced_t, kept_priority, 40);
PROTO_AT(evt_replaced_t, side, 41);
PROTO_AT(evt_book_t, price, 0);
PROTO_AT(evt_book_t, qty, 8);
PROTO_AT(evt_book_t, orders, 16);
PROTO_AT(evt_book_t, instrument, 20);
PROTO_AT(evt_book_t, side, 24);
PROTO_AT(evt_balance_t, available, 0);
PROTO_AT(evt_balance_t, held, 8);
PROTO_AT(evt_balance_t, account, 16);
PROTO_AT(evt_balance_t, asset, 20);
PROTO_AT(evt_instrument_t, def, 0);
PROTO_AT(evt_instrument_t, halted, 72);
PROTO_AT(evt_query_end_t, next_after, 0);
PROTO_AT(evt_query_end_t, count, 8);
PROTO_AT(evt_query_end_t, cmd_type, 12);
PROTO_AT(evt_query_end_t, more, 14);
PROTO_AT(evt_digest_t, digest, 0);
PROTO_AT(evt_digest_t, resting, 8);

_Static_assert(sizeof(cmd_new_order_t) == 48, "cmd_new_order layout");
_Static_assert(sizeof(cmd_cancel_t) == 24, "cmd_cancel layout");
_Static_assert(offsetof(cmd_cancel_t, order_id) == 0 && offsetof(cmd_amend_t, order_id) == 0,
               "matcher_prefetch reads the order id first");
_Static_assert(sizeof(cmd_amend_t) == 40, "cmd_amend layout");
_Static_assert(sizeof(cmd_add_instrument_t) == 72, "cmd_add_instrument layout");
_Static_assert(sizeof(cmd_add_asset_t) == 24, "cmd_add_asset layout");
_Static_assert(sizeof(cmd_funds_t) == 16, "cmd_funds layout");
_Static_assert(sizeof(evt_accepted_t) == 56, "evt_accepted layout");
_Static_assert(sizeof(evt_rejected_t) == 24, "evt_rejected layout");
_Static_assert(sizeof(evt_trade_t) == 72, "evt_trade layout");
_Static_assert(sizeof(evt_cancelled_t) == 40, "evt_cancelled layout");
_Static_assert(sizeof(evt_replaced_t) == 48, "evt_replaced layout");
_Static_assert(sizeof(evt_book_t) == 32, "evt_book layout");
_Static_assert(sizeof(evt_balance_t) == 24, "evt_balance layout");
_Static_assert(sizeof(cmd_query_book_t) == 8, "cmd_query_book layout");
_Static_assert(sizeof(cmd_query_account_t) == 24, "cmd_query_account layout");
_Static_assert(sizeof(evt_instrument_t) == 80, "evt_instrument layout");
_Static_assert(sizeof(evt_query_end_t) == 16, "evt_query_end layout");
_Static_assert(sizeof(cmd_mass_cancel_t) == 8 && sizeof(cmd_instrument_t) == 8 && sizeof(cmd_account_t) == 8,
               "small command layouts");
_Static_assert(sizeof(cmd_resize_t) == 32, "cmd_resize layout");
_Static_assert(sizeof(cmd_fee_tier_t) == 16 && sizeof(evt_digest_t) == 16, "small payload layouts");
_Static_assert(sizeof(evt_instrument_t) <= PROTO_PAYLOAD_MAX, "payload bound");
_Static_assert(sizeof(cmd_add_instrument_t) <= PROTO_PAYLOAD_MAX, "payload bound");
_Static_assert(sizeof(evt_trade_t) <= PROTO_PAYLOAD_MAX, "payload bound");

#endif
