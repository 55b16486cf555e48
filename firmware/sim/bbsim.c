/* bbsim: runs the board firmware ELF, unmodified, in simavr (libsimavr 1.6) at 16 MHz,
 * with four emulated HX711 chips on its pins and its USART0 bridged to a pseudo-terminal,
 * so the host's pyserial code talks to the very binary users flash.
 *
 *   bbsim [options] firmware.elf
 *
 * stdout: one line "PTY /dev/pts/N" (libsimavr prints a few lines of its own too).
 * stdin:  control lines (see usage()). stderr: one JSON stats line at exit.
 *
 * See firmware/README.md and ../shared/notes/firmware-simavr.md for the simavr 1.6
 * pitfalls this works around (marked "pitfall N" below). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "avr_adc.h"
#include "avr_eeprom.h"
#include "avr_ioport.h"
#include "avr_uart.h"
#include "sim_avr.h"
#include "sim_elf.h"
#include "sim_time.h"

#include "../core/store.h"
#include "../core/wire.h"

#define F_CPU 16000000u
#define N_CHIPS 4
#define US(x) ((avr_cycle_count_t)((x) * (F_CPU / 1000000u)))

/* termios2 without <asm/termbits.h>, which conflicts with <termios.h> (pitfall 8d) */
struct termios2_local {
    tcflag_t c_iflag, c_oflag, c_cflag, c_lflag;
    cc_t c_line;
    cc_t c_cc[19];
    speed_t c_ispeed, c_ospeed;
};
#define TCGETS2_L _IOR('T', 0x2A, struct termios2_local)
#define TCSETS2_L _IOW('T', 0x2B, struct termios2_local)
#ifndef BOTHER
#define BOTHER 0010000
#endif

/* ---- options ------------------------------------------------------------------------- */

static struct {
    const char *elf;
    int realtime;
    double speed;            /* simulated seconds per wall second with --realtime */
    double autostart_ms;     /* < 0: off */
    double max_sim_s, max_wall_s;
    const char *txlog, *eeprom_file, *link, *profile;
    double rate_hz;
    double ppm[N_CHIPS];
    int32_t values[N_CHIPS];
    int32_t ramp;
    int control;
    int ideal;               /* chips in step at exactly --rate (ppm still applies), no noise */
    int rate_low;            /* RATE pin low: 1/8 of the rate (10 SPS instead of 80) */
    int have_chip_hz;
    double chip_hz[N_CHIPS];
    double noise;            /* counts rms per conversion; < 0: the datasheet's for the rate */
    unsigned clock_seed;     /* selects the chips' clock spread and phases */
    const char *wave;
    int have_board_id;
    uint8_t board_id[8];
    unsigned seed;
} opt = {
    .speed = 1.0, .autostart_ms = -1, .rate_hz = 80.0, .control = 1, .noise = -1, .clock_seed = 1,
};

/* HX711 timing and noise (shared/notes/reality.md section 1) */
#define CLOCK_LO (91.0 / 80.0)   /* real "80 SPS" chips convert at 91-94 per second */
#define CLOCK_HI (94.0 / 80.0)
#define DOUT_PULSE_US 75.0       /* DOUT high at an update that replaces an unread word */
/* datasheet input noise at gain 128: 90 nV rms at 80 SPS, 50 nV at 10 SPS; 2^23 / 20 mV
 * = 419.4 counts per uV */
#define NOISE_80SPS_COUNTS (0.090 * 419.43)
#define NOISE_10SPS_COUNTS (0.050 * 419.43)

static void usage(FILE *f)
{
    fprintf(f,
            "usage: bbsim [options] FIRMWARE.elf\n"
            "  --realtime            pace simulated time to the wall clock (--speed X for X times)\n"
            "  --autostart-ms MS     inject a START command at simulated time MS (golden runs)\n"
            "  --max-sim-s S         stop after S simulated seconds\n"
            "  --max-wall-s S        stop after S wall seconds (CI backstop)\n"
            "  --txlog FILE          write every byte the firmware sends to FILE\n"
            "  --values a,b,c,d      initial HX711 counts (signed 24-bit)\n"
            "  --ppm a,b,c,d         per-chip oscillator error in ppm (conversion rate)\n"
            "  --rate HZ             nominal HX711 rate (80); chips run 91-94 Hz at 80 unless --ideal\n"
            "  --chip-hz a,b,c,d     the four chips' own conversion rates (overrides the spread)\n"
            "  --clock-seed N        selects the chips' clock spread and phases (default 1)\n"
            "  --rate-low            RATE pin tied low: chips at 1/8 of their rate (10 SPS mode)\n"
            "  --noise COUNTS        ADC noise rms per conversion (default: datasheet, 38 / 21 counts)\n"
            "  --ideal               chips in step at exactly --rate, no noise (exact tests)\n"
            "  --wave FILE           counts vs time: lines t_s,c0,c1,c2,c3 (sorted); each conversion\n"
            "                        takes its chip's value interpolated at its own instant\n"
            "  --ramp N              add N to every chip's value after each conversion\n"
            "  --eeprom FILE         load the EEPROM from FILE (if it exists), save it at exit\n"
            "  --board-id HEX16      store this board id in EEPROM before boot\n"
            "  --seed N              temperature-sensor reading, i.e. entropy for the id\n"
            "  --link PATH           also make PATH a symlink to the pty\n"
            "  --no-control          ignore stdin\n"
            "  --profile FILE        write instruction counts per flash word address (CSV)\n"
            "stdin control lines: set CH COUNTS | setall A B C D | stall CH | unstall CH |\n"
            "  ramp N | reset | stats | quit | wave T_S A B C D (append a --wave row)\n");
}

/* ---- simulator state --------------------------------------------------------------- */

static avr_t *avr;
static volatile sig_atomic_t stop_signal;
static const char *exit_reason = "running";

