/* Host tests of the portable firmware core (firmware/core/), built with the host's gcc.
 *
 * Usage: test_core PATH/TO/WIRE_FORMAT.md
 * The golden vectors are parsed from the ```golden block of the document at run time, so
 * the document stays the single source. Prints "N passed, N failed"; exit status 1 on any
 * failure. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/commands.h"
#include "../core/store.h"
#include "../core/wire.h"

static int passed, failed;

#define CHECK(cond, ...)                                                                   \
    do {                                                                                   \
        if (cond) {                                                                        \
            passed++;                                                                      \
        } else {                                                                           \
            failed++;                                                                      \
            printf("FAIL %s:%d: ", __FILE__, __LINE__);                                    \
            printf(__VA_ARGS__);                                                           \
            printf("\n");                                                                  \
        }                                                                                  \
    } while (0)

/* ---- golden vectors ------------------------------------------------------------------- */

#define MAX_VECTORS 64
typedef struct {
    char name[64];
    uint8_t bytes[WIRE_MAX_PACKET];
    int nbytes;
    char fields[512];
} vector_t;

static vector_t vectors[MAX_VECTORS];
static int nvectors;

static int parse_hex_bytes(const char *s, uint8_t *out, int cap)
{
    int n = 0;
    while (*s) {
        while (*s && isspace((unsigned char)*s))
            s++;
        if (!*s)
            break;
        if (!isxdigit((unsigned char)s[0]) || !isxdigit((unsigned char)s[1]) || n >= cap)
            return -1;
        char b[3] = {s[0], s[1], 0};
        out[n++] = (uint8_t)strtoul(b, NULL, 16);
        s += 2;
    }
    return n;
}

static void chomp(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' '))
        s[--n] = 0;
}

static int load_vectors(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        printf("cannot open %s\n", path);
        return -1;
    }
    char line[480];
    int in_block = 0;
    vector_t *v = NULL;
    while (fgets(line, sizeof line, f)) {
        chomp(line);
        if (!in_block) {
            if (strncmp(line, "```golden", 9) == 0)
                in_block = 1;
            continue;
        }
        if (strncmp(line, "```", 3) == 0)
            break;
        if (strncmp(line, "vector ", 7) == 0) {
            if (nvectors >= MAX_VECTORS)
                break;
            v = &vectors[nvectors++];
            memset(v, 0, sizeof *v);
            snprintf(v->name, sizeof v->name, "%.63s", line + 7);
        } else if (v && strncmp(line, "bytes ", 6) == 0) {
            v->nbytes = parse_hex_bytes(line + 6, v->bytes, (int)sizeof v->bytes);
        } else if (v && strncmp(line, "fields ", 7) == 0) {
            snprintf(v->fields, sizeof v->fields, " %s ", line + 7);
        }
    }
    fclose(f);
    return nvectors;
}

/* The value of key in the fields line, copied to out; 0 when absent. */
static int field(const vector_t *v, const char *key, char *out, size_t cap)
{
    char pat[64];
    snprintf(pat, sizeof pat, " %s=", key);
    const char *p = strstr(v->fields, pat);
    if (!p)
        return 0;
    p += strlen(pat);
    size_t n = 0;
    while (p[n] && p[n] != ' ')
        n++;
    if (n >= cap)
        n = cap - 1;
    memcpy(out, p, n);
    out[n] = 0;
    return 1;
}

static long fnum(const vector_t *v, const char *key)
{
    char buf[64];
    if (!field(v, key, buf, sizeof buf))
        return -1;
    return strtol(buf, NULL, 0);
}

static const vector_t *find_vector(const char *name)
{
    for (int i = 0; i < nvectors; i++)
        if (strcmp(vectors[i].name, name) == 0)
            return &vectors[i];
    return NULL;
}

/* ---- a fake board for the command handler --------------------------------------------- */

typedef struct {
    uint8_t streaming, starts, stops;
    uint8_t id[8];
    uint8_t fw[3];
    uint8_t eeprom[STORE_CALIB_RECORD_MAX];
} fake_t;

