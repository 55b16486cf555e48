/* Host -> board command handling (WIRE_FORMAT.md, "Host -> board commands"), portable.
 *
 * The firmware supplies the board's side as callbacks; cmd_handle decides the answer
 * and builds the reply packet. START/STOP callbacks run before the reply is returned,
 * so the caller queues the ACK before any SAMPLE of the new stream (and, for STOP, no
 * SAMPLE can follow the ACK). START and STOP are idempotent: START while streaming and
 * STOP while stopped change nothing and are acknowledged, so the host may repeat them. */
#ifndef RIG_COMMANDS_H
#define RIG_COMMANDS_H

#include <stdint.h>

#include "wire.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    void *ctx;
    uint8_t (*streaming)(void *ctx);
    void (*start)(void *ctx);   /* start streaming at seq 0 (not called while streaming) */
    void (*stop)(void *ctx);
    void (*hello)(void *ctx, wire_hello_t *h); /* fills firmware version, id, rate, flags */
    /* status WIRE_ST_OK with the blob, or WIRE_ST_BLOB_INVALID */
    uint8_t (*calib_read)(void *ctx, uint8_t blob[WIRE_CALIB_BLOB_MAX], uint8_t *len);
    /* status WIRE_ST_OK once stored */
    uint8_t (*calib_write)(void *ctx, const uint8_t *blob, uint8_t len);
    void (*stats)(void *ctx, wire_stats_t *s); /* fills the health counters */
} cmd_board_t;

/* Room a reply needs: the largest is CALIB with a 64-byte blob. */
#define CMD_REPLY_MAX (WIRE_HEADER_LEN + 1u + WIRE_CALIB_BLOB_MAX + WIRE_CRC_LEN)

/* Handles one received packet; writes the reply packet to out and returns its length
 * (0: nothing to send, e.g. a board->host packet echoed back). */
uint8_t cmd_handle(const cmd_board_t *b, const wire_packet_t *pkt, uint8_t out[CMD_REPLY_MAX]);

/* The HELLO packet (boot and IDENTIFY); returns its length. */
uint8_t cmd_hello_packet(const cmd_board_t *b, uint8_t out[CMD_REPLY_MAX]);

#ifdef __cplusplus
}
#endif
#endif