typedef struct {
    int idx;
    int32_t value;        /* what the next conversion yields */
    uint32_t data;        /* latched 24-bit word being shifted out */
    int ready;            /* a conversion is waiting to be read */
    int bit;              /* SCK pulses counted in the current read (0 = none) */
    int powered;
    int stalled;          /* chip missing/dead: DOUT stuck high, no data */
    int dout;
    avr_cycle_count_t period;
    avr_cycle_count_t next_conv;  /* absolute cycle of the next conversion end */
    avr_cycle_count_t ready_at;
    avr_irq_t *irq;
    /* statistics */
    uint64_t conversions, reads, overwritten, mixed_in_read, partial;
    double noise;         /* counts rms per conversion */
    uint64_t rng;         /* noise generator state */
    size_t wave_pos;      /* cursor into the --wave table */
} chip_t;

/* --wave table (and "wave" control lines) */
static double *wave_t, *wave_v[N_CHIPS];
static size_t wave_n, wave_cap;

static chip_t chips[N_CHIPS];
static avr_irq_t *sck_irq;
static int sck_level;
static avr_cycle_count_t sck_rise, sck_fall;

static struct {
    uint64_t t3_violations, powerdowns, gain_errors, bursts, resets;
    double max_sck_high_us;
    /* burst (read) starts: period between bursts, latency after the last ready chip */
    avr_cycle_count_t last_burst;
    double per_n, per_sum, per_sq, per_min, per_max;
    double lat_n, lat_sum, lat_max;
    double rd_n, rd_sum, rd_max;   /* read duration: first SCK rise to the 25th's fall */
    avr_cycle_count_t burst_start;
    int burst_pulses;
    uint64_t sleep_cycles;
    uint64_t tx_bytes, rx_bytes, tx_dropped, baud_mismatch_bytes, rx_disabled_bytes;
    /* decoded from the firmware's own output */
    uint64_t samples, hellos, acks, calibs, seq_gaps, seq_gap_frames;
    int have_prev;
    uint16_t prev_seq;
    uint32_t prev_t;
    double dt_n, dt_sum, dt_sq, dt_min, dt_max;
    uint64_t flagged_samples;
    /* CPU share while streaming: cycles and sleep cycles at the first and last sample */
    uint64_t s_cyc0, s_sleep0, s_cyc1, s_sleep1;
} st = {.per_min = 1e30, .dt_min = 1e30};

/* ---- HX711 model -------------------------------------------------------------------- */

static void drive_douts(void)
{
    uint8_t value = 0;
    for (int i = 0; i < N_CHIPS; i++)
        if (chips[i].dout)
            value |= (uint8_t)(1u << i);
    /* pitfall 6: declare the level as the pins' external value too, or a PORTC/DDRC write
     * by the firmware re-raises the pins to the pull-up level */
    avr_ioport_external_t ext = {.name = 'C', .mask = 0x0F, .value = value};
    avr_ioctl(avr, AVR_IOCTL_IOPORT_SET_EXTERNAL('C'), &ext);
    for (int i = 0; i < N_CHIPS; i++)
        avr_raise_irq(chips[i].irq, (uint32_t)chips[i].dout);
}

static void set_dout(chip_t *c, int level)
{
    if (c->dout != level) {
        c->dout = level;
        avr_ioport_external_t ext;
        uint8_t value = 0;
        for (int i = 0; i < N_CHIPS; i++)
            if (chips[i].dout)
                value |= (uint8_t)(1u << i);
        ext.name = 'C', ext.mask = 0x0F, ext.value = value;
        avr_ioctl(avr, AVR_IOCTL_IOPORT_SET_EXTERNAL('C'), &ext);
        avr_raise_irq(c->irq, (uint32_t)level);
    }
}

static int32_t clamp24(int64_t v)
{
    return v > WIRE_INT24_MAX ? (int32_t)WIRE_INT24_MAX : v < WIRE_INT24_MIN ? (int32_t)WIRE_INT24_MIN : (int32_t)v;
}

