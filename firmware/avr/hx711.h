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
/* Pin-change interrupt on the DOUT lines: wakes the CPU when a chip becomes ready, and
 * timestamps every falling DOUT edge (a new conversion; also after the ~75 us high pulse a
 * chip gives when a conversion replaces an unread one). */
void hx711_wake_enable(uint8_t on);

/* Ready time (board us) of each chip's latest conversion and the cells with an edge since
 * the last hx711_take_edges; call with interrupts disabled or through hx711_take_edges. */
typedef struct {
    uint32_t ready_us[4];
    uint8_t new_mask;      /* cells with a new falling edge since the last take */
    uint8_t unread_mask;   /* cells whose latest conversion has not been read */
    uint8_t unknown_mask;  /* cells whose ready_us is not an edge time (ready before START) */
    uint16_t skipped[4];   /* conversions replaced before being read (saturating) */
} hx711_edges_t;

/* Atomically copies the edge state into *e and clears new_mask. */
void hx711_take_edges(hx711_edges_t *e);
void hx711_clear_skipped(void);
#endif
