/* options — see options.h. */
#include "options.h"

#include "config.h"
#include "herald_version.h"

#include <assert.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_OPTIONS_MAX 40
enum { S_HELP = 1000, S_VERSION, S_LOG_LEVEL, S_LOG_FORMAT, S_CHECK };

static void
s_usage (options_t *self, FILE *out)
{
    fprintf (out, "Usage: %s [options]\n%s\n\n", self->program, self->summary);
    for (option_t *o = self->options; o->name; o++) {
        char flag[64];
        snprintf (flag, sizeof flag, "--%s%s%s", o->name, o->metavar ? " " : "",
                  o->metavar ? o->metavar : "");
        fprintf (out, "  %-24s %s", flag, o->help);
        if (o->kind == OPTION_INT)
            fprintf (out, ", %lld..%lld", (long long)o->min, (long long)o->max);
        if (o->env || o->def)
            fprintf (out, " (%s%s%s)", o->env ? o->env : "", o->env && o->def ? ", " : "",
                     o->def ? o->def : "");
        fputc ('\n', out);
    }
    if (self->check_help)
        fprintf (out, "  %-24s %s\n", "--check", self->check_help);
    fprintf (out, "  %-24s %s\n  %-24s %s\n  %-24s\n", "--log-level L",
             "debug|info|warn|error (HERALD_LOG_LEVEL, info)", "--log-format F",
             "text|json: one JSON object per log line (HERALD_LOG_FORMAT, text)",
             "--help, --version");
}

/* text is one of the '|'-separated words of choices: its index in *index.
   Else -1 with the reason in err. */
static int
s_choice (const char *choices, const char *text, int64_t *index, char *err, size_t size)
{
    size_t len = strlen (text);
    int64_t i = 0;
    for (const char *word = choices; *word; i++) {
        size_t n = strcspn (word, "|");
        if (n == len && strncmp (word, text, len) == 0) {
            *index = i;
            return 0;
        }
        word += n + (word[n] == '|');
    }
    snprintf (err, size, "'%s' is not one of %s", text, choices);
    return -1;
}

option_t *
options_get (options_t *self, const char *name)
{
    for (option_t *o = self->options; o->name; o++)
        if (strcmp (o->name, name) == 0)
            return o;
    assert (!"unknown option name");
    return NULL;
}

