/* HX711 driver: see hx711.h. */
#include "hx711.h"

#include <avr/interrupt.h>
#include <avr/io.h>
#include <util/delay.h>

#include "config.h"
#include "timebase.h"

static volatile hx711_edges_t edges;
static uint8_t prev_pins = HX_DOUT_MASK; /* DOUT levels at the last look (high = busy) */

/* Timestamps falling DOUT edges. Not active during a read (the data bits toggle DOUT). */
ISR(HX_PCINT_vect)
{
    uint8_t pins = HX_DOUT_PIN & HX_DOUT_MASK;
    uint8_t fell = (uint8_t)(prev_pins & ~pins);
    prev_pins = pins;
    if (!fell)
        return;
    uint32_t now = timebase_us();
    for (uint8_t c = 0; c < 4; c++) {
        uint8_t m = (uint8_t)(1u << c);
        if (!(fell & m))
            continue;
        if (edges.unread_mask & m) {
            /* the end of the ~75 us pulse of an update that replaced an unread word: the
             * conversion itself finished a pulse earlier */
            edges.ready_us[c] = now - HX_DOUT_PULSE_US;
            if (edges.skipped[c] != 0xFFFF)
                edges.skipped[c]++;
        } else {
            edges.ready_us[c] = now;
        }
    }
    edges.new_mask |= fell;
    edges.unread_mask |= fell;
    edges.unknown_mask &= (uint8_t)~fell;
}

void hx711_take_edges(hx711_edges_t *e)
{
    uint8_t sreg = SREG;
    cli();
    for (uint8_t c = 0; c < 4; c++) {
        e->ready_us[c] = edges.ready_us[c];
        e->skipped[c] = edges.skipped[c];
    }
    e->new_mask = edges.new_mask;
    e->unread_mask = edges.unread_mask;
    e->unknown_mask = edges.unknown_mask;
    edges.new_mask = 0;
    SREG = sreg;
}

void hx711_clear_skipped(void)
{
    uint8_t sreg = SREG;
    cli();
    for (uint8_t c = 0; c < 4; c++)
        edges.skipped[c] = 0;
    SREG = sreg;
}

void hx711_init(void)
{
    HX_SCK_PORT &= (uint8_t)~_BV(HX_SCK_BIT); /* SCK low: chips powered up and converting */
    HX_SCK_DDR |= _BV(HX_SCK_BIT);
    /* DOUT is push-pull on the HX711: inputs without pull-ups */
    HX_DOUT_DDR &= (uint8_t)~HX_DOUT_MASK;
    HX_DOUT_PORT &= (uint8_t)~HX_DOUT_MASK;
}

uint8_t hx711_ready_mask(void)
{
    return (uint8_t)(~HX_DOUT_PIN & HX_DOUT_MASK);
}

/* Re-arms edge detection from the pins' present levels; a chip already low counts as
 * ready now (its edge fell while nobody was looking, e.g. during a read). */
static void rearm(void)
{
    uint8_t pins = HX_DOUT_PIN & HX_DOUT_MASK;
    uint8_t low = (uint8_t)(prev_pins & ~pins);
    prev_pins = pins;
    if (low) {
        uint32_t now = timebase_us();
        for (uint8_t c = 0; c < 4; c++)
            if (low & (1u << c))
                edges.ready_us[c] = now;
        edges.new_mask |= low;
        edges.unread_mask |= low;
    }
    PCIFR = _BV(HX_PCIE);
}

void hx711_wake_enable(uint8_t on)
{
    uint8_t sreg = SREG;
    cli();
    if (on) {
        HX_PCMSK |= HX_DOUT_MASK;
        prev_pins = HX_DOUT_MASK;
        edges.new_mask = 0;
        edges.unread_mask = 0;
        /* chips already showing data converted at an unknown time before START: their
         * first values get an unknown age and their edges do not count for the rate */
        uint8_t low = (uint8_t)(~HX_DOUT_PIN & HX_DOUT_MASK);
        prev_pins = (uint8_t)(HX_DOUT_MASK & ~low);
        edges.unread_mask = low;
        edges.unknown_mask = low;
        PCIFR = _BV(HX_PCIE);
        PCICR |= _BV(HX_PCIE);
    } else {
        PCICR &= (uint8_t)~_BV(HX_PCIE);
    }
    SREG = sreg;
}

/* One SCK pulse; returns the DOUT port sampled while SCK is high. Interrupts are masked
 * only while SCK is high: an interrupt there could stretch the pulse past 60 us, which
 * powers the chips down (datasheet T3 max 50 us). */
static inline uint8_t pulse(void)
{
    uint8_t sreg = SREG;
    cli();
    HX_SCK_PORT |= _BV(HX_SCK_BIT);
    _delay_us(1); /* T2 (DOUT valid after SCK rise) <= 0.1 us; T3 >= 0.2 us */
    uint8_t pins = HX_DOUT_PIN;
    HX_SCK_PORT &= (uint8_t)~_BV(HX_SCK_BIT);
    SREG = sreg;
    _delay_us(1); /* T4 (SCK low) >= 0.2 us */
    return pins;
}

void hx711_read(int32_t raw[4], uint8_t take_mask)
{
    uint8_t bits[24];
    /* no edge timestamps while the data bits toggle DOUT */
    uint8_t pcicr = PCICR;
    PCICR = (uint8_t)(pcicr & ~_BV(HX_PCIE));
    /* keep the pulse train tight: store the port samples, unpack afterwards */
    for (uint8_t i = 0; i < 24; i++)
        bits[i] = pulse();
    (void)pulse(); /* 25th: channel A, gain 128 for the next conversion */
    {
        uint8_t sreg = SREG;
        cli();
        edges.unread_mask &= (uint8_t)~take_mask;
        prev_pins |= take_mask; /* read chips went high after the 25th pulse */
        rearm();
        SREG = sreg;
    }
    PCICR = pcicr;

    for (uint8_t c = 0; c < 4; c++) {
        if (!(take_mask & (1u << c)))
            continue;
        uint8_t m = (uint8_t)(1u << c);
        uint32_t v = 0;
        for (uint8_t i = 0; i < 24; i++)
            v = (v << 1) | ((bits[i] & m) ? 1u : 0u);
        if (v & 0x800000UL)
            v |= 0xFF000000UL; /* two's complement 24 -> 32 bits */
        raw[c] = (int32_t)v;
    }
}
