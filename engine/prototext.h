/* prototext.h - commands from key=value words, events to JSON lines.
 *
 * The operator's text form of proto.h, used by the bourse CLI (`bourse send`,
 * `bourse watch`) and by shell tests. Values are the integers the engine uses
 * (prices in price units, quantities and amounts in minor units); decimals
 * belong to the gateways. Every word is checked: an unknown command or key, a
 * missing required key, or a malformed value is an error that names it. */
#ifndef BOURSE_PROTOTEXT_H
#define BOURSE_PROTOTEXT_H

#include <stddef.h>

#include "err.h"
#include "layout.h"

/* Builds a command record from argv: argv[0] is the command name (new-order,
 * cancel, ...), the rest are key=value words. Returns 0 or -EINVAL. */
int prototext_command(int argc, char **argv, rec_t *out, err_t *err);

/* Writes one event as a JSON object (no newline) into buf: "type" is the
 * event's, every key appears once (an order's type is "order_type"). Returns
 * the length it needed (like snprintf). */
int prototext_event_json(const rec_t *ev, char *buf, size_t n);

/* The command names, space-separated, for usage texts. */
const char *prototext_command_names(void);

/* The name of a command type ("new-order") or reject reason ("price-off-tick"),
 * or NULL when there is none. Stable: gateways and the exporter show them. */
const char *prototext_command_name(uint16_t type);
const char *prototext_reason_name(uint16_t reason);

#endif
