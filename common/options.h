/*
 * options — one table per service declares every setting once: its flag,
 * its HERALD_* environment variable, its default, its range and its help
 * line. options_parse applies docs/ARCHITECTURE.md §1's rule (flag, else
 * environment, else default), validates strictly, and generates --help from
 * the same table, so the documented defaults cannot drift from the real ones.
 * --help, --version and --log-level are built in.
 */
#ifndef HERALD_OPTIONS_H
#define HERALD_OPTIONS_H

#include "log.h"

#include <stdbool.h>
#include <stdint.h>

typedef enum {
    OPTION_STR,  /* any non-empty text */
    OPTION_INT,  /* decimal integer in [min, max] */
    OPTION_FLAG, /* no argument; set or not (no environment) */
} option_kind_t;

typedef struct {
    const char *name; /* flag without "--" */
    option_kind_t kind;
    const char *env;     /* HERALD_* fallback, NULL for none */
    const char *def;     /* default as text (NULL: none) */
    int64_t min, max;    /* OPTION_INT range */
    const char *metavar; /* "HOST:PORT", "N", ... */
    const char *help;
    /* Results, filled by options_parse. */
    const char *str; /* the value's text (borrowed), NULL when unset */
    int64_t num;     /* OPTION_INT value */
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
#define OPTION_I(name_, env_, def_, min_, max_, metavar_, help_)                                   \
    {                                                                                              \
        .name = (name_), .kind = OPTION_INT, .env = (env_), .def = (def_), .min = (min_),          \
        .max = (max_), .metavar = (metavar_), .help = (help_)                                      \
    }
#define OPTION_F(name_, help_)                                                                     \
    {                                                                                              \
        .name = (name_), .kind = OPTION_FLAG, .help = (help_)                                      \
    }
#define OPTION_END                                                                                 \
    {                                                                                              \
        .name = NULL                                                                               \
    }

typedef struct {
    const char *program;   /* "herald-gateway" */
    const char *summary;   /* one paragraph for --help */
    option_t *options;     /* terminated by an entry with name NULL */
    log_level_t log_level; /* result of the built-in --log-level */
} options_t;

/* Parses argv. Returns 0 to go on; 1 when --help or --version was printed
   (exit 0); 2 after printing a usage error to stderr (exit 2). */
int options_parse (options_t *self, int argc, char *argv[]);

/* The entry named name (programmer error if absent). */
option_t *options_get (options_t *self, const char *name);

#endif
