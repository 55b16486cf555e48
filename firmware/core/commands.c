/* Command handling: see commands.h. */
#include "commands.h"

static uint8_t ack(uint8_t out[CMD_REPLY_MAX], uint8_t command, uint8_t status)
{
    uint8_t p[2];
    p[0] = command;
    p[1] = status;
    return wire_encode(out, WIRE_T_ACK, p, 2);
}

uint8_t cmd_hello_packet(const cmd_board_t *b, uint8_t out[CMD_REPLY_MAX])
{
    wire_hello_t h;
    b->hello(b->ctx, &h);
    wire_hello_payload(out + WIRE_HEADER_LEN, &h);
    return wire_encode(out, WIRE_T_HELLO, out + WIRE_HEADER_LEN, WIRE_HELLO_PAYLOAD_LEN);
}

uint8_t cmd_handle(const cmd_board_t *b, const wire_packet_t *pkt, uint8_t out[CMD_REPLY_MAX])
{
    if (pkt->type < 0x80u)
        return 0; /* a board->host packet (e.g. echoed back by a loop): never answer it */
    if (pkt->ver != WIRE_VERSION) /* e.g. a v1 host: it gets status 5 and says so */
        return ack(out, pkt->type, WIRE_ST_BAD_VERSION);

    switch (pkt->type) {
    case WIRE_C_IDENTIFY:
        if (pkt->len)
            return ack(out, pkt->type, WIRE_ST_BAD_LENGTH);
        return cmd_hello_packet(b, out);
    case WIRE_C_START:
        if (pkt->len)
            return ack(out, pkt->type, WIRE_ST_BAD_LENGTH);
        /* idempotent: a START repeated because its ACK was lost leaves the stream alone
         * (its sequence, its timing and its STATS counters) */
        if (!b->streaming(b->ctx))
            b->start(b->ctx);
        return ack(out, pkt->type, WIRE_ST_OK);
    case WIRE_C_STOP:
        if (pkt->len)
            return ack(out, pkt->type, WIRE_ST_BAD_LENGTH);
        b->stop(b->ctx);
        return ack(out, pkt->type, WIRE_ST_OK);
    case WIRE_C_CALIB_READ: {
        if (pkt->len)
            return ack(out, pkt->type, WIRE_ST_BAD_LENGTH);
        uint8_t len = 0;
        /* the blob is read straight into the reply, after the status byte */
        uint8_t *payload = out + WIRE_HEADER_LEN;
        uint8_t st = b->calib_read(b->ctx, payload + 1, &len);
        if (st != WIRE_ST_OK)
            len = 0;
        payload[0] = st;
        return wire_encode(out, WIRE_T_CALIB, payload, (uint8_t)(1 + len));
    }
    case WIRE_C_CALIB_WRITE:
        if (pkt->len > WIRE_CALIB_BLOB_MAX)
            return ack(out, pkt->type, WIRE_ST_BAD_LENGTH);
        if (b->streaming(b->ctx))
            return ack(out, pkt->type, WIRE_ST_BUSY);
        return ack(out, pkt->type, b->calib_write(b->ctx, pkt->payload, pkt->len));
    case WIRE_C_STATS: {
        if (pkt->len)
            return ack(out, pkt->type, WIRE_ST_BAD_LENGTH);
        wire_stats_t s;
        b->stats(b->ctx, &s);
        wire_stats_payload(out + WIRE_HEADER_LEN, &s);
        return wire_encode(out, WIRE_T_STATS, out + WIRE_HEADER_LEN, WIRE_STATS_PAYLOAD_LEN);
    }
    default:
        return ack(out, pkt->type, WIRE_ST_UNKNOWN_COMMAND);
    }
}
