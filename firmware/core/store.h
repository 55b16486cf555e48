/* What the firmware keeps in EEPROM, as byte records the AVR side copies to and from
 * EEPROM (portable C99, no AVR headers).
 *
 * EEPROM map (ATmega328P, 1024 bytes; erased bytes read 0xFF):
 *   0x000  board id record:    id[8] | crc16 LE over id            (10 bytes)
 *   0x010  calibration record: len u8 | blob[len] | crc16 LE over len and blob  (<= 67 bytes)
 *
 * The calibration record is the one WIRE_FORMAT.md describes; the blob is opaque to the
 * board. A record whose CRC fails (erased EEPROM, power lost mid-write) reads as
 * "nothing valid stored" (status 4). */
#ifndef RIG_STORE_H
#define RIG_STORE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define STORE_ID_ADDR 0x000u
#define STORE_ID_RECORD_LEN 10u
#define STORE_CALIB_ADDR 0x010u
#define STORE_CALIB_RECORD_MAX (1u + 64u + 2u)

/* Calibration record. encode returns the record length (len + 3); decode returns
 * WIRE_ST_OK with the blob, or WIRE_ST_BLOB_INVALID. rec must hold the full record
 * (read STORE_CALIB_RECORD_MAX bytes; the tail beyond the record is ignored). */
uint8_t store_calib_encode(uint8_t rec[STORE_CALIB_RECORD_MAX], const uint8_t *blob, uint8_t len);
uint8_t store_calib_decode(const uint8_t rec[STORE_CALIB_RECORD_MAX], uint8_t *blob, uint8_t *len);

/* Board id record. valid() rejects a bad CRC and the degenerate ids 00..00 and FF..FF. */
void store_id_encode(uint8_t rec[STORE_ID_RECORD_LEN], const uint8_t id[8]);
int store_id_valid(const uint8_t rec[STORE_ID_RECORD_LEN]);

/* Turning noisy measurements into an 8-byte id: feed every sample byte (timer jitter,
 * ADC noise), then finish. Two FNV-1a-32 streams with different bases; the id is only
 * as unique as the entropy fed in, the hash just spreads it over all 64 bits. */
typedef struct {
    uint32_t a, b;
} store_idgen_t;

void store_idgen_init(store_idgen_t *g);
void store_idgen_feed(store_idgen_t *g, uint8_t byte);
void store_idgen_finish(store_idgen_t *g, uint8_t id[8]);

#ifdef __cplusplus
}
#endif
#endif
