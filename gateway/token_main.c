/*
 * herald-token — makes an API token for herald-gateway (gateway/tokens.h):
 * a random secret for the client, and the line for the gateway's tokens
 * file, which holds only the secret's SHA-256.
 *
 *   herald-token --name NAME --scopes read,write
 *       prints the secret (line 1, shown only this once) and the tokens-file
 *       line (line 2) on stdout
 *   herald-token --name NAME --scopes read --secret-file PATH
 *       writes the secret into PATH (created with mode 0600, never over an
 *       existing file) and prints only the tokens-file line
 *   herald-token --name NAME --scopes read --hash < secret
 *       reads an existing secret from stdin (its first line) and prints its
 *       tokens-file line
 *
 * The secret is "herald_" and 64 hex digits of getrandom(2): 256 bits, so
 * an unsalted hash is safe to store and a secret cannot be guessed.
 */
#include "log.h"
#include "options.h"
#include "tokens.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#define S_RANDOM_BYTES 32
#define S_PREFIX "herald_"

static option_t s_options[] = {
    OPTION_S ("name", NULL, NULL, "NAME", "the token's name in the gateway's logs (required)"),
    OPTION_S ("scopes", NULL, NULL, "LIST", "comma-separated: read, write, admin (required)"),
    OPTION_S ("secret-file", NULL, NULL, "PATH",
              "write the new secret here (mode 0600; the file must not exist) instead of "
              "printing it"),
    OPTION_F ("hash", "read a secret from stdin instead of making one; print only its line"),
    OPTION_END,
};

/* A new secret: the prefix and S_RANDOM_BYTES random bytes in hex. */
static int
s_generate (char *secret, size_t size)
{
    uint8_t bytes[S_RANDOM_BYTES];
    size_t got = 0;
    while (got < sizeof bytes) {
        ssize_t n = getrandom (bytes + got, sizeof bytes - got, 0);
        if (n < 0 && errno != EINTR)
            return -1;
        if (n > 0)
            got += (size_t)n;
    }
    static const char digits[] = "0123456789abcdef";
    size_t at = (size_t)snprintf (secret, size, "%s", S_PREFIX);
    for (size_t i = 0; i < sizeof bytes && at + 2 < size; i++) {
        secret[at++] = digits[bytes[i] >> 4];
        secret[at++] = digits[bytes[i] & 15];
    }
    secret[at] = '\0';
    return 0;
}

/* Reads the secret from stdin's first line, without its line end. */
static int
s_read_secret (char *secret, size_t size)
{
    if (!fgets (secret, (int)size, stdin))
        return -1;
    size_t len = strcspn (secret, "\r\n");
    secret[len] = '\0';
    return len > 0 && len <= TOKENS_SECRET_MAX ? 0 : -1;
}

static int
s_write_secret (const char *path, const char *secret)
{
    int fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        fprintf (stderr, "herald-token: %s: %s\n", path, strerror (errno));
        return -1;
    }
    size_t len = strlen (secret);
    ssize_t n = write (fd, secret, len);
    if (n != (ssize_t)len || write (fd, "\n", 1) != 1 || close (fd) != 0) {
        fprintf (stderr, "herald-token: %s: cannot write\n", path);
        return -1;
    }
    return 0;
}

int
main (int argc, char *argv[])
{
    options_t opts = { .program = "herald-token",
                       .summary =
                           "Makes an API token for herald-gateway: a random secret for the client\n"
                           "and the line (NAME SCOPES SHA256) to append to the gateway's\n"
                           "--tokens-file; then send the gateway SIGHUP.",
                       .options = s_options };
    int rc = options_start (&opts, argc, argv);
    if (rc != OPTIONS_RUN)
        return rc;
    const char *name = options_get (&opts, "name")->str;
    const char *scopes_text = options_get (&opts, "scopes")->str;
    const char *secret_file = options_get (&opts, "secret-file")->str;
    bool hash_only = options_get (&opts, "hash")->set;
    unsigned scopes = 0;
    if (!name || !tokens_name_valid (name)) {
        fprintf (stderr, "herald-token: --name: 1..%d of A-Z a-z 0-9 . _ - is required\n",
                 TOKENS_NAME_MAX);
        return 2;
    }
    if (!scopes_text || tokens_scopes_parse (scopes_text, strlen (scopes_text), &scopes) != 0) {
        fprintf (stderr, "herald-token: --scopes: a comma-separated subset of read,write,admin "
                         "is required\n");
        return 2;
    }
    if (hash_only && secret_file) {
        fprintf (stderr, "herald-token: --hash and --secret-file exclude each other\n");
        return 2;
    }
    char secret[TOKENS_SECRET_MAX + 2];
    if (hash_only ? s_read_secret (secret, sizeof secret) != 0
                  : s_generate (secret, sizeof secret) != 0) {
        fprintf (stderr, "herald-token: %s\n",
                 hash_only ? "stdin: expected one line with a secret of 1..256 bytes"
                           : "no randomness from getrandom");
        return 1;
    }
    uint8_t hash[TOKENS_HASH_LEN];
    char hex[TOKENS_HASH_HEX + 1];
    tokens_hash (secret, strlen (secret), hash);
    tokens_hash_hex (hash, hex);
    if (secret_file && s_write_secret (secret_file, secret) != 0)
        return 1;
    if (!hash_only && !secret_file)
        printf ("%s\n", secret);
    printf ("%s %s %s\n", name, scopes_text, hex);
    return fflush (stdout) == 0 ? 0 : 1;
}
