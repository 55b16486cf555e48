/* The board's unique 8-byte id (HELLO). See boardid.c for where it comes from. */
#ifndef RIG_BOARDID_H
#define RIG_BOARDID_H
#include <stdint.h>

/* Needs timebase_init() and sei() first (first boot samples timer jitter). */
void boardid_load(uint8_t id[8]);
#endif
