/* EEPROM records: see store.h. */
#include "store.h"

#include <string.h>

#include "wire.h"

uint8_t store_calib_encode(uint8_t rec[STORE_CALIB_RECORD_MAX], const uint8_t *blob, uint8_t len)
{
    if (len > WIRE_CALIB_BLOB_MAX)
        len = WIRE_CALIB_BLOB_MAX;
    rec[0] = len;
    if (len)
        memcpy(rec + 1, blob, len);
    wire_put_u16(rec + 1 + len, wire_crc16(0xFFFFu, rec, (size_t)1 + len));
    return (uint8_t)(len + 3);
}

uint8_t store_calib_decode(const uint8_t rec[STORE_CALIB_RECORD_MAX], uint8_t *blob, uint8_t *len)
{
    uint8_t n = rec[0];
    *len = 0;
    if (n > WIRE_CALIB_BLOB_MAX) /* erased EEPROM reads 0xFF */
        return WIRE_ST_BLOB_INVALID;
    if (wire_crc16(0xFFFFu, rec, (size_t)1 + n) != wire_get_u16(rec + 1 + n))
        return WIRE_ST_BLOB_INVALID;
    memcpy(blob, rec + 1, n);
    *len = n;
    return WIRE_ST_OK;
}

void store_id_encode(uint8_t rec[STORE_ID_RECORD_LEN], const uint8_t id[8])
{
    memcpy(rec, id, 8);
    wire_put_u16(rec + 8, wire_crc16(0xFFFFu, id, 8));
}

int store_id_valid(const uint8_t rec[STORE_ID_RECORD_LEN])
{
    uint8_t all00 = 1, allff = 1;
    for (uint8_t i = 0; i < 8; i++) {
        all00 &= rec[i] == 0x00;
        allff &= rec[i] == 0xFF;
    }
    if (all00 || allff)
        return 0;
    return wire_crc16(0xFFFFu, rec, 8) == wire_get_u16(rec + 8);
}

void store_idgen_init(store_idgen_t *g)
{
    g->a = 2166136261ul;       /* FNV-1a offset basis */
    g->b = 0x6A09E667ul;       /* a different basis for the second stream */
}

void store_idgen_feed(store_idgen_t *g, uint8_t byte)
{
    g->a = (g->a ^ byte) * 16777619ul;
    g->b = (g->b ^ (uint8_t)(byte ^ 0x5Cu)) * 16777619ul;
}

void store_idgen_finish(store_idgen_t *g, uint8_t id[8])
{
    /* final avalanche so that inputs differing in one late byte differ everywhere */
    for (uint8_t r = 0; r < 4; r++) {
        store_idgen_feed(g, (uint8_t)(g->b >> (8 * r)));
        store_idgen_feed(g, (uint8_t)(g->a >> (8 * r)));
    }
    wire_put_u32(id, g->a);
    wire_put_u32(id + 4, g->b);
    if ((g->a == 0 && g->b == 0) || (g->a == 0xFFFFFFFFul && g->b == 0xFFFFFFFFul))
        id[0] ^= 0x01; /* never store a degenerate id */
}