static uint8_t fk_streaming(void *c) { return ((fake_t *)c)->streaming; }
static void fk_start(void *c) { ((fake_t *)c)->streaming = 1; ((fake_t *)c)->starts++; }
static void fk_stop(void *c) { ((fake_t *)c)->streaming = 0; ((fake_t *)c)->stops++; }
static void fk_hello(void *c, wire_hello_t *h)
{
    fake_t *f = c;
    memcpy(h->firmware, f->fw, 3);
    memcpy(h->board_id, f->id, 8);
    h->rate_mhz = 80000;
    h->flags = f->streaming ? 1 : 0;
}
static uint8_t fk_calib_read(void *c, uint8_t *blob, uint8_t *len)
{
    return store_calib_decode(((fake_t *)c)->eeprom, blob, len);
}
static uint8_t fk_calib_write(void *c, const uint8_t *blob, uint8_t len)
{
    store_calib_encode(((fake_t *)c)->eeprom, blob, len);
    return WIRE_ST_OK;
}

/* the health figures of the golden vector "stats" */
static void fk_stats(void *c, wire_stats_t *s)
{
    static const wire_chip_stats_t chips[4] = {
        {91, 989011, 2, 0}, {92, 1000000, 0, 0}, {0, 0, 0, 1}, {65536, 712000000, 65535, 65535}};
    s->t_us = 1000000;
    s->frames_dropped = 3, s->uart_rx_errors = 1, s->uart_rx_overflows = 2;
    s->cmd_crc_failures = 4, s->cmd_bytes_skipped = 5;
    s->flags = ((fake_t *)c)->streaming ? 1 : 0;
    memcpy(s->chip, chips, sizeof chips);
}

static fake_t fake;
static const cmd_board_t board = {&fake, fk_streaming, fk_start, fk_stop, fk_hello,
                                  fk_calib_read, fk_calib_write, fk_stats};

/* comma-separated decimals of key into out[4]; 1 when present */
static int field4(const vector_t *v, const char *key, long out[4])
{
    char buf[128];
    if (!field(v, key, buf, sizeof buf))
        return 0;
    char *p = buf;
    for (int k = 0; k < 4; k++) {
        out[k] = strtol(p, &p, 10);
        if (*p == ',')
            p++;
    }
    return 1;
}

static void fake_reset(void)
{
    memset(&fake, 0, sizeof fake);
    memset(fake.eeprom, 0xFF, sizeof fake.eeprom);
}

/* Parses exactly one packet out of bytes; returns 1 on success. */
static int parse_one(const uint8_t *bytes, int n, wire_packet_t *pkt)
{
    wire_parser_t p;
    wire_parser_init(&p);
    int got = 0;
    wire_packet_t tmp;
    for (int i = 0; i < n; i++) {
        wire_parser_push(&p, bytes[i]);
        while (wire_parser_next(&p, &tmp)) {
            if (got == 0)
                *pkt = tmp;
            got++;
        }
    }
    return got == 1 && p.skipped == 0 && wire_parser_pending(&p) == 0;
}

/* ---- tests ------------------------------------------------------------------------------ */

static void test_crc(void)
{
    const char *s = "123456789";
    CHECK(wire_crc16(0xFFFF, (const uint8_t *)s, 9) == 0x29B1, "CRC check value");
}

