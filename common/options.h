/*
 * options — one table per service declares every setting once: its flag,
 * its HERALD_* environment variable, its default, its range and its help
 * line. options_parse applies docs/ARCHITECTURE.md §1's rule (flag, else
 * environment, else default), validates strictly, and generates --help from
 * the same table, so the documented defaults cannot drift from the real ones.
 * --help, --version, --log-level and --check (each service's own probe of
 * a running instance, for health checks) are built in; values are checked by
 * kind (integer ranges, choices, endpoints, URLs), so a main.c gets only
 * values it can use.
 */
#ifndef HERALD_OPTIONS_H
#define HERALD_OPTIONS_H

#include "log.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    OPTION_STR,    /* non-empty text, checked by check when it is set */
    OPTION_INT,    /* decimal integer in [min, max] */
    OPTION_FLAG,   /* no argument; set or not; its environment variable, if any, is 1 or 0 */
    OPTION_CHOICE, /* one of the words of metavar ("always|everysec|no") */
} option_kind_t;

/* Checks a value; returns 0, or -1 with the reason in err. */
typedef int (*option_check_fn) (const char *value, char *err, size_t size);

typedef struct {
    const char *name; /* flag without "--" */
    option_kind_t kind;
    const char *env;     /* HERALD_* fallback, NULL for none */
    const char *def;     /* default as text (NULL: none) */
    int64_t min, max;    /* OPTION_INT range */
    const char *metavar; /* "HOST:PORT", "N", ... */
    const char *help;
    option_check_fn check; /* OPTION_STR: NULL accepts any text */
    /* Results, filled by options_parse. */
    const char *str; /* the value's text (borrowed), NULL when unset */
    int64_t num;     /* OPTION_INT value; OPTION_CHOICE: the word's index */
    bool set;        /* OPTION_FLAG given */
} option_t;

/* The text of a numeric macro, for an OPTION_I default:
   OPTION_XSTR (FEED_MAX_DEFAULT) is "100000". */
#define OPTION_STR_(x) #x
#define OPTION_XSTR(x) OPTION_STR_ (x)

/* Table entries. */
#define OPTION_S(name_, env_, def_, metavar_, help_)                                               \
    {                                                                                              \
        .name = (name_), .kind = OPTION_STR, .env = (env_), .def = (def_), .metavar = (metavar_),  \
        .help = (help_)                                                                            \
    }
#define OPTION_SC(name_, env_, def_, metavar_, help_, check_)                                      \
    {                                                                                              \
        .name = (name_), .kind = OPTION_STR, .env = (env_), .def = (def_), .metavar = (metavar_),  \
        .help = (help_), .check = (check_)                                                         \
    }
#define OPTION_C(name_, env_, def_, choices_, help_)                                               \
    {                                                                                              \
        .name = (name_), .kind = OPTION_CHOICE, .env = (env_), .def = (def_),                      \
        .metavar = (choices_), .help = (help_)                                                     \
    }
#define OPTION_I(name_, env_, def_, min_, max_, metavar_, help_)                                   \
    {                                                                                              \
        .name = (name_), .kind = OPTION_INT, .env = (env_), .def = (def_), .min = (min_),          \
        .max = (max_), .metavar = (metavar_), .help = (help_)                                      \
    }
#define OPTION_F(name_, help_)                                                                     \
    {                                                                                              \
        .name = (name_), .kind = OPTION_FLAG, .help = (help_)                                      \
    }
#define OPTION_FE(name_, env_, help_)                                                              \
    {                                                                                              \
        .name = (name_), .kind = OPTION_FLAG, .env = (env_), .help = (help_)                       \
    }
#define OPTION_END                                                                                 \
    {                                                                                              \
        .name = NULL                                                                               \
    }

typedef struct {
    const char *program;    /* "herald-gateway" */
    const char *summary;    /* one paragraph for --help */
    const char *check_help; /* what the built-in --check does (NULL: no --check) */
    option_t *options;      /* terminated by an entry with name NULL */
    /* Results, filled by options_parse. */
    log_level_t log_level; /* the built-in --log-level */
    bool log_json;         /* the built-in --log-format json */
    bool check;            /* --check given: probe the running service and exit */
} options_t;

/* Parses argv. Returns 0 to go on; 1 when --help or --version was printed
   (exit 0); 2 after printing a usage error to stderr (exit 2). */
int options_parse (options_t *self, int argc, char *argv[]);

/* How every main.c starts: options_parse, then log_init with the program's
   name and the --log-level given. Returns OPTIONS_RUN to go on, else the
   exit code (0 after --help or --version, 2 after a usage error). */
#define OPTIONS_RUN (-1)
int options_start (options_t *self, int argc, char *argv[]);

/* Checkers for OPTION_SC, shared by the services. */
/* A ZeroMQ endpoint Herald can use: tcp://HOST:PORT (PORT a number or *)
   or ipc://PATH. */
int options_check_endpoint (const char *value, char *err, size_t size);
/* The same, or the word "none". */
int options_check_endpoint_or_none (const char *value, char *err, size_t size);
/* An http:// or https:// URL with a host. */
int options_check_http_url (const char *value, char *err, size_t size);

/* The entry named name (programmer error if absent). */
option_t *options_get (options_t *self, const char *name);

#endif