static uint64_t rng_next(uint64_t *x)
{
    /* splitmix64: deterministic, per chip */
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double rng_uniform(uint64_t *x)
{
    return ((double)(rng_next(x) >> 11) + 0.5) / 9007199254740992.0;
}

static double rng_normal(uint64_t *x)
{
    double u = rng_uniform(x), v = rng_uniform(x);
    return sqrt(-2.0 * log(u)) * cos(2.0 * M_PI * v);
}

/* the value chip c converts at simulated time t_s: --wave or the set value, plus noise */
static int32_t conversion_value(chip_t *c, double t_s)
{
    double v = c->value;
    if (wave_n) {
        size_t i = c->wave_pos;
        while (i + 1 < wave_n && wave_t[i + 1] <= t_s)
            i++;
        c->wave_pos = i;
        if (t_s <= wave_t[0])
            v = wave_v[c->idx][0];
        else if (i + 1 >= wave_n)
            v = wave_v[c->idx][wave_n - 1];
        else {
            double f = (t_s - wave_t[i]) / (wave_t[i + 1] - wave_t[i]);
            v = wave_v[c->idx][i] + f * (wave_v[c->idx][i + 1] - wave_v[c->idx][i]);
        }
    }
    if (c->noise > 0)
        v += c->noise * rng_normal(&c->rng);
    return clamp24((int64_t)llround(v));
}

static avr_cycle_count_t pulse_end_timer(avr_t *a, avr_cycle_count_t when, void *param)
{
    (void)a, (void)when;
    chip_t *c = param;
    if (c->powered && !c->stalled && c->ready && c->bit == 0)
        set_dout(c, 0);
    return 0;
}

static avr_cycle_count_t conv_timer(avr_t *a, avr_cycle_count_t when, void *param)
{
    (void)a;
    chip_t *c = param;
    c->next_conv = when + c->period;
    if (!c->powered)
        return 0;
    if (c->stalled)
        return c->next_conv; /* keeps its rhythm, never signals */
    c->conversions++;
    uint32_t word = (uint32_t)conversion_value(c, (double)when / F_CPU) & 0xFFFFFFu;
    if (c->bit > 0 && c->bit <= 24) {
        /* finished while the previous word is being shifted out. Undocumented; modelled
         * as the new word replacing the bits not yet shifted (a single-cell outlier when
         * the high bits differ, bogde/HX711 #28). The read consumes it: no ready edge. */
        c->mixed_in_read++;
        c->data = word;
    } else {
        if (c->bit > 25 || (c->bit && c->bit < 25))
            st.gain_errors++; /* 26/27 pulses select channel B / gain 64 */
        c->bit = 0;
        c->data = word;
        c->ready_at = when;
        if (c->ready) {
            /* replaces an unread word: DOUT high for ~75 us, then low again */
            c->overwritten++;
            set_dout(c, 1);
            avr_cycle_timer_cancel(avr, pulse_end_timer, c);
            avr_cycle_timer_register(avr, US(DOUT_PULSE_US), pulse_end_timer, c);
        } else {
            set_dout(c, 0);
        }
        c->ready = 1;
    }
    if (opt.ramp)
        c->value = clamp24((int64_t)c->value + opt.ramp);
    return c->next_conv;
}

static avr_cycle_count_t chip_phase[N_CHIPS]; /* offset of each chip's first conversion */

static void schedule_conversions(void)
{
    for (int i = 0; i < N_CHIPS; i++) {
        chip_t *c = &chips[i];
        /* first data after the power-up settling time (4 periods), then the chip's phase */
        avr_cycle_count_t first = 4 * c->period + chip_phase[i];
        c->next_conv = avr->cycle + first;
        avr_cycle_timer_register(avr, first, conv_timer, c);
    }
}

static avr_cycle_count_t powerdown_timer(avr_t *a, avr_cycle_count_t when, void *param)
{
    (void)a, (void)when, (void)param;
    /* SCK high for more than 60 us: every chip powers down */
    st.powerdowns++;
    for (int i = 0; i < N_CHIPS; i++) {
        chip_t *c = &chips[i];
        if (!c->powered)
            continue;
        c->powered = 0;
        c->ready = 0;
        c->bit = 0;
        avr_cycle_timer_cancel(avr, conv_timer, c);
        set_dout(c, 1);
    }
    return 0;
}

static void sck_changed(struct avr_irq_t *irq, uint32_t value, void *param)
{
    (void)irq, (void)param;
    int level = value ? 1 : 0;
    if (level == sck_level)
        return;
    sck_level = level;
    avr_cycle_count_t now = avr->cycle;
    if (level) {
        sck_rise = now;
        avr_cycle_timer_register(avr, US(60), powerdown_timer, NULL);
        if (now - sck_fall > US(20) || st.bursts == 0) {
            /* first pulse of a read */
            st.bursts++;
            if (st.last_burst) {
                double p = (double)(now - st.last_burst) / (F_CPU / 1e6);
                st.per_n++, st.per_sum += p, st.per_sq += p * p;
                if (p < st.per_min) st.per_min = p;
                if (p > st.per_max) st.per_max = p;
            }
            st.last_burst = now;
            st.burst_start = now;
            st.burst_pulses = 0;
            avr_cycle_count_t last_ready = 0;
            int any = 0;
            for (int i = 0; i < N_CHIPS; i++)
                if (chips[i].ready && chips[i].bit == 0 && !chips[i].stalled) {
                    any = 1;
                    if (chips[i].ready_at > last_ready)
                        last_ready = chips[i].ready_at;
                }
            if (any) {
                double l = (double)(now - last_ready) / (F_CPU / 1e6);
                st.lat_n++, st.lat_sum += l;
                if (l > st.lat_max) st.lat_max = l;
            }
        }
        for (int i = 0; i < N_CHIPS; i++) {
            chip_t *c = &chips[i];
            if (!c->powered || c->stalled)
                continue;
            if (c->bit == 0 && !c->ready)
                continue; /* nothing to shift: the pulse is ignored */
            c->bit++;
            if (c->bit <= 24) {
                set_dout(c, (int)((c->data >> (24 - c->bit)) & 1u));
            } else if (c->bit == 25) {
                c->ready = 0;
                c->reads++;
                set_dout(c, 1);
            }
            /* 26, 27: gain selection pulses, checked at the next conversion */
        }
    } else {
        sck_fall = now;
        avr_cycle_timer_cancel(avr, powerdown_timer, NULL);
        double high_us = (double)(now - sck_rise) / (F_CPU / 1e6);
        if (high_us > st.max_sck_high_us)
            st.max_sck_high_us = high_us;
        if (high_us > 50.0)
            st.t3_violations++;
        if (++st.burst_pulses == 25) {
            double d = (double)(now - st.burst_start) / (F_CPU / 1e6);
            st.rd_n++, st.rd_sum += d;
            if (d > st.rd_max) st.rd_max = d;
        }
        for (int i = 0; i < N_CHIPS; i++) {
            chip_t *c = &chips[i];
            if (c->powered)
                continue;
            /* SCK low again: power up; the first data after the settling time (4 periods
             * at 80 Hz, datasheet: 50 ms) */
            c->powered = 1;
            c->bit = 0;
            c->ready = 0;
            c->next_conv = now + 4 * c->period + chip_phase[i];
            avr_cycle_timer_register(avr, c->next_conv - now, conv_timer, c);
        }
    }
}

/* ---- UART <-> pty bridge ------------------------------------------------------------- */

static int pty_master = -1, pty_slave = -1;
static FILE *txlog;
static uint8_t out_ring[1 << 16];
static uint32_t out_head, out_tail;
static uint8_t in_buf[4096];
static size_t in_len, in_pos;
static int uart_xon = 1;
static avr_irq_t *uart_in_irq;
static wire_parser_t tx_parser;
static wire_packet_t tx_packet;

static uint32_t firmware_baud(void)
{
    /* ATmega328P: UCSR0A 0xC0 (U2X0 bit 1), UBRR0L 0xC4, UBRR0H 0xC5 */
    uint16_t ubrr = (uint16_t)(avr->data[0xC4] | ((avr->data[0xC5] & 0x0F) << 8));
    int u2x = (avr->data[0xC0] >> 1) & 1;
    return (uint32_t)(F_CPU / ((u2x ? 8u : 16u) * (ubrr + 1u)));
}

static uint32_t host_baud(void)
{
    struct termios2_local t;
    if (ioctl(pty_master, TCGETS2_L, &t) != 0)
        return 0;
    return t.c_ospeed;
}

/* 1 when the host's port speed differs from the firmware's by more than 2.5 %: bytes
 * are then garbled both ways, as on a real serial line (pitfall 9). */
static int baud_mismatch(void)
{
    uint32_t fw = firmware_baud(), host = host_baud();
    if (!fw || !host)
        return 0;
    double r = (double)host / fw;
    return r < 0.975 || r > 1.025;
}

static void count_sample(const wire_packet_t *p)
{
    uint16_t seq = wire_get_u16(p->payload);
    uint32_t t = wire_get_u32(p->payload + 2);
    uint16_t status = wire_get_u16(p->payload + 18);
    if (st.samples == 0) {
        st.s_cyc0 = avr->cycle;
        st.s_sleep0 = st.sleep_cycles;
    }
    st.s_cyc1 = avr->cycle;
    st.s_sleep1 = st.sleep_cycles;
    st.samples++;
    if (status)
        st.flagged_samples++;
    if (st.have_prev && seq != 0) {
        uint16_t d = (uint16_t)(seq - st.prev_seq);
        if (d != 1) {
            st.seq_gaps++;
            st.seq_gap_frames += (uint16_t)(d - 1);
        }
        double dt = (double)(uint32_t)(t - st.prev_t);
        st.dt_n++, st.dt_sum += dt, st.dt_sq += dt * dt;
        if (dt < st.dt_min) st.dt_min = dt;
        if (dt > st.dt_max) st.dt_max = dt;
    }
    st.have_prev = 1;
    st.prev_seq = seq;
    st.prev_t = t;
}

static void uart_out(struct avr_irq_t *irq, uint32_t value, void *param)
{
    (void)irq, (void)param;
    uint8_t b = (uint8_t)value;
    st.tx_bytes++;
    if (txlog)
        fputc(b, txlog);
    wire_parser_push(&tx_parser, b);
    while (wire_parser_next(&tx_parser, &tx_packet)) {
        switch (tx_packet.type) {
        case WIRE_T_SAMPLE: count_sample(&tx_packet); break;
        case WIRE_T_HELLO: st.hellos++; st.have_prev = 0; break;
        case WIRE_T_ACK: st.acks++; break;
        case WIRE_T_CALIB: st.calibs++; break;
        }
    }
    if (out_head - out_tail >= sizeof out_ring) {
        st.tx_dropped++;
        return;
    }
    out_ring[out_head++ & (sizeof out_ring - 1)] = b;
}

static void uart_xon_cb(struct avr_irq_t *irq, uint32_t value, void *param)
{
    (void)irq, (void)value, (void)param;
    uart_xon = 1;
}

static void uart_xoff_cb(struct avr_irq_t *irq, uint32_t value, void *param)
{
    (void)irq, (void)value, (void)param;
    uart_xon = 0;
}

static void pty_open(void)
{
    pty_master = posix_openpt(O_RDWR | O_NOCTTY);
    if (pty_master < 0 || grantpt(pty_master) || unlockpt(pty_master)) {
        perror("bbsim: pty");
        exit(2);
    }
    /* pitfall 8a: raw mode before anyone opens the slave (0x03, 0x0A... are data) */
    struct termios t;
    tcgetattr(pty_master, &t);
    cfmakeraw(&t);
    tcsetattr(pty_master, TCSANOW, &t);
    /* start at the firmware's nominal rate, so a client that does not set one works */
    struct termios2_local t2;
    if (ioctl(pty_master, TCGETS2_L, &t2) == 0) {
        t2.c_cflag &= ~(tcflag_t)CBAUD;
        t2.c_cflag |= BOTHER;
        t2.c_ispeed = t2.c_ospeed = 500000;
        ioctl(pty_master, TCSETS2_L, &t2);
    }
    fcntl(pty_master, F_SETFL, fcntl(pty_master, F_GETFL) | O_NONBLOCK);
    const char *name = ptsname(pty_master);
    /* pitfall 8b: keep a slave open, or the master reads EIO while no client is there */
    pty_slave = open(name, O_RDWR | O_NOCTTY);
    if (opt.link) {
        unlink(opt.link);
        if (symlink(name, opt.link) != 0)
            perror("bbsim: --link");
    }
    printf("PTY %s\n", name);
    fflush(stdout);
}

static void pty_service(void)
{
    int garble = -1;
    /* firmware -> host */
    while (out_tail != out_head) {
        uint32_t n = out_head - out_tail;
        uint32_t off = out_tail & (sizeof out_ring - 1);
        if (n > sizeof out_ring - off)
            n = sizeof out_ring - off;
        if (garble < 0)
            garble = baud_mismatch();
        if (garble) {
            for (uint32_t i = 0; i < n; i++)
                out_ring[off + i] ^= 0x55;
            st.baud_mismatch_bytes += n;
        }
        ssize_t w = write(pty_master, out_ring + off, n);
        if (w <= 0) {
            if (garble) /* restore, so a retry does not garble twice */
                for (uint32_t i = 0; i < n; i++)
                    out_ring[off + i] ^= 0x55;
            if (w < 0 && errno == EAGAIN) {
                /* nobody reads: the tty queue is full; drop rather than stall the MCU */
                uint32_t queued = out_head - out_tail;
                if (queued > sizeof out_ring / 2) {
                    st.tx_dropped += queued;
                    out_tail = out_head;
                }
            }
            break;
        }
        if (garble && (uint32_t)w < n)
            for (uint32_t i = (uint32_t)w; i < n; i++)
                out_ring[off + i] ^= 0x55;
        out_tail += (uint32_t)w;
    }
    /* host -> firmware */
    if (in_pos == in_len) {
        ssize_t r = read(pty_master, in_buf, sizeof in_buf);
        in_pos = 0;
        in_len = r > 0 ? (size_t)r : 0;
        if (r > 0 && !(avr->data[0xC1] & 0x10)) {
            /* UCSR0B.RXEN0 clear (reset, boot): the chip ignores the line */
            st.rx_disabled_bytes += (uint64_t)r;
            in_len = 0;
        } else if (r > 0) {
            if (garble < 0)
                garble = baud_mismatch();
            if (garble) {
                for (ssize_t i = 0; i < r; i++)
                    in_buf[i] ^= 0x55;
                st.baud_mismatch_bytes += (uint64_t)r;
            }
        }
    }
    while (in_pos < in_len && uart_xon) {
        st.rx_bytes++;
        avr_raise_irq(uart_in_irq, in_buf[in_pos++]);
    }
}

static void uart_setup(void)
{
    /* pitfall 4: no usleep on UCSR0A polls, no echo of TX lines to stdout */
    uint32_t f = 0;
    avr_ioctl(avr, AVR_IOCTL_UART_GET_FLAGS('0'), &f);
    f &= ~(uint32_t)(AVR_UART_FLAG_STDIO | AVR_UART_FLAG_POLL_SLEEP);
    avr_ioctl(avr, AVR_IOCTL_UART_SET_FLAGS('0'), &f);
}

/* ---- simulated time events ------------------------------------------------------------ */

static avr_cycle_count_t autostart_timer(avr_t *a, avr_cycle_count_t when, void *param)
{
    (void)a, (void)when, (void)param;
    uint8_t pkt[8];
    uint8_t n = wire_encode(pkt, WIRE_C_START, NULL, 0);
    for (uint8_t i = 0; i < n; i++) {
        st.rx_bytes++;
        avr_raise_irq(uart_in_irq, pkt[i]);
    }
    return 0;
}

/* pitfall 5: the default sleep callback usleeps to follow the wall clock; count the
 * cycles the MCU sleeps instead (its idle share) and pace in the run loop */
static void sleep_cb(avr_t *a, avr_cycle_count_t how_long)
{
    (void)a;
    st.sleep_cycles += how_long + 1;
}

static void set_temperature_sensor(void)
{
    /* the firmware hashes temperature-sensor readings into its id at first boot */
    avr_irq_t *t = avr_io_getirq(avr, AVR_IOCTL_ADC_GETIRQ, ADC_IRQ_TEMP);
    if (t)
        avr_raise_irq(t, 250 + opt.seed % 200);
}

/* ---- EEPROM --------------------------------------------------------------------------- */

static uint8_t *eeprom_mem(void)
{
    avr_eeprom_desc_t d = {.ee = NULL, .offset = 0, .size = 0};
    avr_ioctl(avr, AVR_IOCTL_EEPROM_GET, &d);
    return d.ee;
}

static void eeprom_load(void)
{
    uint8_t *ee = eeprom_mem();
    if (!ee)
        return;
    if (opt.eeprom_file) {
        FILE *f = fopen(opt.eeprom_file, "rb");
        if (f) {
            size_t n = fread(ee, 1, 1024, f);
            (void)n;
            fclose(f);
        }
    }
    if (opt.have_board_id)
        store_id_encode(ee + STORE_ID_ADDR, opt.board_id);
}

static void eeprom_save(void)
{
    uint8_t *ee = eeprom_mem();
    if (!ee || !opt.eeprom_file)
        return;
    FILE *f = fopen(opt.eeprom_file, "wb");
    if (!f) {
        perror("bbsim: --eeprom");
        return;
    }
    fwrite(ee, 1, 1024, f);
    fclose(f);
}

/* ---- --wave input ---------------------------------------------------------------------- */

/* appends one row; 0 when t does not increase */
static int wave_append(double t, const double v[N_CHIPS])
{
    if (wave_n && t <= wave_t[wave_n - 1])
        return 0;
    size_t done = wave_n;
    for (int i = 0; i < N_CHIPS; i++)
        if (chips[i].wave_pos < done)
            done = chips[i].wave_pos;
    if (done > 65536) {
        /* rows every chip has passed: drop them (a live feed runs for hours) */
        memmove(wave_t, wave_t + done, (wave_n - done) * sizeof *wave_t);
        for (int i = 0; i < N_CHIPS; i++) {
            memmove(wave_v[i], wave_v[i] + done, (wave_n - done) * sizeof *wave_v[i]);
            chips[i].wave_pos -= done;
        }
        wave_n -= done;
    }
    if (wave_n == wave_cap) {
        wave_cap = wave_cap ? 2 * wave_cap : 4096;
        wave_t = realloc(wave_t, wave_cap * sizeof *wave_t);
        for (int i = 0; i < N_CHIPS; i++)
            if (!(wave_v[i] = realloc(wave_v[i], wave_cap * sizeof *wave_v[i])))
                wave_t = NULL;
        if (!wave_t) {
            fprintf(stderr, "bbsim: wave table: out of memory\n");
            exit(2);
        }
    }
    wave_t[wave_n] = t;
    for (int i = 0; i < N_CHIPS; i++)
        wave_v[i][wave_n] = v[i];
    wave_n++;
    return 1;
}

static void wave_load(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        perror("bbsim: --wave");
        exit(2);
    }
    char line[512];
    while (fgets(line, sizeof line, f)) {
        double t, v[N_CHIPS];
        if (sscanf(line, "%lf,%lf,%lf,%lf,%lf", &t, &v[0], &v[1], &v[2], &v[3]) != 5)
            continue; /* a header or comment line */
        if (!wave_append(t, v)) {
            fprintf(stderr, "bbsim: --wave: times must increase (line with t=%g)\n", t);
            exit(2);
        }
    }
    fclose(f);
    if (!wave_n) {
        fprintf(stderr, "bbsim: --wave %s: no lines t_s,c0,c1,c2,c3\n", path);
        exit(2);
    }
}

