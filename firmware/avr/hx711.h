/* Four HX711 sharing one SCK line, DOUT on four bits of one port (see config.h). */
#ifndef RIG_HX711_H
#define RIG_HX711_H
#include <stdint.h>

void hx711_init(void);
/* Bit i set when cell i signals data ready (DOUT low). */
uint8_t hx711_ready_mask(void);
/* Clocks out one conversion from all four chips at once: 24 data pulses, MSB first, and
 * a 25th pulse that keeps channel A at gain 128. raw[i] is written for the cells in
 * take_mask only (the others were not ready; their bits are meaningless). */
void hx711_read(int32_t raw[4], uint8_t take_mask);
/* Pin-change interrupt on the DOUT lines: wakes the CPU when a chip becomes ready. */
void hx711_wake_enable(uint8_t on);
#endif
