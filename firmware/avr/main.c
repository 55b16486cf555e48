/* balance rig board firmware: four HX711 on one SCK line, wire format v1 over USART0.
 *
 * Main loop: handle received commands; while streaming, read all four chips as soon as
 * every live one is ready (or the timeout passes) and queue a SAMPLE; otherwise sleep
 * (idle mode) until an interrupt: a chip becoming ready (pin change), a UART byte, the
 * timeout wake-up or the timer overflow. */
#include <avr/eeprom.h>
#include <avr/interrupt.h>
#include <avr/io.h>
#include <avr/sleep.h>
#include <avr/wdt.h>
#include <string.h>

#include "../core/commands.h"
#include "../core/store.h"
#include "../core/wire.h"
#include "boardid.h"
#include "config.h"
#include "hx711.h"
#include "timebase.h"
#include "uart.h"

static struct {
    uint8_t streaming;
    uint16_t seq;
    uint32_t last_read_us;    /* start of the previous read (or of streaming) */
    uint8_t timed_out;        /* cells not waited for any more (missing or dead) */
    uint8_t discard;          /* cells whose next value is thrown away (just came back) */
    int32_t raw[4];           /* last good value per cell (0 before the first) */
    uint8_t id[8];
    uint16_t frames_dropped;  /* samples not queued because the TX ring was full */
} board;

static wire_parser_t parser;
static wire_packet_t packet;
static uint8_t reply[CMD_REPLY_MAX];

/* ---- command callbacks (core/commands.h) ---------------------------------------------- */

static uint8_t cb_streaming(void *ctx)
{
    (void)ctx;
    return board.streaming;
}

static void cb_start(void *ctx)
{
    (void)ctx;
    board.streaming = 1;
    board.seq = 0;
    board.timed_out = 0;
    board.discard = 0;
    board.last_read_us = timebase_us();
    hx711_wake_enable(1);
    timebase_tick(1);
}

static void cb_stop(void *ctx)
{
    (void)ctx;
    board.streaming = 0;
    hx711_wake_enable(0);
    timebase_tick(wire_parser_pending(&parser) != 0);
}

static void cb_hello(void *ctx, wire_hello_t *h)
{
    (void)ctx;
    h->firmware[0] = FW_VERSION_MAJOR;
    h->firmware[1] = FW_VERSION_MINOR;
    h->firmware[2] = FW_VERSION_PATCH;
    memcpy(h->board_id, board.id, 8);
    h->rate_mhz = NOMINAL_RATE_MHZ;
    h->flags = board.streaming ? 1 : 0;
}

static uint8_t cb_calib_read(void *ctx, uint8_t blob[WIRE_CALIB_BLOB_MAX], uint8_t *len)
{
    (void)ctx;
    uint8_t rec[STORE_CALIB_RECORD_MAX];
    eeprom_read_block(rec, (const void *)STORE_CALIB_ADDR, sizeof rec);
    return store_calib_decode(rec, blob, len);
}

static uint8_t cb_calib_write(void *ctx, const uint8_t *blob, uint8_t len)
{
    (void)ctx;
    uint8_t rec[STORE_CALIB_RECORD_MAX];
    uint8_t n = store_calib_encode(rec, blob, len);
    /* ~3.4 ms per changed byte; only allowed while not streaming, so no sample is late */
    eeprom_update_block(rec, (void *)STORE_CALIB_ADDR, n);
    uint8_t back[WIRE_CALIB_BLOB_MAX], blen;
    return cb_calib_read(ctx, back, &blen) == WIRE_ST_OK && blen == len ? WIRE_ST_OK : WIRE_ST_BLOB_INVALID;
}

static const cmd_board_t cmd_board = {
    0, cb_streaming, cb_start, cb_stop, cb_hello, cb_calib_read, cb_calib_write,
};

/* ---- main-loop steps ---------------------------------------------------------------------- */

static uint32_t last_rx_us;