/* ---- reset ------------------------------------------------------------------------------ */

static void sim_reset(void)
{
    /* avr_reset clears every cycle timer (HX711 conversions included) and the registers;
     * the EEPROM survives, as on the chip. The HX711s are separate chips: they keep
     * their phase. */
    avr_cycle_count_t now = avr->cycle;
    avr_cycle_count_t next[N_CHIPS];
    for (int i = 0; i < N_CHIPS; i++)
        next[i] = chips[i].next_conv > now ? chips[i].next_conv - now : 1;
    avr_reset(avr);
    st.resets++;
    uart_setup();
    for (int i = 0; i < N_CHIPS; i++)
        if (chips[i].powered)
            avr_cycle_timer_register(avr, next[i], conv_timer, &chips[i]);
    sck_level = 0;
    drive_douts(); /* pitfall 7: registers reset to 0 reads as "all ready" */
    set_temperature_sensor();
    uart_xon = 1;
}

/* ---- control input -------------------------------------------------------------------- */

static char ctl_buf[4096];
static size_t ctl_len;
static int ctl_open = 1;

static void print_stats(FILE *f);

static void control_line(char *line)
{
    char cmd[32];
    long a[4];
    int n = sscanf(line, "%31s %ld %ld %ld %ld", cmd, &a[0], &a[1], &a[2], &a[3]);
    if (n < 1)
        return;
    if (!strcmp(cmd, "wave")) {
        double t, v[N_CHIPS];
        if (sscanf(line, "%*s %lf %lf %lf %lf %lf", &t, &v[0], &v[1], &v[2], &v[3]) == 5)
            wave_append(t, v);
        else
            fprintf(stderr, "bbsim: bad wave line: %s\n", line);
    } else if (!strcmp(cmd, "set") && n == 3 && a[0] >= 0 && a[0] < N_CHIPS) {
        chips[a[0]].value = clamp24(a[1]);
    } else if (!strcmp(cmd, "setall") && n == 5) {
        for (int i = 0; i < N_CHIPS; i++)
            chips[i].value = clamp24(a[i]);
    } else if (!strcmp(cmd, "stall") && n == 2 && a[0] >= 0 && a[0] < N_CHIPS) {
        chip_t *c = &chips[a[0]];
        c->stalled = 1;
        c->ready = 0;
        c->bit = 0;
        set_dout(c, 1);
    } else if (!strcmp(cmd, "unstall") && n == 2 && a[0] >= 0 && a[0] < N_CHIPS) {
        chips[a[0]].stalled = 0;
    } else if (!strcmp(cmd, "ramp") && n == 2) {
        opt.ramp = (int32_t)a[0];
    } else if (!strcmp(cmd, "reset")) {
        sim_reset();
    } else if (!strcmp(cmd, "stats")) {
        print_stats(stdout);
    } else if (!strcmp(cmd, "quit")) {
        stop_signal = 1;
        exit_reason = "quit";
    } else {
        fprintf(stderr, "bbsim: unknown control line: %s\n", line);
    }
}

