/* The board id.
 *
 * Default: generated once, at the first boot, from physical noise (the watchdog's own
 * 128 kHz RC oscillator timed against the crystal-driven Timer1, and the lowest bits of
 * the internal temperature sensor's ADC readings), hashed to 64 bits and kept in EEPROM
 * (address 0, with a CRC; see core/store.h). Later boots read it back. Erasing the
 * EEPROM (ISP chip erase without the EESAVE fuse) makes the next boot generate a new id.
 *
 * Build with BOARD_ID=0123456789abcdef (make BOARD_ID=...) to compile a fixed id in
 * instead; the EEPROM id is then ignored and left untouched. */
#include "boardid.h"

#include <avr/eeprom.h>
#include <avr/interrupt.h>
#include <avr/io.h>
#include <avr/wdt.h>
#include <string.h>

#include "../core/store.h"
#include "timebase.h"

#ifndef BOARD_ID
static volatile uint8_t wdt_fired;

ISR(WDT_vect)
{
    wdt_fired = 1;
}

static void feed_u16(store_idgen_t *g, uint16_t v)
{
    store_idgen_feed(g, (uint8_t)v);
    store_idgen_feed(g, (uint8_t)(v >> 8));
}

static void generate(uint8_t id[8])
{
    store_idgen_t g;
    store_idgen_init(&g);

    /* watchdog period (16 ms nominal, RC oscillator) measured in crystal ticks */
    uint8_t sreg = SREG;
    cli();
    wdt_reset();
    WDTCSR = _BV(WDCE) | _BV(WDE);
    WDTCSR = _BV(WDIE); /* interrupt mode, 16 ms, no reset */
    SREG = sreg;
    for (uint8_t k = 0; k < 8; k++) {
        wdt_fired = 0;
        uint32_t t0 = timebase_us();
        while (!wdt_fired && timebase_us() - t0 < 40000UL)
            ;
        feed_u16(&g, TCNT1);
    }
    cli();
    wdt_reset();
    MCUSR &= (uint8_t)~_BV(WDRF);
    WDTCSR = _BV(WDCE) | _BV(WDE);
    WDTCSR = 0;
    SREG = sreg;

    /* internal temperature sensor, 1.1 V reference: the low bits are noise */
    ADMUX = _BV(REFS1) | _BV(REFS0) | _BV(MUX3);
    ADCSRA = _BV(ADEN) | _BV(ADPS2) | _BV(ADPS1) | _BV(ADPS0);
    for (uint8_t k = 0; k < 64; k++) {
        ADCSRA |= _BV(ADSC);
        uint32_t t0 = timebase_us();
        while ((ADCSRA & _BV(ADSC)) && timebase_us() - t0 < 1000UL)
            ;
        feed_u16(&g, ADC);
        store_idgen_feed(&g, (uint8_t)TCNT1);
    }
    ADCSRA = 0; /* ADC off again */
    store_idgen_finish(&g, id);
}
#endif

void boardid_load(uint8_t id[8])
{
#ifdef BOARD_ID
    uint64_t v = BOARD_ID; /* most significant byte first, as printed */
    for (int8_t i = 7; i >= 0; i--) {
        id[i] = (uint8_t)v;
        v >>= 8;
    }
#else
    uint8_t rec[STORE_ID_RECORD_LEN];
    eeprom_read_block(rec, (const void *)STORE_ID_ADDR, sizeof rec);
    if (store_id_valid(rec)) {
        memcpy(id, rec, 8);
        return;
    }
    generate(id);
    store_id_encode(rec, id);
    eeprom_update_block(rec, (void *)STORE_ID_ADDR, sizeof rec);
#endif
}
