/* Wire format v2: see wire.h and firmware/WIRE_FORMAT.md. */
#include "wire.h"

#include <string.h>

uint16_t wire_crc16_byte(uint16_t crc, uint8_t b)
{
    /* Byte-wise CRC-16/CCITT (poly 0x1021) without a table: the same result as the
     * bit-by-bit loop in about a fifth of the AVR cycles, and no 512-byte table in the
     * ATmega328P's flash. */
    crc = (uint16_t)((crc >> 8) | (crc << 8));
    crc ^= b;
    crc ^= (uint8_t)(crc & 0xFFu) >> 4;
    crc ^= (uint16_t)(crc << 12);
    crc ^= (uint16_t)((crc & 0xFFu) << 5);
    return crc;
}

uint16_t wire_crc16(uint16_t crc, const uint8_t *data, size_t n)
{
    while (n--)
        crc = wire_crc16_byte(crc, *data++);
    return crc;
}

void wire_put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

void wire_put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

void wire_put_i24(uint8_t *p, int32_t v)
{
    uint32_t u = (uint32_t)v;
    p[0] = (uint8_t)u;
    p[1] = (uint8_t)(u >> 8);
    p[2] = (uint8_t)(u >> 16);
}

uint16_t wire_get_u16(const uint8_t *p)
{
    return (uint16_t)(p[0] | ((uint16_t)p[1] << 8));
}

uint32_t wire_get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

int32_t wire_get_i24(const uint8_t *p)
{
    uint32_t u = (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16);
    if (u & 0x800000ul)
        u |= 0xFF000000ul;
    return (int32_t)u;
}

uint8_t wire_encode(uint8_t *out, uint8_t type, const uint8_t *payload, uint8_t len)
{
    out[0] = WIRE_SYNC0;
    out[1] = WIRE_SYNC1;
    out[2] = WIRE_VERSION;
    out[3] = type;
    out[4] = len;
    if (len && out + 5 != payload)
        memmove(out + 5, payload, len);
    uint16_t crc = wire_crc16(0xFFFFu, out + 2, (size_t)3 + len);
    wire_put_u16(out + 5 + len, crc);
    return (uint8_t)(len + WIRE_HEADER_LEN + WIRE_CRC_LEN);
}

void wire_sample_payload(uint8_t out[WIRE_SAMPLE_PAYLOAD_LEN], uint16_t seq, uint32_t t_us,
                         const int32_t raw[WIRE_N_CELLS], uint16_t status,
                         const uint16_t age_us[WIRE_N_CELLS])
{
    wire_put_u16(out, seq);
    wire_put_u32(out + 2, t_us);
    for (uint8_t i = 0; i < WIRE_N_CELLS; i++) {
        wire_put_i24(out + 6 + 3 * i, raw[i]);
        wire_put_u16(out + 20 + 2 * i, age_us[i]);
    }
    wire_put_u16(out + 18, status);
}

uint16_t wire_age_us(uint32_t t_us, uint32_t ready_us)
{
    uint32_t d = t_us - ready_us;
    return d >= WIRE_AGE_UNKNOWN ? (uint16_t)WIRE_AGE_UNKNOWN : (uint16_t)d;
}

void wire_stats_payload(uint8_t out[WIRE_STATS_PAYLOAD_LEN], const wire_stats_t *s)
{
    wire_put_u32(out, s->t_us);
    wire_put_u16(out + 4, s->frames_dropped);
    wire_put_u16(out + 6, s->uart_rx_errors);
    wire_put_u16(out + 8, s->uart_rx_overflows);
    wire_put_u16(out + 10, s->cmd_crc_failures);
    wire_put_u16(out + 12, s->cmd_bytes_skipped);
    out[14] = s->flags;
    out[15] = 0;
    for (uint8_t i = 0; i < WIRE_N_CELLS; i++) {
        uint8_t *p = out + 16 + 12 * i;
        wire_put_u32(p, s->chip[i].periods);
        wire_put_u32(p + 4, s->chip[i].span_us);
        wire_put_u16(p + 8, s->chip[i].skipped);
        wire_put_u16(p + 10, s->chip[i].timeouts);
    }
}