static void control_service(void)
{
    if (!opt.control || !ctl_open)
        return;
    struct pollfd p = {.fd = 0, .events = POLLIN};
    /* poll, then one read: no O_NONBLOCK on a stdin shared with the parent (pitfall 14) */
    if (poll(&p, 1, 0) <= 0 || !(p.revents & (POLLIN | POLLHUP)))
        return;
    ssize_t r = read(0, ctl_buf + ctl_len, sizeof ctl_buf - 1 - ctl_len);
    if (r <= 0) {
        ctl_open = 0; /* EOF: keep running, controlled by signals */
        return;
    }
    ctl_len += (size_t)r;
    char *start = ctl_buf, *nl;
    while ((nl = memchr(start, '\n', ctl_len - (size_t)(start - ctl_buf)))) {
        *nl = 0;
        control_line(start);
        start = nl + 1;
    }
    ctl_len -= (size_t)(start - ctl_buf);
    memmove(ctl_buf, start, ctl_len);
    if (ctl_len == sizeof ctl_buf - 1)
        ctl_len = 0; /* an absurdly long line */
}

/* ---- stats ---------------------------------------------------------------------------- */

static struct timespec wall0;

static double wall_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - wall0.tv_sec) + (t.tv_nsec - wall0.tv_nsec) / 1e9;
}

