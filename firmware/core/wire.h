/* Wire format v2 (firmware/WIRE_FORMAT.md is the authority): CRC, packet envelope,
 * payload encoders and the receive parser.
 *
 * Portable C99: no AVR headers, so the same code is unit-tested with the host's gcc
 * (firmware/tests/test_core.c) and linked into the firmware.
 *
 * Envelope:  A5 5A | ver | type | len | payload[len] | crc16 LE over ver..payload
 */
#ifndef RIG_WIRE_H
#define RIG_WIRE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define WIRE_SYNC0 0xA5u
#define WIRE_SYNC1 0x5Au
#define WIRE_VERSION 2u
#define WIRE_HEADER_LEN 5u
#define WIRE_CRC_LEN 2u
#define WIRE_MAX_PAYLOAD 96u
#define WIRE_MAX_PACKET (WIRE_HEADER_LEN + WIRE_MAX_PAYLOAD + WIRE_CRC_LEN)

/* board -> host */
#define WIRE_T_SAMPLE 0x01u
#define WIRE_T_HELLO 0x02u
#define WIRE_T_ACK 0x03u
#define WIRE_T_CALIB 0x04u
#define WIRE_T_STATS 0x05u
/* host -> board */
#define WIRE_C_IDENTIFY 0x81u
#define WIRE_C_START 0x82u
#define WIRE_C_STOP 0x83u
#define WIRE_C_CALIB_READ 0x84u
#define WIRE_C_CALIB_WRITE 0x85u
#define WIRE_C_STATS 0x86u

/* ACK / CALIB status codes */
#define WIRE_ST_OK 0u
#define WIRE_ST_UNKNOWN_COMMAND 1u
#define WIRE_ST_BAD_LENGTH 2u
#define WIRE_ST_BUSY 3u
#define WIRE_ST_BLOB_INVALID 4u
#define WIRE_ST_BAD_VERSION 5u

/* per-cell status bits, cell i shifted left by 4*i */
#define WIRE_CELL_NOT_READY 0x1u
#define WIRE_CELL_SATURATED 0x2u
#define WIRE_CELL_TIMED_OUT 0x4u

#define WIRE_N_CELLS 4u
#define WIRE_SAMPLE_PAYLOAD_LEN 28u
#define WIRE_SAMPLE_PACKET_LEN (WIRE_HEADER_LEN + WIRE_SAMPLE_PAYLOAD_LEN + WIRE_CRC_LEN)
#define WIRE_HELLO_PAYLOAD_LEN 20u
#define WIRE_STATS_PAYLOAD_LEN 64u
#define WIRE_AGE_UNKNOWN 0xFFFFu /* age of 65535 us or more, or never converted */
#define WIRE_CALIB_BLOB_MAX 64u
#define WIRE_INT24_MAX 8388607L
#define WIRE_INT24_MIN (-8388608L)
#define WIRE_ADC_HX711 1u

/* CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF (pass 0xFFFF as crc to start). */
uint16_t wire_crc16(uint16_t crc, const uint8_t *data, size_t n);
uint16_t wire_crc16_byte(uint16_t crc, uint8_t b);

/* Frames payload as one packet into out (room for len + 7 bytes); returns its length. */
uint8_t wire_encode(uint8_t *out, uint8_t type, const uint8_t *payload, uint8_t len);

void wire_put_u16(uint8_t *p, uint16_t v);
void wire_put_u32(uint8_t *p, uint32_t v);
void wire_put_i24(uint8_t *p, int32_t v); /* v must already be within the int24 range */
uint16_t wire_get_u16(const uint8_t *p);
uint32_t wire_get_u32(const uint8_t *p);
int32_t wire_get_i24(const uint8_t *p);

/* SAMPLE payload (28 bytes). age_us[i]: how long before t_us cell i's conversion became
 * ready (saturating at WIRE_AGE_UNKNOWN). */
void wire_sample_payload(uint8_t out[WIRE_SAMPLE_PAYLOAD_LEN], uint16_t seq, uint32_t t_us,
                         const int32_t raw[WIRE_N_CELLS], uint16_t status,
                         const uint16_t age_us[WIRE_N_CELLS]);

/* Saturating age: t_us - ready_us as u16 (WIRE_AGE_UNKNOWN when 65535 or more). */
uint16_t wire_age_us(uint32_t t_us, uint32_t ready_us);

/* The status word of one sample: cell i is not ready / timed out when bit i of the masks
 * is set; the saturated bit is derived from the value. */
uint16_t wire_sample_status(const int32_t raw[WIRE_N_CELLS], uint8_t not_ready_mask,
                            uint8_t timed_out_mask);

typedef struct {
    uint8_t firmware[3];   /* major, minor, patch */
    uint8_t board_id[8];
    uint32_t rate_mhz;     /* nominal sample rate in millihertz */
    uint8_t flags;         /* bit 0: streaming now */
} wire_hello_t;

void wire_hello_payload(uint8_t out[WIRE_HELLO_PAYLOAD_LEN], const wire_hello_t *h);

/* Board health (STATS packet, 64 bytes). Counters saturate; see WIRE_FORMAT.md. */
typedef struct {
    uint32_t periods;   /* whole conversion periods between first_us and last_us */
    uint32_t span_us;   /* last_us - first_us of the ready edges counted */
    uint16_t skipped;   /* conversions replaced by a newer one before they were read */
    uint16_t timeouts;  /* times the cell was marked timed out */
} wire_chip_stats_t;

typedef struct {
    uint32_t t_us;             /* board time of the answer */
    uint16_t frames_dropped;   /* samples not queued: transmit buffer full */
    uint16_t uart_rx_errors;   /* framing errors and hardware overruns */
    uint16_t uart_rx_overflows;/* bytes lost: receive ring full */
    uint16_t cmd_crc_failures; /* command candidates rejected by their CRC */
    uint16_t cmd_bytes_skipped;/* bytes discarded by the command parser */
    uint8_t flags;             /* bit 0: streaming now */
    wire_chip_stats_t chip[WIRE_N_CELLS];
} wire_stats_t;

void wire_stats_payload(uint8_t out[WIRE_STATS_PAYLOAD_LEN], const wire_stats_t *s);

/* ---- receive parser ------------------------------------------------------------------
 * Push bytes one at a time, then call wire_parser_next until it returns 0. A candidate
 * packet starts at every A5 5A; when its CRC fails or its len is over 96, only the first
 * sync byte is discarded and the search goes on (a packet hidden behind a false sync is
 * not lost). Packets of any version with a good CRC are returned: the command handler
 * answers an unknown version with status 5. */
typedef struct {
    uint8_t ver, type, len;
    uint8_t payload[WIRE_MAX_PAYLOAD];
} wire_packet_t;

typedef struct {
    uint8_t buf[WIRE_MAX_PACKET];
    uint8_t n;
    uint16_t skipped;       /* bytes discarded while searching (saturating) */
    uint16_t crc_failures;  /* candidates rejected by their CRC (saturating) */
} wire_parser_t;

void wire_parser_init(wire_parser_t *p);
void wire_parser_push(wire_parser_t *p, uint8_t b);
/* 1 and the packet in *out when one is complete and valid, else 0 (needs more bytes). */
int wire_parser_next(wire_parser_t *p, wire_packet_t *out);
/* A partial candidate that stopped growing (host gave up mid-packet): reject it as if
 * its CRC had failed, so later packets are not swallowed as its payload. */
void wire_parser_expire(wire_parser_t *p);
/* Bytes held in a partial candidate. */
uint8_t wire_parser_pending(const wire_parser_t *p);

#ifdef __cplusplus
}
#endif
#endif
