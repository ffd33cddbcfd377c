/*
 * broker_url — where herald-notifier and herald-worker find RabbitMQ:
 * --amqp-url / HERALD_AMQP_URL is one AMQP URL or a comma-separated list of
 * them, the nodes of one cluster (at most BROKER_URLS_MAX). broker_new
 * (broker.h) connects to the first that answers and, when a connection
 * dies or an attempt fails, tries the next in turn, round robin.
 *
 * A URL holds a password. --amqp-password-file puts the password of a file
 * into every URL of the list, so it is never in argv or an environment a
 * container shows; a comma in a password written into a URL by hand must
 * be percent-encoded (%2C), as the file's password always is. Errors name
 * the list entry and the file, never a password read from the file.
 */
#ifndef HERALD_BROKER_URL_H
#define HERALD_BROKER_URL_H

#include "options.h"

#include <stddef.h>

#define BROKER_URL_DEFAULT "amqp://guest:guest@127.0.0.1:5672/"
#define BROKER_URLS_MAX 16      /* URLs in one --amqp-url list: nodes of one cluster */
#define BROKER_URL_MAX 1024     /* one URL with the password of a file put in */
#define BROKER_PASSWORD_MAX 256 /* bytes of a password file, line break excluded */
/* A whole list with passwords put in: the buffer broker_url_from_options
   fills. */
#define BROKER_URL_LIST_MAX (BROKER_URLS_MAX * BROKER_URL_MAX)

/* Checks that list is one URL amqp://user:pass@host:port/vhost or up to
   BROKER_URLS_MAX of them separated by commas, none empty. Returns 0, or -1
   with the reason (naming the entry of a list) in err. */
int broker_url_check (const char *list, char *err, size_t size);

/* The URL list to connect with, into out (size bytes): list itself when
   password_file is NULL, else list with the password of each URL replaced
   by the one in password_file (HERALD_AMQP_PASSWORD_FILE: a secret in a
   file, never in argv or in the environment of a container). The file holds
   the password alone; one final line break is not part of it. Every URL
   must name a user. Returns 0, or -1 after logging why (naming the file,
   never quoting its content or a URL's password). Blocks on reading the
   file. */
int broker_url_with_password_file (const char *list, const char *password_file, char *out,
                                   size_t size);

/* The same for a service's options: its "amqp-url" and
   "amqp-password-file" (both must be in its table). Returns out, or NULL
   after logging why. */
const char *broker_url_from_options (options_t *opts, char *out, size_t size);

#endif