static void json_u64_array(FILE *f, const char *name, size_t off)
{
    fprintf(f, "\"%s\":[", name);
    for (int i = 0; i < N_CHIPS; i++)
        fprintf(f, "%s%llu", i ? "," : "", (unsigned long long)*(uint64_t *)((char *)&chips[i] + off));
    fprintf(f, "],");
}

static void print_stats(FILE *f)
{
    double sim_s = (double)avr->cycle / F_CPU;
    double w = wall_s();
    double per_mean = st.per_n ? st.per_sum / st.per_n : 0;
    double per_sd = st.per_n > 1 ? sqrt(fmax(0, st.per_sq / st.per_n - per_mean * per_mean)) : 0;
    double dt_mean = st.dt_n ? st.dt_sum / st.dt_n : 0;
    double dt_sd = st.dt_n > 1 ? sqrt(fmax(0, st.dt_sq / st.dt_n - dt_mean * dt_mean)) : 0;
    uint32_t fw = firmware_baud();
    fprintf(f, "{\"exit\":\"%s\",\"sim_s\":%.6f,\"wall_s\":%.3f,\"speed\":%.3f,", exit_reason, sim_s, w,
            w > 0 ? sim_s / w : 0);
    fprintf(f, "\"cycles\":%llu,\"sleep_cycles\":%llu,\"cpu_busy\":%.5f,", (unsigned long long)avr->cycle,
            (unsigned long long)st.sleep_cycles, avr->cycle ? 1.0 - (double)st.sleep_cycles / avr->cycle : 0);
    uint64_t sc = st.s_cyc1 - st.s_cyc0;
    fprintf(f, "\"streaming_cpu_busy\":%.5f,", sc ? 1.0 - (double)(st.s_sleep1 - st.s_sleep0) / sc : 0);
    fprintf(f, "\"firmware_baud\":%u,\"host_baud\":%u,\"tx_bytes\":%llu,\"rx_bytes\":%llu,", fw, host_baud(),
            (unsigned long long)st.tx_bytes, (unsigned long long)st.rx_bytes);
    /* 10 bits per 8N1 byte on the wire (simavr itself spaces bytes by 11 bits: pitfall 3) */
    fprintf(f, "\"rx_disabled_bytes\":%llu,", (unsigned long long)st.rx_disabled_bytes);
    fprintf(f, "\"uart_load\":%.5f,\"tx_dropped\":%llu,\"baud_mismatch_bytes\":%llu,",
            (sim_s > 0 && fw) ? st.tx_bytes * 10.0 / (fw * sim_s) : 0, (unsigned long long)st.tx_dropped,
            (unsigned long long)st.baud_mismatch_bytes);
    fprintf(f, "\"samples\":%llu,\"hellos\":%llu,\"acks\":%llu,\"calibs\":%llu,\"seq_gaps\":%llu,"
               "\"seq_gap_frames\":%llu,\"flagged_samples\":%llu,",
            (unsigned long long)st.samples, (unsigned long long)st.hellos, (unsigned long long)st.acks,
            (unsigned long long)st.calibs, (unsigned long long)st.seq_gaps, (unsigned long long)st.seq_gap_frames,
            (unsigned long long)st.flagged_samples);
    fprintf(f, "\"sample_dt_us\":{\"n\":%.0f,\"mean\":%.3f,\"sd\":%.3f,\"min\":%.0f,\"max\":%.0f},", st.dt_n,
            dt_mean, dt_sd, st.dt_n ? st.dt_min : 0, st.dt_max);
    fprintf(f, "\"read_period_us\":{\"n\":%.0f,\"mean\":%.3f,\"sd\":%.3f,\"min\":%.3f,\"max\":%.3f},", st.per_n,
            per_mean, per_sd, st.per_n ? st.per_min : 0, st.per_max);
    fprintf(f, "\"ready_latency_us\":{\"mean\":%.3f,\"max\":%.3f},", st.lat_n ? st.lat_sum / st.lat_n : 0,
            st.lat_max);
    fprintf(f, "\"read_us\":{\"mean\":%.3f,\"max\":%.3f},", st.rd_n ? st.rd_sum / st.rd_n : 0, st.rd_max);
    fprintf(f, "\"reads\":%llu,\"t3_violations\":%llu,\"max_sck_high_us\":%.3f,\"powerdowns\":%llu,"
               "\"gain_errors\":%llu,\"resets\":%llu,",
            (unsigned long long)st.bursts, (unsigned long long)st.t3_violations, st.max_sck_high_us,
            (unsigned long long)st.powerdowns, (unsigned long long)st.gain_errors, (unsigned long long)st.resets);
    json_u64_array(f, "chip_conversions", offsetof(chip_t, conversions));
    json_u64_array(f, "chip_reads", offsetof(chip_t, reads));
    json_u64_array(f, "chip_overwritten", offsetof(chip_t, overwritten));
    json_u64_array(f, "chip_mixed_in_read", offsetof(chip_t, mixed_in_read));
    fprintf(f, "\"chip_hz\":[");
    for (int i = 0; i < N_CHIPS; i++)
        fprintf(f, "%s%.4f", i ? "," : "", (double)F_CPU / (double)chips[i].period);
    fprintf(f, "],");
    fprintf(f, "\"state\":%d}\n", avr->state);
    fflush(f);
}

