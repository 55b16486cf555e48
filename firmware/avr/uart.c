/* USART0 driver: see uart.h. */
#include "uart.h"

#include <avr/interrupt.h>
#include <avr/io.h>
#include <string.h>

#include "config.h"

/* 256 entries so that uint8_t indices wrap by themselves */
static uint8_t tx_buf[256];
static volatile uint8_t tx_head, tx_tail;
#define RX_SIZE 64u
static uint8_t rx_buf[RX_SIZE];
static volatile uint8_t rx_head, rx_tail;
static volatile uint16_t rx_err, rx_overflow;

void uart_init(void)
{
    /* U2X0 before UBRR0: the order does not matter to the chip, but simavr derives the
     * bit time when UBRR0L is written and would otherwise send at half speed. */
    UCSR0A = _BV(U2X0);
    UBRR0 = (uint16_t)UBRR_VALUE;
    UCSR0C = _BV(UCSZ01) | _BV(UCSZ00); /* 8N1 */
    UCSR0B = _BV(RXEN0) | _BV(TXEN0) | _BV(RXCIE0);
}

ISR(USART_UDRE_vect)
{
    uint8_t t = tx_tail;
    if (t != tx_head) {
        UDR0 = tx_buf[t];
        tx_tail = (uint8_t)(t + 1);
    } else {
        UCSR0B &= (uint8_t)~_BV(UDRIE0);
    }
}

ISR(USART_RX_vect)
{
    uint8_t st = UCSR0A;
    uint8_t b = UDR0;
    if (st & (_BV(FE0) | _BV(DOR0))) {
        if (rx_err != 0xFFFF)
            rx_err++;
        if (st & _BV(FE0))
            return; /* a framing error means the byte is garbage */
    }
    uint8_t h = rx_head, nh = (uint8_t)((h + 1) & (RX_SIZE - 1));
    if (nh == rx_tail) {
        if (rx_overflow != 0xFFFF)
            rx_overflow++;
        return;
    }
    rx_buf[h] = b;
    rx_head = nh;
}

uint8_t uart_tx_free(void)
{
    return (uint8_t)(255u - (uint8_t)(tx_head - tx_tail));
}

uint8_t uart_send(const uint8_t *p, uint8_t n)
{
    if (uart_tx_free() < n)
        return 0;
    uint8_t h = tx_head;
    for (uint8_t i = 0; i < n; i++)
        tx_buf[(uint8_t)(h + i)] = p[i];
    tx_head = (uint8_t)(h + n); /* publish after the bytes are in place */
    UCSR0B |= _BV(UDRIE0);
    return 1;
}

void uart_send_wait(const uint8_t *p, uint8_t n)
{
    while (!uart_send(p, n))
        ; /* the UDRE interrupt frees room (at most 256 bytes = 5 ms at 500 kbaud) */
}

uint8_t uart_rx(uint8_t *b)
{
    uint8_t t = rx_tail;
    if (t == rx_head)
        return 0;
    *b = rx_buf[t];
    rx_tail = (uint8_t)((t + 1) & (RX_SIZE - 1));
    return 1;
}

uint8_t uart_rx_available(void)
{
    return rx_head != rx_tail;
}

static uint16_t read16(volatile uint16_t *v)
{
    uint8_t sreg = SREG;
    cli();
    uint16_t x = *v;
    SREG = sreg;
    return x;
}

uint16_t uart_rx_errors(void)
{
    return read16(&rx_err);
}

uint16_t uart_rx_overflows(void)
{
    return read16(&rx_overflow);
}