static void poll_commands(void)
{
    uint8_t b;
    while (uart_rx(&b)) {
        last_rx_us = timebase_us();
        wire_parser_push(&parser, b);
        while (wire_parser_next(&parser, &packet)) {
            uint8_t n = cmd_handle(&cmd_board, &packet, reply);
            if (n)
                uart_send_wait(reply, n);
        }
    }
    if (wire_parser_pending(&parser) && timebase_us() - last_rx_us > RX_PACKET_TIMEOUT_US) {
        wire_parser_expire(&parser); /* the host gave up mid-packet */
        while (wire_parser_next(&parser, &packet)) {
            uint8_t n = cmd_handle(&cmd_board, &packet, reply);
            if (n)
                uart_send_wait(reply, n);
        }
    }
}

/* Reads and queues one sample when due; returns 1 when it did. */
static uint8_t sample_step(void)
{
    uint8_t ready = hx711_ready_mask();
    uint8_t need = (uint8_t)(0x0F & ~board.timed_out);
    uint32_t now = timebase_us();
    uint8_t late = now - board.last_read_us >= TIMEOUT_US;
    if (need == 0 || (ready & need) != need) {
        if (!late)
            return 0;
        board.timed_out |= (uint8_t)(need & ~ready);
    }
    board.last_read_us = now;

    /* A timed-out cell that shows data again may have become ready in the middle of an
     * earlier pulse train (the SCK line is shared), so its first value is discarded. */
    uint8_t back = (uint8_t)(board.timed_out & ready);
    board.discard |= back;
    board.timed_out &= (uint8_t)~back;

    int32_t fresh[4];
    hx711_read(fresh, ready);
    uint8_t take = (uint8_t)(ready & ~board.discard);
    board.discard &= (uint8_t)~ready;
    for (uint8_t c = 0; c < 4; c++)
        if (take & (1u << c))
            board.raw[c] = fresh[c];

    uint8_t payload[WIRE_SAMPLE_PAYLOAD_LEN];
    uint16_t status = wire_sample_status(board.raw, (uint8_t)(0x0F & ~take), board.timed_out);
    wire_sample_payload(payload, board.seq, now, board.raw, status);
    uint8_t pkt[WIRE_SAMPLE_PACKET_LEN];
    wire_encode(pkt, WIRE_T_SAMPLE, payload, WIRE_SAMPLE_PAYLOAD_LEN);
    /* The sequence number counts every sample taken, so a sample that did not fit in
     * the transmit ring shows on the host as a lost frame. */
    if (!uart_send(pkt, sizeof pkt) && board.frames_dropped != 0xFFFF)
        board.frames_dropped++;
    board.seq++;
    return 1;
}

/* Sleeps until an interrupt unless there is work; interrupts are off while deciding, and
 * `sei; sleep` is atomic on AVR, so a wake-up cannot slip in between. */
static void idle(void)
{
    cli();
    uint8_t work = uart_rx_available();
    if (board.streaming) {
        uint8_t need = (uint8_t)(0x0F & ~board.timed_out);
        uint32_t waited = timebase_us() - board.last_read_us;
        if ((need && (hx711_ready_mask() & need) == need) || waited >= TIMEOUT_US)
            work = 1;
    } else {
        /* the tick only runs while something may time out: a sample or a partial command */
        timebase_tick(wire_parser_pending(&parser) != 0);
    }
    if (!work) {
        set_sleep_mode(SLEEP_MODE_IDLE);
        sleep_enable();
        sei();
        sleep_cpu();
        sleep_disable();
    }
    sei();
}

int main(void)
{
    /* a watchdog left running by a previous program (or a WDT reset) must not fire */
    MCUSR = 0;
    wdt_disable();

    hx711_init();
    timebase_init();
    uart_init();
    wire_parser_init(&parser);
    sei();

    boardid_load(board.id);
    uart_send_wait(reply, cmd_hello_packet(&cmd_board, reply)); /* HELLO at boot */

    for (;;) {
        poll_commands();
        if (board.streaming)
            sample_step();
        idle();
    }
}