/* ---- main ----------------------------------------------------------------------------- */

static void on_signal(int s)
{
    (void)s;
    stop_signal = 1;
}

static int parse4(const char *s, double *d, int32_t *v)
{
    char *e;
    for (int i = 0; i < N_CHIPS; i++) {
        double x = strtod(s, &e);
        if (e == s)
            return -1;
        if (d)
            d[i] = x;
        if (v)
            v[i] = clamp24((int64_t)llround(x));
        s = e;
        if (i < N_CHIPS - 1) {
            if (*s != ',')
                return -1;
            s++;
        }
    }
    return *s ? -1 : 0;
}

static void parse_args(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
#define NEXT() (i + 1 < argc ? argv[++i] : (fprintf(stderr, "bbsim: %s needs a value\n", a), exit(2), ""))
        if (!strcmp(a, "--realtime")) opt.realtime = 1;
        else if (!strcmp(a, "--speed")) opt.speed = atof(NEXT()), opt.realtime = 1;
        else if (!strcmp(a, "--autostart-ms")) opt.autostart_ms = atof(NEXT());
        else if (!strcmp(a, "--max-sim-s")) opt.max_sim_s = atof(NEXT());
        else if (!strcmp(a, "--max-wall-s")) opt.max_wall_s = atof(NEXT());
        else if (!strcmp(a, "--txlog")) opt.txlog = NEXT();
        else if (!strcmp(a, "--eeprom")) opt.eeprom_file = NEXT();
        else if (!strcmp(a, "--link")) opt.link = NEXT();
        else if (!strcmp(a, "--profile")) opt.profile = NEXT();
        else if (!strcmp(a, "--rate")) opt.rate_hz = atof(NEXT());
        else if (!strcmp(a, "--ramp")) opt.ramp = atoi(NEXT());
        else if (!strcmp(a, "--seed")) opt.seed = (unsigned)strtoul(NEXT(), NULL, 0);
        else if (!strcmp(a, "--no-control")) opt.control = 0;
        else if (!strcmp(a, "--ideal")) opt.ideal = 1;
        else if (!strcmp(a, "--rate-low")) opt.rate_low = 1;
        else if (!strcmp(a, "--noise")) opt.noise = atof(NEXT());
        else if (!strcmp(a, "--clock-seed")) opt.clock_seed = (unsigned)strtoul(NEXT(), NULL, 0);
        else if (!strcmp(a, "--wave")) opt.wave = NEXT();
        else if (!strcmp(a, "--chip-hz")) {
            if (parse4(NEXT(), opt.chip_hz, NULL)) { fprintf(stderr, "bbsim: --chip-hz needs a,b,c,d\n"); exit(2); }
            opt.have_chip_hz = 1;
        }
        else if (!strcmp(a, "--values")) {
            if (parse4(NEXT(), NULL, opt.values)) { fprintf(stderr, "bbsim: --values needs a,b,c,d\n"); exit(2); }
        } else if (!strcmp(a, "--ppm")) {
            if (parse4(NEXT(), opt.ppm, NULL)) { fprintf(stderr, "bbsim: --ppm needs a,b,c,d\n"); exit(2); }
        } else if (!strcmp(a, "--board-id")) {
            const char *h = NEXT();
            if (strlen(h) != 16) { fprintf(stderr, "bbsim: --board-id needs 16 hex digits\n"); exit(2); }
            for (int k = 0; k < 8; k++) {
                char b[3] = {h[2 * k], h[2 * k + 1], 0};
                char *e;
                opt.board_id[k] = (uint8_t)strtoul(b, &e, 16);
                if (*e) { fprintf(stderr, "bbsim: --board-id needs 16 hex digits\n"); exit(2); }
            }
            opt.have_board_id = 1;
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); exit(0); }
        else if (a[0] == '-') { fprintf(stderr, "bbsim: unknown option %s\n", a); usage(stderr); exit(2); }
        else opt.elf = a;
