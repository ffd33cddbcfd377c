/*
 * line — see line.h.
 */
#include "line.h"

#include "proto.h"

#include <stdlib.h>

size_t
line_escape (const char *text, size_t len, char *out)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)text[i];
        size_t step = proto_utf8_len (text + i, len - i);
        if (step == 2 && c == 0xC2 && (unsigned char)text[i + 1] < 0xA0) {
            /* C1 control U+0080..U+009F (NEL, CSI, ...) */
            unsigned char cp = (unsigned char)text[i + 1];
            out[o++] = '\\';
            out[o++] = 'u';
            out[o++] = '0';
            out[o++] = '0';
            out[o++] = hex[cp >> 4];
            out[o++] = hex[cp & 0x0F];
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
    char *user = malloc (LINE_ESCAPE_GROWTH * user_id_len + 1);
    char *desc = malloc (LINE_ESCAPE_GROWTH * description_len + 1);
    int rc = -1;
    if (user && desc) {
        line_escape (user_id, user_id_len, user);
        line_escape (description, description_len, desc);
        rc = fprintf (out, "Event %s has been sent to %s: %s\n", event_id, user, desc) < 0
                     || fflush (out) != 0
                 ? -1
                 : 0;
    }
    free (user);
    free (desc);
    return rc;
}