static void test_golden_encode(void)
{
    for (int i = 0; i < nvectors; i++) {
        const vector_t *v = &vectors[i];
        uint8_t out[WIRE_MAX_PACKET];
        uint8_t pl[WIRE_MAX_PAYLOAD];
        int n = -1;
        long type = fnum(v, "type");
        long ver = fnum(v, "ver") < 0 ? WIRE_VERSION : fnum(v, "ver");
        char buf[256];
        if (ver != WIRE_VERSION) {
            /* an older version's packet: only the envelope is checked below */
            n = v->nbytes;
            memcpy(out, v->bytes, (size_t)n);
        } else if (type == WIRE_T_SAMPLE) {
            int32_t raw[4];
            field(v, "raw", buf, sizeof buf);
            char *p = buf;
            for (int k = 0; k < 4; k++) {
                raw[k] = (int32_t)strtol(p, &p, 10);
                if (*p == ',')
                    p++;
            }
            long a[4];
            uint16_t age[4];
            CHECK(field4(v, "age_us", a), "%s: has age_us", v->name);
            for (int k = 0; k < 4; k++)
                age[k] = (uint16_t)a[k];
            wire_sample_payload(pl, (uint16_t)fnum(v, "seq"), (uint32_t)strtoul(strstr(v->fields, "t_us=") + 5, NULL, 10),
                                raw, (uint16_t)fnum(v, "status"), age);
            n = wire_encode(out, WIRE_T_SAMPLE, pl, WIRE_SAMPLE_PAYLOAD_LEN);
        } else if (type == WIRE_T_HELLO) {
            wire_hello_t h;
            int a, b, c;
            field(v, "firmware", buf, sizeof buf);
            sscanf(buf, "%d.%d.%d", &a, &b, &c);
            h.firmware[0] = (uint8_t)a, h.firmware[1] = (uint8_t)b, h.firmware[2] = (uint8_t)c;
            field(v, "board_id", buf, sizeof buf);
            parse_hex_bytes(buf, h.board_id, 8);
            h.rate_mhz = (uint32_t)fnum(v, "rate_mhz");
            h.flags = (uint8_t)fnum(v, "flags");
            CHECK(fnum(v, "cells") == 4 && fnum(v, "adc") == 1 && fnum(v, "wire") == WIRE_VERSION, "%s: constants", v->name);
            wire_hello_payload(pl, &h);
            n = wire_encode(out, WIRE_T_HELLO, pl, WIRE_HELLO_PAYLOAD_LEN);
        } else if (type == WIRE_T_STATS) {
            wire_stats_t st;
            long per[4], span[4], sk[4], to[4];
            CHECK(field4(v, "periods", per) && field4(v, "span_us", span) && field4(v, "skipped", sk) &&
                      field4(v, "timeouts", to), "%s: per-chip fields", v->name);
            st.t_us = (uint32_t)fnum(v, "t_us");
            st.frames_dropped = (uint16_t)fnum(v, "frames_dropped");
            st.uart_rx_errors = (uint16_t)fnum(v, "uart_rx_errors");
            st.uart_rx_overflows = (uint16_t)fnum(v, "uart_rx_overflows");
            st.cmd_crc_failures = (uint16_t)fnum(v, "cmd_crc_failures");
            st.cmd_bytes_skipped = (uint16_t)fnum(v, "cmd_bytes_skipped");
            st.flags = (uint8_t)fnum(v, "flags");
            for (int k = 0; k < 4; k++) {
                st.chip[k].periods = (uint32_t)per[k], st.chip[k].span_us = (uint32_t)span[k];
                st.chip[k].skipped = (uint16_t)sk[k], st.chip[k].timeouts = (uint16_t)to[k];
            }
            wire_stats_payload(pl, &st);
            n = wire_encode(out, WIRE_T_STATS, pl, WIRE_STATS_PAYLOAD_LEN);
        } else if (type == WIRE_T_ACK) {
            pl[0] = (uint8_t)fnum(v, "command");
            pl[1] = (uint8_t)fnum(v, "status");
            n = wire_encode(out, WIRE_T_ACK, pl, 2);
        } else if (type == WIRE_T_CALIB) {
            pl[0] = (uint8_t)fnum(v, "status");
            field(v, "blob", buf, sizeof buf);
            int bl = parse_hex_bytes(buf, pl + 1, WIRE_CALIB_BLOB_MAX);
            n = wire_encode(out, WIRE_T_CALIB, pl, (uint8_t)(1 + bl));
        } else if (type >= 0x81) {
            int bl = 0;
            if (field(v, "blob", buf, sizeof buf))
                bl = parse_hex_bytes(buf, pl, WIRE_CALIB_BLOB_MAX);
            else
                CHECK(fnum(v, "len") == 0, "%s: len", v->name);
            n = wire_encode(out, (uint8_t)type, pl, (uint8_t)bl);
        }
        CHECK(n == v->nbytes && memcmp(out, v->bytes, (size_t)n) == 0, "%s: encoding matches the document", v->name);

        wire_packet_t pkt;
        CHECK(parse_one(v->bytes, v->nbytes, &pkt), "%s: parses as exactly one packet", v->name);
        CHECK(pkt.type == type && pkt.ver == ver && pkt.len == v->nbytes - 7, "%s: parsed header", v->name);
        if (type == WIRE_T_SAMPLE) {
            long a[4];
            field4(v, "age_us", a);
            CHECK(wire_get_u16(pkt.payload) == fnum(v, "seq"), "%s: seq decodes", v->name);
            CHECK(wire_get_u16(pkt.payload + 18) == fnum(v, "status"), "%s: status decodes", v->name);
            CHECK(wire_get_u16(pkt.payload + 20) == a[0] && wire_get_u16(pkt.payload + 26) == a[3],
                  "%s: ages decode", v->name);
        }
    }
}

