/* Board clock: see timebase.h. */
#include "timebase.h"

#include <avr/interrupt.h>
#include <avr/io.h>

#include "config.h"

#if F_CPU != 16000000UL
#error "timebase assumes 16 MHz (Timer1 at clk/8 = 2 ticks per microsecond)"
#endif

/* microseconds at the last overflow (one every 65536 ticks = 32768 us): kept as a sum
 * rather than a count, because a 32-bit shift by 15 costs avr-gcc ~100 cycles per read */
static volatile uint32_t overflow_us;

ISR(TIMER1_OVF_vect)
{
    overflow_us += 32768UL;
}

EMPTY_INTERRUPT(TIMER2_COMPA_vect); /* only wakes the CPU */

void timebase_init(void)
{
    TCCR1A = 0;
    TCCR1B = _BV(CS11); /* clk/8, normal mode */
    TCNT1 = 0;
    TIFR1 = _BV(TOV1);
    TIMSK1 = _BV(TOIE1);
    /* Timer2: CTC, clk/1024 (64 us), 63 counts = 4.032 ms; the interrupt is enabled on demand */
    TCCR2A = _BV(WGM21);
    OCR2A = 62;
    TCCR2B = _BV(CS22) | _BV(CS21) | _BV(CS20);
}

uint32_t timebase_us(void)
{
    uint8_t sreg = SREG;
    cli();
    uint16_t t = TCNT1;
    uint32_t base = overflow_us;
    /* an overflow that happened after cli() but is not yet counted */
    if ((TIFR1 & _BV(TOV1)) && t < 0x8000u)
        base += 32768UL;
    SREG = sreg;
    return base + (t >> 1);
}

void timebase_tick(uint8_t on)
{
    if (on) {
        TIFR2 = _BV(OCF2A);
        TIMSK2 = _BV(OCIE2A);
    } else {
        TIMSK2 = 0;
    }
}