int
options_parse (options_t *self, int argc, char *argv[])
{
    struct option table[S_OPTIONS_MAX + 6];
    const char *given[S_OPTIONS_MAX] = { NULL };
    const char *log_level = NULL, *log_format = NULL;
    int n = 0;
    for (option_t *o = self->options; o->name; o++, n++) {
        assert (n < S_OPTIONS_MAX);
        table[n] =
            (struct option){ o->name, o->kind == OPTION_FLAG ? no_argument : required_argument,
                             NULL, n };
    }
    table[n] = (struct option){ "help", no_argument, NULL, S_HELP };
    table[n + 1] = (struct option){ "version", no_argument, NULL, S_VERSION };
    table[n + 2] = (struct option){ "log-level", required_argument, NULL, S_LOG_LEVEL };
    table[n + 3] = (struct option){ "log-format", required_argument, NULL, S_LOG_FORMAT };
    table[n + 4] = (struct option){ "check", no_argument, NULL, S_CHECK };
    table[n + 4 + (self->check_help != NULL)] = (struct option){ NULL, 0, NULL, 0 };
    self->check = false;
    optind = 1;
    int opt;
    while ((opt = getopt_long (argc, argv, "hV", table, NULL)) != -1) {
        if (opt == S_HELP || opt == 'h') {
            s_usage (self, stdout);
            return 1;
        }
        if (opt == S_VERSION || opt == 'V') {
            printf ("%s %s\n", self->program, HERALD_VERSION);
            return 1;
        }
        if (opt == S_LOG_LEVEL)
            log_level = optarg;
        else if (opt == S_LOG_FORMAT)
            log_format = optarg;
        else if (opt == S_CHECK)
            self->check = true;
        else if (opt >= 0 && opt < n) {
            if (self->options[opt].kind == OPTION_FLAG)
                self->options[opt].set = true;
            else
                given[opt] = optarg;
        } else {
            s_usage (self, stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf (stderr, "%s: unexpected argument '%s' (see --help)\n", self->program,
                 argv[optind]);
        return 2;
    }
    const char *level = config_str (log_level, "HERALD_LOG_LEVEL", "info");
    if (log_level_parse (level, &self->log_level) != 0) {
        fprintf (stderr, "%s: --log-level / HERALD_LOG_LEVEL: invalid value '%s'\n", self->program,
                 level);
        return 2;
    }
    const char *format = config_str (log_format, "HERALD_LOG_FORMAT", "text");
    if (log_format_parse (format, &self->log_json) != 0) {
        fprintf (stderr,
                 "%s: --log-format / HERALD_LOG_FORMAT: invalid value '%s' (text or json)\n",
                 self->program, format);
        return 2;
    }
    for (int i = 0; i < n; i++) {
        option_t *o = &self->options[i];
        if (o->kind == OPTION_FLAG) {
            const char *env = o->env && !o->set ? getenv (o->env) : NULL;
            if (env && *env && strcmp (env, "0") != 0 && strcmp (env, "1") != 0) {
                fprintf (stderr, "%s: %s: invalid value '%s' (want 1 or 0)\n", self->program,
                         o->env, env);
                return 2;
            }
            if (env && strcmp (env, "1") == 0)
                o->set = true;
            continue;
        }
        o->str = config_str (given[i], o->env, o->def);
        if (o->kind == OPTION_STR && o->str && !*o->str) {
            fprintf (stderr, "%s: --%s: empty value\n", self->program, o->name);
            return 2;
        }
        if (o->kind == OPTION_INT && o->str
            && config_parse_int (o->str, o->min, o->max, &o->num) != 0) {
            fprintf (stderr, "%s: --%s%s%s: invalid value '%s' (want an integer in %lld..%lld)\n",
                     self->program, o->name, o->env ? " / " : "", o->env ? o->env : "", o->str,
                     (long long)o->min, (long long)o->max);
            return 2;
        }
        char why[256] = "";
        if (o->str
            && ((o->kind == OPTION_CHOICE
                 && s_choice (o->metavar, o->str, &o->num, why, sizeof why))
                || (o->kind == OPTION_STR && o->check && o->check (o->str, why, sizeof why)))) {
            fprintf (stderr, "%s: --%s%s%s: %s\n", self->program, o->name, o->env ? " / " : "",
                     o->env ? o->env : "", why);
            return 2;
        }
    }
    return 0;
}

int
options_start (options_t *self, int argc, char *argv[])
{
    int rc = options_parse (self, argc, argv);
    if (rc != 0)
        return rc == 1 ? 0 : 2;
    log_init (self->program, self->log_level);
    log_set_json (self->log_json);
    return OPTIONS_RUN;
}

int
options_check_endpoint (const char *value, char *err, size_t size)
{
    if (strncmp (value, "ipc://", 6) == 0 && value[6])
        return 0;
    if (strncmp (value, "tcp://", 6) == 0) {
        const char *colon = strrchr (value + 6, ':');
        int64_t port;
        if (colon && colon > value + 6
            && (strcmp (colon + 1, "*") == 0 || config_parse_int (colon + 1, 1, 65535, &port) == 0))
            return 0;
    }
    snprintf (err, size, "'%s' is not tcp://HOST:PORT or ipc://PATH", value);
    return -1;
}

int
options_check_endpoint_or_none (const char *value, char *err, size_t size)
{
    if (strcmp (value, "none") == 0)
        return 0;
    if (options_check_endpoint (value, err, size) == 0)
        return 0;
    snprintf (err, size, "'%s' is not tcp://HOST:PORT, ipc://PATH or none", value);
    return -1;
}

int
options_check_http_url (const char *value, char *err, size_t size)
{
    size_t scheme = strncmp (value, "http://", 7) == 0    ? 7
                    : strncmp (value, "https://", 8) == 0 ? 8
                                                          : 0;
    if (scheme && value[scheme] && value[scheme] != '/' && value[scheme] != ':')
        return 0;
    snprintf (err, size, "'%s' is not an http:// or https:// URL with a host", value);
    return -1;
}