/* Commands from the document, answered by the handler, give the document's replies. */
static void test_golden_commands(void)
{
    static const struct {
        const char *cmd, *reply;
        int stored_blob;
    } pairs[] = {
        {"cmd_identify", "hello", 0},
        {"cmd_start", "ack_start", 0},
        {"cmd_calib_read", "calib_data", 1},
        {"cmd_calib_read", "calib_empty", 0},
        {"cmd_stats", "stats", 0},
    };
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        const vector_t *c = find_vector(pairs[i].cmd), *r = find_vector(pairs[i].reply);
        CHECK(c && r, "vectors %s and %s exist", pairs[i].cmd, pairs[i].reply);
        if (!c || !r)
            continue;
        fake_reset();
        uint8_t id[8] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF};
        memcpy(fake.id, id, 8);
        fake.fw[0] = 1, fake.fw[1] = 1;
        fake.streaming = strcmp(pairs[i].reply, "stats") == 0; /* STATS is allowed while streaming */
        if (pairs[i].stored_blob) {
            uint8_t blob[8] = {1, 2, 3, 4, 5, 6, 7, 8};
            store_calib_encode(fake.eeprom, blob, 8);
        }
        wire_packet_t pkt;
        uint8_t out[CMD_REPLY_MAX];
        CHECK(parse_one(c->bytes, c->nbytes, &pkt), "%s parses", c->name);
        uint8_t n = cmd_handle(&board, &pkt, out);
        CHECK(n == r->nbytes && memcmp(out, r->bytes, n) == 0, "%s answered with %s", c->name, r->name);
    }
    /* calib write then read: the blob written comes back */
    const vector_t *w = find_vector("cmd_calib_write");
    CHECK(w != NULL, "cmd_calib_write exists");
    if (w) {
        fake_reset();
        wire_packet_t pkt;
        uint8_t out[CMD_REPLY_MAX];
        parse_one(w->bytes, w->nbytes, &pkt);
        uint8_t n = cmd_handle(&board, &pkt, out);
        CHECK(n == 9 && out[3] == WIRE_T_ACK && out[5] == 0x85 && out[6] == 0, "calib write acked ok");
        uint8_t blob[64], len;
        CHECK(store_calib_decode(fake.eeprom, blob, &len) == 0 && len == 4 &&
                  memcmp(blob, "\xDE\xAD\xBE\xEF", 4) == 0,
              "calib write stored the blob");
        fake.streaming = 1;
        n = cmd_handle(&board, &pkt, out);
        CHECK(n == 9 && out[6] == WIRE_ST_BUSY, "calib write refused while streaming");
    }
}

static void test_bit_flips(void)
{
    int total = 0, rejected = 0;
    for (int i = 0; i < nvectors; i++) {
        const vector_t *v = &vectors[i];
        if (fnum(v, "type") != WIRE_T_SAMPLE)
            continue;
        for (int bit = 0; bit < v->nbytes * 8; bit++) {
            uint8_t b[WIRE_MAX_PACKET];
            memcpy(b, v->bytes, (size_t)v->nbytes);
            b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            wire_parser_t p;
            wire_packet_t pkt;
            wire_parser_init(&p);
            int got = 0;
            for (int k = 0; k < v->nbytes; k++) {
                wire_parser_push(&p, b[k]);
                while (wire_parser_next(&p, &pkt))
                    got++;
            }
            total++;
            rejected += got == 0;
        }
    }
    CHECK(total > 0 && rejected == total, "every single-bit flip of a SAMPLE vector is rejected (%d/%d)", rejected, total);
}

