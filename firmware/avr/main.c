/* balance rig board firmware: four HX711 on one SCK line, wire format v2 over USART0.
 *
 * Main loop: handle received commands; while streaming, read all four chips as soon as
 * every live one is ready (or the timeout passes) and queue a SAMPLE with each cell's age
 * (how long before the frame time its conversion became ready: the pin-change interrupt
 * timestamps every falling DOUT edge); otherwise sleep (idle mode) until an interrupt: a
 * chip becoming ready (pin change), a UART byte, the timeout wake-up or the timer overflow.
 * Each chip's conversion rate is measured from its ready edges (STATS). */
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
    uint32_t value_ready_us[4]; /* ready time of the conversion each raw[] came from */
    uint8_t have_value;       /* cells with a value taken since START */
    uint16_t frames_dropped;  /* samples not queued because the TX ring was full */
    /* conversion-rate measurement per chip since START (see track_rates) */
    uint32_t first_us[4], last_us[4], period_us[4], periods[4];
    uint8_t seen;             /* chips with at least one ready edge since START */
    uint16_t timeouts[4];
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
    board.have_value = 0;
    board.seen = 0;
    for (uint8_t c = 0; c < 4; c++)
        board.periods[c] = 0, board.period_us[c] = 0, board.timeouts[c] = 0;
    hx711_clear_skipped();
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

static hx711_edges_t edges;

static void cb_stats(void *ctx, wire_stats_t *s)
{
    (void)ctx;
    s->t_us = timebase_us();
    s->frames_dropped = board.frames_dropped;
    s->uart_rx_errors = uart_rx_errors();
    s->uart_rx_overflows = uart_rx_overflows();
    s->cmd_crc_failures = parser.crc_failures;
    s->cmd_bytes_skipped = parser.skipped;
    s->flags = board.streaming ? 1 : 0;
    for (uint8_t c = 0; c < 4; c++) {
        s->chip[c].periods = board.periods[c];
        s->chip[c].span_us = board.last_us[c] - board.first_us[c];
        s->chip[c].skipped = edges.skipped[c];
        s->chip[c].timeouts = board.timeouts[c];
    }
}

static const cmd_board_t cmd_board = {
    0, cb_streaming, cb_start, cb_stop, cb_hello, cb_calib_read, cb_calib_write, cb_stats,
};

/* Each new ready edge adds the whole periods since the chip's previous one: one when the
 * gap is under 1.5 x the chip's running period estimate (an average of single gaps, 1/8
 * weight), else the rounded ratio (an edge missed while the chips were being read).
 * Rate = periods / (last - first edge); the estimate also predicts the next conversion. */
static void track_rates_from(const hx711_edges_t *e)
{
    for (uint8_t c = 0; c < 4; c++) {
        uint8_t m = (uint8_t)(1u << c);
        if (!(e->new_mask & m))
            continue;
        uint32_t t = e->ready_us[c];
        if (!(board.seen & m)) {
            board.seen |= m;
            board.first_us[c] = board.last_us[c] = t;
            continue;
        }
        uint32_t dt = t - board.last_us[c];
        board.last_us[c] = t;
        uint32_t ref = board.period_us[c];
        if (ref == 0) {
            board.period_us[c] = dt;
            board.periods[c] += 1;
        } else if (dt < (ref >> 1)) {
            /* a spurious short gap: not a period */
        } else if (dt < ref + (ref >> 1)) {
            board.periods[c] += 1;
            board.period_us[c] = (uint32_t)((int32_t)ref + ((int32_t)(dt - ref) >> 3));
        } else {
            board.periods[c] += (dt + (ref >> 1)) / ref;
        }
    }
}

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

/* 1 when a ready chip in mask is due to finish its next conversion within READ_GUARD_US
 * (its period measured from its ready edges), so reading now could corrupt its word. */
static uint8_t conversion_imminent(uint8_t mask, uint32_t now)
{
    for (uint8_t c = 0; c < 4; c++) {
        uint8_t m = (uint8_t)(1u << c);
        uint32_t p = board.period_us[c];
        if (!(mask & m) || !p || !(edges.unread_mask & m) || (edges.unknown_mask & m))
            continue;
        uint32_t since = now - edges.ready_us[c];
        /* due within the guard, or a little overdue (its update pulse may be under way) */
        if (since + READ_GUARD_US > p && since < p + READ_GUARD_US)
            return 1;
    }
    return 0;
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
        uint8_t newly = (uint8_t)(need & ~ready);
        board.timed_out |= newly;
        for (uint8_t c = 0; c < 4; c++)
            if ((newly & (1u << c)) && board.timeouts[c] != 0xFFFF)
                board.timeouts[c]++;
    }
    /* the frame time and the ready times it is compared with, taken together */
    cli();
    now = timebase_us();
    hx711_take_edges(&edges);
    sei();
    track_rates_from(&edges);
    if (!late && conversion_imminent(ready, timebase_us())) /* now: the read follows */
        return 0; /* wait for that conversion (and its DOUT pulse) */
    /* last look, with the ready times that go with it: a chip that began an update pulse
     * since (DOUT high, a newer word than its timestamp says) is waited for */
    cli();
    uint8_t again = hx711_ready_mask();
    if (!late && (again & need) != need) {
        sei();
        return 0;
    }
    ready = again;
    now = timebase_us();
    hx711_take_edges(&edges);
    sei();
    track_rates_from(&edges);
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
    uint16_t age[4];
    for (uint8_t c = 0; c < 4; c++) {
        uint8_t m = (uint8_t)(1u << c);
        if (take & m) {
            board.raw[c] = fresh[c];
            board.value_ready_us[c] = edges.ready_us[c];
            if (edges.unknown_mask & m)
                board.have_value &= (uint8_t)~m; /* converted before START: age unknown */
            else
                board.have_value |= m;
        }
        age[c] = (board.have_value & m) && !(board.timed_out & m)
                     ? wire_age_us(now, board.value_ready_us[c]) : (uint16_t)WIRE_AGE_UNKNOWN;
    }

    uint8_t payload[WIRE_SAMPLE_PAYLOAD_LEN];
    uint16_t status = wire_sample_status(board.raw, (uint8_t)(0x0F & ~take), board.timed_out);
    wire_sample_payload(payload, board.seq, now, board.raw, status, age);
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
        if (board.streaming) {
            if (!sample_step()) {
                /* count edges as they come (a chip may give two before the next read) */
                cli();
                hx711_take_edges(&edges);
                sei();
                track_rates_from(&edges);
            }
        }
        idle();
    }
}
