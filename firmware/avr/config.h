/* Build-time configuration of the board firmware: pins, rates, timeouts, version.
 * Everything a builder may need to change is here (or on the make command line). */
#ifndef RIG_CONFIG_H
#define RIG_CONFIG_H

#ifndef F_CPU
#define F_CPU 16000000UL
#endif
#ifndef BAUD
#define BAUD 500000UL
#endif

/* UART with U2X: UBRR = F_CPU / (8 * BAUD) - 1 must be an integer, otherwise the
 * actual rate differs from what the host opens the port with. */
#if (F_CPU % (8UL * BAUD)) != 0
#error "BAUD is not exact at this F_CPU with U2X (F_CPU / (8 * BAUD) must be an integer); at 16 MHz use 250000, 500000 or 1000000"
#endif
#define UBRR_VALUE (F_CPU / (8UL * BAUD) - 1UL)
#if UBRR_VALUE > 4095
#error "BAUD too low for UBRR0"
#endif

#define FW_VERSION_MAJOR 1
#define FW_VERSION_MINOR 2 /* 1.2: START while streaming keeps the stream */
#define FW_VERSION_PATCH 0

/* HX711 output rate: 80 Hz with the RATE pin high, 10 Hz with it low (many cheap modules
 * tie it low). Reported in HELLO in millihertz; the real rate follows each chip's
 * oscillator and the host measures it from t_us. */
#ifndef HX711_RATE_HZ
#define HX711_RATE_HZ 80
#endif
#if HX711_RATE_HZ != 80 && HX711_RATE_HZ != 10
#error "HX711_RATE_HZ must be 80 (RATE pin high) or 10 (RATE pin low)"
#endif
#define NOMINAL_RATE_MHZ (HX711_RATE_HZ * 1000UL)

/* A read happens as soon as every live cell is ready. A cell not ready TIMEOUT_US after
 * the previous read is marked timed out and no longer waited for, so one missing chip
 * delays the stream once, not every frame. The timeout covers two and a half periods of the
 * slow mode (RATE low: nominal 10 SPS) whatever the build: modules with RATE tied low then
 * stream at ~10-12 Hz with valid values (and STATS shows the chips' real rate) instead of
 * timing every cell out. */
#define TIMEOUT_US 250000UL

/* DOUT goes high for about this long when a conversion replaces an unread one (olkal/
 * HX711_ADC #81); the falling edge after it is timestamped this much earlier. */
#define HX_DOUT_PULSE_US 75UL

/* No read starts this close before a chip's next conversion (predicted from its measured
 * period): a conversion finishing while the bits are shifted out is undocumented and may
 * corrupt the word. A read takes ~85 us in simavr; the board waits instead (at most this
 * plus the 75 us pulse). */
#ifndef READ_GUARD_US
#define READ_GUARD_US 130UL
#endif

/* A partial command packet that gets no new byte for this long is abandoned. */
#define RX_PACKET_TIMEOUT_US 50000UL

/* Pins (Arduino Uno / Nano):
 *   SCK of all four HX711  -> PD2 (D2)
 *   DOUT of cell 0..3      -> PC0..PC3 (A0..A3)
 * The four DOUT bits share one port so that one PINC read samples all of them on the
 * same SCK edge. */
#define HX_SCK_DDR DDRD
#define HX_SCK_PORT PORTD
#define HX_SCK_BIT PD2
#define HX_DOUT_DDR DDRC
#define HX_DOUT_PORT PORTC
#define HX_DOUT_PIN PINC
#define HX_DOUT_MASK 0x0Fu /* PC0..PC3 */
#define HX_PCMSK PCMSK1    /* pin-change wake-up on PC0..PC3 (PCINT8..11) */
#define HX_PCIE PCIE1
#define HX_PCINT_vect PCINT1_vect

#endif