static void test_concat_chunking(void)
{
    uint8_t stream[2048];
    int n = 0, expect = 0;
    int types[MAX_VECTORS];
    for (int i = 0; i < nvectors; i++) {
        long t = fnum(&vectors[i], "type");
        if (t < 1 || t > 0x7F)
            continue;
        memcpy(stream + n, vectors[i].bytes, (size_t)vectors[i].nbytes);
        n += vectors[i].nbytes;
        types[expect++] = (int)t;
    }
    int ok_all = 1;
    /* push the stream in chunks of every size the parser's buffer holds beside a
     * complete packet (the firmware pushes one byte at a time, then drains) */
    /* (a partial STATS packet, 70 bytes, plus the chunk must fit in the buffer) */
    for (int chunk = 1; chunk <= (int)(WIRE_MAX_PACKET - (WIRE_HEADER_LEN + WIRE_STATS_PAYLOAD_LEN + WIRE_CRC_LEN - 1)); chunk++) {
        wire_parser_t p;
        wire_packet_t pkt;
        wire_parser_init(&p);
        int got = 0, ok = 1;
        for (int i = 0; i < n; i += chunk) {
            for (int k = i; k < i + chunk && k < n; k++)
                wire_parser_push(&p, stream[k]);
            while (wire_parser_next(&p, &pkt)) {
                if (got >= expect || pkt.type != types[got])
                    ok = 0;
                got++;
            }
        }
        if (!ok || got != expect || p.skipped != 0)
            ok_all = 0;
    }
    CHECK(expect > 0 && ok_all, "concatenated board->host vectors decode identically in any chunking");
}

static void test_parser_resync(void)
{
    const vector_t *id = find_vector("cmd_identify");
    const vector_t *st = find_vector("cmd_start");
    if (!id || !st) {
        CHECK(0, "vectors for resync test");
        return;
    }
    wire_parser_t p;
    wire_packet_t pkt;
    uint8_t stream[256];
    int n = 0;
    /* a false sync claiming 20 bytes of payload, with a real packet hidden inside it */
    const uint8_t fake_hdr[] = {0xA5, 0x5A, 0x01, 0x81, 20};
    memcpy(stream, fake_hdr, 5), n = 5;
    memcpy(stream + n, id->bytes, (size_t)id->nbytes), n += id->nbytes;
    for (int k = 0; k < 3; k++) /* the false candidate completes (and fails) inside these */
        memcpy(stream + n, st->bytes, (size_t)st->nbytes), n += st->nbytes;
    wire_parser_init(&p);
    int got[8], ng = 0;
    for (int i = 0; i < n; i++) {
        wire_parser_push(&p, stream[i]);
        while (wire_parser_next(&p, &pkt) && ng < 8)
            got[ng++] = pkt.type;
    }
    CHECK(ng == 4 && got[0] == 0x81 && got[1] == 0x82 && got[2] == 0x82 && got[3] == 0x82,
          "packets hidden behind a false sync are found (%d found)", ng);
    CHECK(p.crc_failures == 1 && p.skipped == 5, "false sync counted: crc %u skipped %u", p.crc_failures, p.skipped);

    /* len over 96 rejects the header at once */
    wire_parser_init(&p);
    const uint8_t bad[] = {0xA5, 0x5A, 0x01, 0x81, 97};
    for (int i = 0; i < 5; i++)
        wire_parser_push(&p, bad[i]);
    for (int i = 0; i < id->nbytes; i++)
        wire_parser_push(&p, id->bytes[i]);
    ng = 0;
    while (wire_parser_next(&p, &pkt))
        ng++;
    CHECK(ng == 1 && pkt.type == 0x81 && p.skipped == 5, "len > 96 rejected without waiting");

    /* an abandoned partial packet: expire() frees the parser for the next command */
    wire_parser_init(&p);
    const uint8_t partial[] = {0xA5, 0x5A, 0x01, 0x85, 40, 1, 2, 3};
    for (int i = 0; i < 8; i++)
        wire_parser_push(&p, partial[i]);
    CHECK(!wire_parser_next(&p, &pkt) && wire_parser_pending(&p) == 8, "partial packet held");
    wire_parser_expire(&p);
    ng = 0;
    while (wire_parser_next(&p, &pkt))
        ng++;
    for (int i = 0; i < id->nbytes; i++) {
        wire_parser_push(&p, id->bytes[i]);
        while (wire_parser_next(&p, &pkt))
            ng++;
    }
    CHECK(ng == 1 && pkt.type == 0x81 && wire_parser_pending(&p) == 0, "after expiry the next command parses");

    /* garbage including lone sync bytes between packets */
    wire_parser_init(&p);
    const uint8_t junk[] = {0x00, 0xA5, 0xA5, 0x13, 0x5A, 0xA5};
    ng = 0;
    for (int i = 0; i < 6; i++)
        wire_parser_push(&p, junk[i]);
    for (int i = 0; i < st->nbytes; i++) {
        wire_parser_push(&p, st->bytes[i]);
        while (wire_parser_next(&p, &pkt))
            ng++;
    }
    CHECK(ng == 1 && pkt.type == 0x82 && p.skipped == 6, "junk skipped (%u)", p.skipped);
}

