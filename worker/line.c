/*
 * line — see line.h.
 */
#include "line.h"

#include "proto.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The code point of the UTF-8 sequence of step bytes at p if it is a C1
   control (U+0080..U+009F: NEL, CSI, ...) or a line or paragraph separator
   (U+2028, U+2029), else 0. */
static unsigned
s_separator (const char *p, size_t step)
{
    const unsigned char *u = (const unsigned char *)p;
    if (step == 2 && u[0] == 0xC2 && u[1] < 0xA0)
        return u[1];
    if (step == 3 && u[0] == 0xE2 && u[1] == 0x80 && (u[2] == 0xA8 || u[2] == 0xA9))
        return 0x2000u | (u[2] == 0xA8 ? 0x28u : 0x29u);
    return 0;
}

size_t
line_escape (const char *text, size_t len, char *out)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)text[i];
        size_t step = proto_utf8_len (text + i, len - i);
        unsigned cp = s_separator (text + i, step);
        if (cp) {
            out[o++] = '\\';
            out[o++] = 'u';
            for (int shift = 12; shift >= 0; shift -= 4)
                out[o++] = hex[(cp >> shift) & 0x0F];
        } else if (step > 1) {
            for (size_t k = 0; k < step; k++)
                out[o++] = text[i + k];
        } else if (step == 1 && c >= 0x20 && c != 0x7F && c != '\\')
            out[o++] = (char)c;
        else {
            out[o++] = '\\';
            if (c == '\n' || c == '\r' || c == '\t' || c == '\\')
                out[o++] = c == '\n' ? 'n' : c == '\r' ? 'r' : c == '\t' ? 't' : '\\';
            else {
                out[o++] = 'x';
                out[o++] = hex[c >> 4];
                out[o++] = hex[c & 0x0F];
            }
            step = 1;
        }
        i += step;
    }
    out[o] = '\0';
    return o;
}

int
line_append (line_buf_t *buf, const char *event_id, const char *user_id, size_t user_id_len,
             const char *description, size_t description_len)
{
    static const char sent[] = " has been sent to ";
    size_t id_len = strlen (event_id);
    /* "Event " id sent user ": " description "\n" and a NUL for line_escape */
    size_t need = 6 + id_len + (sizeof sent - 1) + LINE_ESCAPE_GROWTH * user_id_len + 2
                  + LINE_ESCAPE_GROWTH * description_len + 2;
    if (buf->cap - buf->len < need) {
        size_t cap = buf->cap ? buf->cap : 4096;
        while (cap - buf->len < need)
            cap *= 2;
        char *grown = realloc (buf->data, cap);
        if (!grown)
            return -1;
        buf->data = grown;
        buf->cap = cap;
    }
    char *at = buf->data + buf->len;
    memcpy (at, "Event ", 6);
    at += 6;
    memcpy (at, event_id, id_len);
    at += id_len;
    memcpy (at, sent, sizeof sent - 1);
    at += sizeof sent - 1;
    at += line_escape (user_id, user_id_len, at);
    *at++ = ':';
    *at++ = ' ';
    at += line_escape (description, description_len, at);
    *at++ = '\n';
    buf->len = (size_t)(at - buf->data);
    return 0;
}

int
line_write (line_buf_t *buf, int fd)
{
    size_t done = 0;
    int rc = 0;
    while (done < buf->len) {
        ssize_t n = write (fd, buf->data + done, buf->len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = EIO;
            rc = -1;
            break;
        }
        done += (size_t)n;
    }
    buf->len = 0;
    return rc;
}

void
line_buf_free (line_buf_t *buf)
{
    free (buf->data);
    *buf = (line_buf_t){ 0 };
}
