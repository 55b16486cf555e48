/* USART0, interrupt driven: a 256-byte transmit ring drained by the UDRE interrupt and
 * a 64-byte receive ring filled by the RX interrupt. */
#ifndef RIG_UART_H
#define RIG_UART_H
#include <stdint.h>

void uart_init(void);
/* Queues the whole packet or nothing; returns 1 when queued. */
uint8_t uart_send(const uint8_t *p, uint8_t n);
/* Queues the packet, waiting for room if needed (replies to commands, never samples). */
void uart_send_wait(const uint8_t *p, uint8_t n);
uint8_t uart_tx_free(void);
/* Next received byte: returns 1 and stores it, or 0 when none. */
uint8_t uart_rx(uint8_t *b);
uint8_t uart_rx_available(void);
/* Receive errors since boot (hardware overrun or framing error), saturating. */
uint16_t uart_rx_errors(void);
/* Received bytes lost since boot because the receive ring was full, saturating. */
uint16_t uart_rx_overflows(void);
#endif