static void test_commands_errors(void)
{
    wire_packet_t pkt = {WIRE_VERSION, 0x99, 0, {0}};
    uint8_t out[CMD_REPLY_MAX];
    fake_reset();
    uint8_t n = cmd_handle(&board, &pkt, out);
    CHECK(n == 9 && out[3] == WIRE_T_ACK && out[5] == 0x99 && out[6] == WIRE_ST_UNKNOWN_COMMAND, "unknown command -> status 1");
    pkt.type = WIRE_C_START, pkt.len = 1;
    n = cmd_handle(&board, &pkt, out);
    CHECK(n == 9 && out[6] == WIRE_ST_BAD_LENGTH && fake.starts == 0, "START with payload -> status 2, not started");
    pkt.type = WIRE_C_CALIB_WRITE, pkt.len = 65;
    n = cmd_handle(&board, &pkt, out);
    CHECK(n == 9 && out[6] == WIRE_ST_BAD_LENGTH, "65-byte blob -> status 2");
    pkt.ver = 1, pkt.type = WIRE_C_IDENTIFY, pkt.len = 0;
    n = cmd_handle(&board, &pkt, out);
    CHECK(n == 9 && out[2] == WIRE_VERSION && out[5] == 0x81 && out[6] == WIRE_ST_BAD_VERSION,
          "wire version 1 command -> status 5");
    pkt.ver = WIRE_VERSION, pkt.type = WIRE_C_STATS, pkt.len = 1;
    n = cmd_handle(&board, &pkt, out);
    CHECK(n == 9 && out[5] == WIRE_C_STATS && out[6] == WIRE_ST_BAD_LENGTH, "STATS with payload -> status 2");
    pkt.len = 0;
    pkt.ver = WIRE_VERSION, pkt.type = WIRE_T_SAMPLE;
    CHECK(cmd_handle(&board, &pkt, out) == 0, "board->host packet echoed back is not answered");
    pkt.type = WIRE_C_START, pkt.len = 0;
    n = cmd_handle(&board, &pkt, out);
    CHECK(n == 9 && out[6] == 0 && fake.starts == 1 && fake.streaming, "START acked, streaming");
    n = cmd_handle(&board, &pkt, out);
    CHECK(n == 9 && out[5] == WIRE_C_START && out[6] == 0 && fake.starts == 1 && fake.streaming,
          "START while streaming acked, stream left alone (idempotent)");
    pkt.type = WIRE_C_IDENTIFY;
    n = cmd_handle(&board, &pkt, out);
    CHECK(n == 27 && out[3] == WIRE_T_HELLO && out[5 + 18] == 1, "HELLO flags say streaming");
    pkt.type = WIRE_C_STOP;
    n = cmd_handle(&board, &pkt, out);
    CHECK(n == 9 && out[6] == 0 && fake.stops == 1 && !fake.streaming, "STOP acked");
    n = cmd_handle(&board, &pkt, out);
    CHECK(n == 9 && out[6] == 0 && fake.stops == 2, "STOP while stopped acked (idempotent)");
    /* the largest reply fits */
    uint8_t blob[64];
    for (int i = 0; i < 64; i++)
        blob[i] = (uint8_t)(i * 7);
    store_calib_encode(fake.eeprom, blob, 64);
    pkt.type = WIRE_C_CALIB_READ;
    n = cmd_handle(&board, &pkt, out);
    CHECK(n == CMD_REPLY_MAX && out[5] == 0 && memcmp(out + 6, blob, 64) == 0, "64-byte blob read back");
}

