/* config — see config.h. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>

const char *
config_str (const char *flag, const char *env, const char *def)
{
    if (flag)
        return flag;
    const char *value = env ? getenv (env) : NULL;
    if (value && *value)
        return value;
    return def;
}

int
config_parse_int (const char *text, int64_t min, int64_t max, int64_t *out)
{
    /* strtoll alone would take leading blanks and a '+'. */
    if (!text || !((*text >= '0' && *text <= '9') || *text == '-'))
        return -1;
    errno = 0;
    char *end = NULL;
    long long value = strtoll (text, &end, 10);
    if (errno || *end != '\0' || value < min || value > max)
        return -1;
    *out = value;
    return 0;
}