uint16_t wire_sample_status(const int32_t raw[WIRE_N_CELLS], uint8_t not_ready_mask,
                            uint8_t timed_out_mask)
{
    uint16_t st = 0;
    for (uint8_t i = 0; i < WIRE_N_CELLS; i++) {
        uint16_t c = 0;
        if (not_ready_mask & (1u << i))
            c |= WIRE_CELL_NOT_READY;
        if (raw[i] >= WIRE_INT24_MAX || raw[i] <= WIRE_INT24_MIN)
            c |= WIRE_CELL_SATURATED;
        if (timed_out_mask & (1u << i))
            c |= WIRE_CELL_TIMED_OUT;
        st |= (uint16_t)(c << (4 * i));
    }
    return st;
}

void wire_hello_payload(uint8_t out[WIRE_HELLO_PAYLOAD_LEN], const wire_hello_t *h)
{
    out[0] = WIRE_VERSION;
    memcpy(out + 1, h->firmware, 3);
    memcpy(out + 4, h->board_id, 8);
    out[12] = WIRE_N_CELLS;
    wire_put_u32(out + 13, h->rate_mhz);
    out[17] = WIRE_ADC_HX711;
    out[18] = h->flags;
    out[19] = 0;
}

/* ---- parser -------------------------------------------------------------------------- */

static void sat_add(uint16_t *c, uint16_t k)
{
    *c = (uint16_t)((uint32_t)*c + k > 0xFFFFu ? 0xFFFFu : *c + k);
}

static void drop(wire_parser_t *p, uint8_t k)
{
    if (k > p->n)
        k = p->n;
    memmove(p->buf, p->buf + k, (size_t)(p->n - k));
    p->n = (uint8_t)(p->n - k);
}

void wire_parser_init(wire_parser_t *p)
{
    memset(p, 0, sizeof *p);
}

uint8_t wire_parser_pending(const wire_parser_t *p)
{
    return p->n;
}

void wire_parser_push(wire_parser_t *p, uint8_t b)
{
    if (p->n == sizeof p->buf) {
        /* only if the caller skipped wire_parser_next: the head candidate cannot be
         * longer than the buffer, so it is resolved; reject it to make room */
        drop(p, 1);
        sat_add(&p->skipped, 1);
    }
    p->buf[p->n++] = b;
}

void wire_parser_expire(wire_parser_t *p)
{
    if (p->n) {
        drop(p, 1);
        sat_add(&p->skipped, 1);
    }
}

int wire_parser_next(wire_parser_t *p, wire_packet_t *out)
{
    for (;;) {
        /* skip to the next possible sync; a lone A5 at the end may still become one */
        uint8_t i = 0;
        while (i < p->n && !(p->buf[i] == WIRE_SYNC0 && (i + 1 == p->n || p->buf[i + 1] == WIRE_SYNC1)))
            i++;
        if (i) {
            drop(p, i);
            sat_add(&p->skipped, i);
        }
        if (p->n < WIRE_HEADER_LEN)
            return 0;
        uint8_t len = p->buf[4];
        if (len > WIRE_MAX_PAYLOAD) {
            drop(p, 1);
            sat_add(&p->skipped, 1);
            continue;
        }
        uint8_t total = (uint8_t)(len + WIRE_HEADER_LEN + WIRE_CRC_LEN);
        if (p->n < total)
            return 0;
        uint16_t crc = wire_crc16(0xFFFFu, p->buf + 2, (size_t)3 + len);
        if (crc != wire_get_u16(p->buf + 5 + len)) {
            sat_add(&p->crc_failures, 1);
            drop(p, 1);
            sat_add(&p->skipped, 1);
            continue;
        }
        out->ver = p->buf[2];
        out->type = p->buf[3];
        out->len = len;
        memcpy(out->payload, p->buf + 5, len);
        drop(p, total);
        return 1;
    }
}
