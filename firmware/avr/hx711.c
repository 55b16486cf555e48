/* HX711 driver: see hx711.h. */
#include "hx711.h"

#include <avr/interrupt.h>
#include <avr/io.h>
#include <util/delay.h>

#include "config.h"

EMPTY_INTERRUPT(HX_PCINT_vect); /* only wakes the CPU */

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

void hx711_wake_enable(uint8_t on)
{
    if (on) {
        HX_PCMSK |= HX_DOUT_MASK;
        PCIFR = _BV(HX_PCIE);
        PCICR |= _BV(HX_PCIE);
    } else {
        PCICR &= (uint8_t)~_BV(HX_PCIE);
    }
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
    /* keep the pulse train tight: store the port samples, unpack afterwards */
    for (uint8_t i = 0; i < 24; i++)
        bits[i] = pulse();
    (void)pulse(); /* 25th: channel A, gain 128 for the next conversion */

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