#undef NEXT
    }
    if (!opt.elf) { usage(stderr); exit(2); }
    if (opt.rate_hz <= 0 || opt.speed <= 0) { fprintf(stderr, "bbsim: --rate and --speed must be > 0\n"); exit(2); }
}

int main(int argc, char **argv)
{
    parse_args(argc, argv);
    prctl(PR_SET_PDEATHSIG, SIGTERM); /* die with the test or CLI that started us */
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0);
    clock_gettime(CLOCK_MONOTONIC, &wall0);

    elf_firmware_t fw;
    memset(&fw, 0, sizeof fw);
    if (elf_read_firmware(opt.elf, &fw) != 0) {
        fprintf(stderr, "bbsim: cannot read firmware %s\n", opt.elf);
        return 2;
    }
    /* pitfall 11: the ELF has no .mmcu section */
    strcpy(fw.mmcu, "atmega328p");
    fw.frequency = F_CPU;
    avr = avr_make_mcu_by_name(fw.mmcu);
    if (!avr)
        return 2;
    avr_init(avr);
    avr_load_firmware(avr, &fw);
    avr->frequency = F_CPU;
    avr->sleep = sleep_cb;
    avr->log = 0;

    if (opt.txlog && !(txlog = fopen(opt.txlog, "wb"))) {
        perror("bbsim: --txlog");
        return 2;
    }
    wire_parser_init(&tx_parser);
    eeprom_load();

    /* HX711s: SCK on PD2, DOUT on PC0..PC3 */
    sck_irq = avr_io_getirq(avr, AVR_IOCTL_IOPORT_GETIRQ('D'), 2);
    avr_irq_register_notify(sck_irq, sck_changed, NULL);
    if (opt.wave)
        wave_load(opt.wave);
    uint64_t clock_rng = 0x5EED0000ull + opt.clock_seed;
    for (int i = 0; i < N_CHIPS; i++) {
        chip_t *c = &chips[i];
        c->idx = i;
        c->value = opt.values[i];
        c->powered = 1;
        c->dout = 1;
        c->irq = avr_io_getirq(avr, AVR_IOCTL_IOPORT_GETIRQ('C'), i);
        /* each chip on its own oscillator (reality.md): a seeded spread, unless ideal */
        double spread = rng_uniform(&clock_rng), phase = rng_uniform(&clock_rng);
        double hz = opt.rate_hz * (opt.ideal ? 1.0 : CLOCK_LO + (CLOCK_HI - CLOCK_LO) * spread);
        if (opt.have_chip_hz)
            hz = opt.chip_hz[i];
        if (opt.rate_low)
            hz /= 8.0;
        hz *= 1.0 + opt.ppm[i] * 1e-6;
        c->period = (avr_cycle_count_t)llround(F_CPU / hz);
        /* ideal: a small fixed chip-to-chip stagger (0-7 us); else a random phase */
        chip_phase[i] = opt.ideal ? US(1.75 * i) : (avr_cycle_count_t)(phase * (double)c->period);
        c->noise = opt.noise >= 0 ? opt.noise : opt.ideal ? 0.0 : opt.rate_low ? NOISE_10SPS_COUNTS : NOISE_80SPS_COUNTS;
        c->rng = 0xC0FFEE00ull + 7919ull * (uint64_t)i + opt.clock_seed;
    }
    drive_douts(); /* pitfall 7: after reset PINC reads 0, i.e. "all ready" */
    schedule_conversions();
    set_temperature_sensor();

    uart_setup();
    uart_in_irq = avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_INPUT);
    avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUTPUT), uart_out, NULL);
    avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUT_XON), uart_xon_cb, NULL);
    avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUT_XOFF), uart_xoff_cb, NULL);
    pty_open();

    if (opt.autostart_ms >= 0)
        avr_cycle_timer_register(avr, (avr_cycle_count_t)llround(opt.autostart_ms * (F_CPU / 1000.0)),
                                 autostart_timer, NULL);

    avr_cycle_count_t max_cycles = opt.max_sim_s > 0 ? (avr_cycle_count_t)llround(opt.max_sim_s * F_CPU) : 0;
    unsigned n = 0;
    int rc = 0;
    avr_cycle_count_t last_service = 0;
    static uint32_t prof[16384];
    for (;;) {
        if (opt.profile && avr->state == cpu_Running)
            prof[(avr->pc >> 1) & 16383]++;
        int state = avr_run(avr);
        if (state == cpu_Done) {
            exit_reason = "done";
            break;
        }
        if (state == cpu_Crashed) {
            exit_reason = "crashed";
            rc = 3;
            break;
        }
        if (max_cycles && avr->cycle >= max_cycles) {
            exit_reason = "max-sim-s";
            break;
        }
        /* serve the pty and stdin every 2048 instructions, or every simulated 0.5 ms when
         * the MCU sleeps (one sleeping step can jump to the next timer, ms away) */
        if ((++n & 2047) && avr->cycle - last_service < US(500))
            continue;
        last_service = avr->cycle;
        pty_service();
        control_service();
        if (stop_signal) {
            if (!strcmp(exit_reason, "running"))
                exit_reason = "signal";
            break;
        }
        if (opt.max_wall_s > 0 && wall_s() > opt.max_wall_s) {
            exit_reason = "max-wall-s";
            break;
        }
        if (opt.realtime) {
            /* keep simulated time within 0.5 ms of speed * wall time */
            double ahead = (double)avr->cycle / F_CPU / opt.speed - wall_s();
            if (ahead > 0.0005) {
                struct timespec ts = {0, (long)(fmin(ahead, 0.05) * 1e9)};
                nanosleep(&ts, NULL);
            }
        }
    }
    pty_service(); /* flush what is left */
    if (opt.profile) {
        FILE *pf = fopen(opt.profile, "w");
        if (pf) {
            for (int i = 0; i < 16384; i++)
                if (prof[i])
                    fprintf(pf, "%d,%u\n", i * 2, prof[i]);
            fclose(pf);
        }
    }
    if (txlog)
        fclose(txlog);
    eeprom_save();
    print_stats(stderr);
    if (opt.link)
        unlink(opt.link);
    if (pty_slave >= 0)
        close(pty_slave);
    close(pty_master);
    return rc;
}