static void test_store(void)
{
    uint8_t rec[STORE_CALIB_RECORD_MAX], blob[64], len;
    memset(rec, 0xFF, sizeof rec);
    CHECK(store_calib_decode(rec, blob, &len) == WIRE_ST_BLOB_INVALID && len == 0, "erased EEPROM -> no blob");
    CHECK(store_calib_encode(rec, (const uint8_t *)"", 0) == 3, "empty blob record is 3 bytes");
    CHECK(store_calib_decode(rec, blob, &len) == WIRE_ST_OK && len == 0, "empty blob is valid");
    const uint8_t b[5] = {9, 8, 7, 6, 5};
    store_calib_encode(rec, b, 5);
    CHECK(store_calib_decode(rec, blob, &len) == WIRE_ST_OK && len == 5 && memcmp(blob, b, 5) == 0, "blob round trip");
    int all_detected = 1;
    for (int i = 0; i < 8 * 8; i++) { /* every single-bit error in len, blob and crc */
        uint8_t r2[STORE_CALIB_RECORD_MAX];
        memcpy(r2, rec, sizeof r2);
        r2[i / 8] ^= (uint8_t)(1u << (i % 8));
        if (store_calib_decode(r2, blob, &len) == WIRE_ST_OK && i / 8 < 8)
            all_detected = 0;
    }
    CHECK(all_detected, "any bit error in the stored record reads as no blob");

    uint8_t idrec[STORE_ID_RECORD_LEN];
    memset(idrec, 0xFF, sizeof idrec);
    CHECK(!store_id_valid(idrec), "erased id invalid");
    const uint8_t id[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    store_id_encode(idrec, id);
    CHECK(store_id_valid(idrec), "id record valid");
    idrec[3] ^= 0x10;
    CHECK(!store_id_valid(idrec), "corrupted id record invalid");

    store_idgen_t g1, g2;
    uint8_t id1[8], id2[8];
    store_idgen_init(&g1), store_idgen_init(&g2);
    for (int i = 0; i < 64; i++) {
        store_idgen_feed(&g1, (uint8_t)i);
        store_idgen_feed(&g2, (uint8_t)(i == 63 ? 64 : i));
    }
    store_idgen_finish(&g1, id1), store_idgen_finish(&g2, id2);
    int differing = 0;
    for (int i = 0; i < 8; i++)
        differing += id1[i] != id2[i];
    CHECK(differing >= 6, "one different late entropy byte changes most id bytes (%d/8)", differing);
}

static void test_sample_status(void)
{
    int32_t raw[4] = {0, 8388607, -8388608, -5};
    CHECK(wire_sample_status(raw, 0, 0) == 0x0220, "saturation bits from full-scale values");
    CHECK(wire_sample_status(raw, 0x9, 0x8) == (0x0220 | 0x0001 | 0x5000), "not-ready and timed-out bits");
    uint8_t pl[WIRE_SAMPLE_PAYLOAD_LEN];
    int32_t back[4] = {123456, -654321, 2, -3};
    uint16_t age[4] = {0, 1, 10870, 65535};
    wire_sample_payload(pl, 7, 0xDEADBEEF, back, 0x1234, age);
    CHECK(wire_get_i24(pl + 6) == 123456 && wire_get_i24(pl + 9) == -654321 && wire_get_i24(pl + 15) == -3 &&
              wire_get_u32(pl + 2) == 0xDEADBEEF && wire_get_u16(pl + 24) == 10870,
          "int24, u32 and age round trip");
    CHECK(wire_age_us(1000, 990) == 10 && wire_age_us(5, 0xFFFFFFF0u) == 21, "age across the clock wrap");
    CHECK(wire_age_us(100000, 0) == WIRE_AGE_UNKNOWN && wire_age_us(65535, 0) == WIRE_AGE_UNKNOWN &&
              wire_age_us(65534, 0) == 65534,
          "age saturates at 65535");
}

int main(int argc, char **argv)
{
    const char *doc = argc > 1 ? argv[1] : "WIRE_FORMAT.md";
    int nv = load_vectors(doc);
    CHECK(nv >= 12, "golden vectors loaded from %s (%d)", doc, nv);
    int malformed = 0;
    for (int i = 0; i < nvectors; i++)
        malformed += vectors[i].nbytes < 7 || fnum(&vectors[i], "type") < 0;
    CHECK(malformed == 0, "every vector has bytes and a type");
    test_crc();
    test_golden_encode();
    test_golden_commands();
    test_bit_flips();
    test_concat_chunking();
    test_parser_resync();
    test_commands_errors();
    test_store();
    test_sample_status();
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
