/* Base64 for kubeconfig data fields and the exec plugin's cluster info. */
#include "config/base64.h"

#include "core/alloc.h"

#include <stdint.h>

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* The value of one base64 character, or -1. */
static int value_of(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

klease_status klease__base64_decode(const char *in, size_t len, char **out, size_t *out_len)
{
    /* Four characters make three bytes, so this bound is never exceeded. */
    char *buf = klease__malloc(len / 4 * 3 + 1);
    if (buf == NULL)
        return KLEASE_ENOMEM;

    size_t n = 0;
    uint32_t acc = 0;
    int quad = 0; /* characters in the current group of four */
    int pad = 0;  /* '=' seen; only more '=' and line breaks may follow */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c == '\r' || c == '\n')
            continue;
        if (c == '=') {
            /* Padding may only complete a group that has 2 or 3 characters. */
            if (quad + pad < 2)
                goto bad;
            pad++;
            if (quad + pad > 4)
                goto bad;
            continue;
        }
        int v = value_of(c);
        if (v < 0 || pad > 0)
            goto bad;
        acc = acc << 6 | (uint32_t)v;
        if (++quad == 4) {
            buf[n++] = (char)(acc >> 16);
            buf[n++] = (char)(acc >> 8);
            buf[n++] = (char)acc;
            acc = 0;
            quad = 0;
        }
    }
    if (quad == 0 && pad == 0) {
        /* Complete groups only. */
    } else if (quad == 2 && pad == 2) {
        buf[n++] = (char)(acc >> 4);
    } else if (quad == 3 && pad == 1) {
        buf[n++] = (char)(acc >> 10);
        buf[n++] = (char)(acc >> 2);
    } else {
        goto bad;
    }
    buf[n] = '\0';
    *out = buf;
    *out_len = n;
    return KLEASE_OK;
bad:
    klease__free(buf);
    return KLEASE_EINVAL;
}

char *klease__base64_encode(const void *in, size_t len)
{
    const unsigned char *p = in;
    char *out = klease__malloc((len + 2) / 3 * 4 + 1);
    if (out == NULL)
        return NULL;
    size_t n = 0;
    size_t i = 0;
    for (; i + 2 < len; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        out[n++] = alphabet[v >> 18 & 63];
        out[n++] = alphabet[v >> 12 & 63];
        out[n++] = alphabet[v >> 6 & 63];
        out[n++] = alphabet[v & 63];
    }
    if (i < len) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < len ? (uint32_t)p[i + 1] << 8 : 0);
        out[n++] = alphabet[v >> 18 & 63];
        out[n++] = alphabet[v >> 12 & 63];
        out[n++] = i + 1 < len ? alphabet[v >> 6 & 63] : '=';
        out[n++] = '=';
    }
    out[n] = '\0';
    return out;
}
