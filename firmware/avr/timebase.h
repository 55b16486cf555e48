/* Board clock: microseconds since boot from Timer1 (clk/8 = 0.5 us ticks), u32, wraps
 * after 2^32 us. Also a 4 ms wake-up tick (Timer2) so the idle sleep notices timeouts. */
#ifndef RIG_TIMEBASE_H
#define RIG_TIMEBASE_H
#include <stdint.h>

void timebase_init(void);
uint32_t timebase_us(void);
/* Wake the CPU from idle sleep every 4.032 ms while on. A separate timer, because
 * rewriting a Timer1 compare register makes simavr 1.6 re-phase Timer1's overflow (its
 * avr_timer_reconfigure), which made the board clock step back by one overflow. */
void timebase_tick(uint8_t on);
#endif
