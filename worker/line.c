/*
 * line — see line.h.
 */
#include "line.h"

#include "proto.h"

#include <stdlib.h>

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
line_print (FILE *out, const char *event_id, const char *user_id, size_t user_id_len,
            const char *description, size_t description_len)
{
    /* Most lines fit on the stack; the limits allow longer text. */
    char user_buf[LINE_ESCAPE_GROWTH * 64 + 1], desc_buf[LINE_ESCAPE_GROWTH * 256 + 1];
    size_t user_need = LINE_ESCAPE_GROWTH * user_id_len + 1;
    size_t desc_need = LINE_ESCAPE_GROWTH * description_len + 1;
    char *user = user_need <= sizeof user_buf ? user_buf : malloc (user_need);
    char *desc = desc_need <= sizeof desc_buf ? desc_buf : malloc (desc_need);
    int rc = -1;
    if (user && desc) {
        size_t user_len = line_escape (user_id, user_id_len, user);
        size_t desc_len = line_escape (description, description_len, desc);
        rc = fputs ("Event ", out) < 0 || fputs (event_id, out) < 0
                     || fputs (" has been sent to ", out) < 0
                     || fwrite (user, 1, user_len, out) != user_len || fputs (": ", out) < 0
                     || fwrite (desc, 1, desc_len, out) != desc_len || fputc ('\n', out) == EOF
                 ? -1
                 : 0;
    }
    if (user != user_buf)
        free (user);
    if (desc != desc_buf)
        free (desc);
    return rc;
}
