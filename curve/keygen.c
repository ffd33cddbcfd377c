/*
 * herald-keygen — makes the CurveZMQ key pairs that secure the store's
 * sockets (curve/curve.h): `herald-keygen DIR NAME` writes DIR/NAME.key
 * (the public key: give it to the other side) and DIR/NAME.key_secret (both
 * keys, mode 0600: it stays with its owner). It refuses to overwrite an
 * existing pair, so a running deployment's keys are never replaced by
 * mistake.
 *
 * A deployment needs one pair for the store and one per client service
 * (gateway, notifier); the clients' public keys go into the directory the
 * store allows (--curve-clients), the store's public key to every client.
 */
#include "curve.h"
#include "herald_version.h"

#include <czmq.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int
s_usage (FILE *out)
{
    fprintf (out, "Usage: herald-keygen DIR NAME\n"
                  "Writes a new CurveZMQ key pair: DIR/NAME.key (public) and DIR/NAME.key_secret\n"
                  "(secret, mode 0600). DIR is created if missing (mode 0700). Existing files are\n"
                  "never overwritten.\n");
    return out == stdout ? 0 : 2;
}

int
main (int argc, char *argv[])
{
    if (argc == 2 && (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0))
        return s_usage (stdout);
    if (argc == 2 && (strcmp (argv[1], "--version") == 0 || strcmp (argv[1], "-V") == 0)) {
        printf ("herald-keygen %s\n", HERALD_VERSION);
        return 0;
    }
    if (argc != 3 || !*argv[1] || !*argv[2] || strchr (argv[2], '/'))
        return s_usage (stderr);
    if (!curve_available ()) {
        fprintf (stderr, "herald-keygen: this libzmq is built without CURVE\n");
        return 1;
    }
    const char *dir = argv[1], *name = argv[2];
    if (mkdir (dir, 0700) != 0 && errno != EEXIST) {
        fprintf (stderr, "herald-keygen: cannot create %s: %s\n", dir, strerror (errno));
        return 1;
    }
    char pub[4096], sec[4096 + 8];
    if (snprintf (pub, sizeof pub, "%s/%s.key", dir, name) >= (int)sizeof pub) {
        fprintf (stderr, "herald-keygen: path too long\n");
        return 2;
    }
    snprintf (sec, sizeof sec, "%s_secret", pub);
    if (access (pub, F_OK) == 0 || access (sec, F_OK) == 0) {
        fprintf (stderr, "herald-keygen: %s or %s exists already; not overwriting\n", pub, sec);
        return 1;
    }
    zsys_handler_set (NULL);
    zcert_t *cert = zcert_new ();
    if (!cert) {
        fprintf (stderr, "herald-keygen: cannot make a key pair\n");
        return 1;
    }
    zcert_set_meta (cert, "name", "%s", name);
    zcert_set_meta (cert, "made-by", "herald-keygen %s", HERALD_VERSION);
    int rc = zcert_save_public (cert, pub) == 0 && zcert_save_secret (cert, sec) == 0
                     && chmod (sec, 0600) == 0 && chmod (pub, 0644) == 0
                 ? 0
                 : 1;
    if (rc == 0)
        printf ("%s\n%s\n", pub, sec);
    else
        fprintf (stderr, "herald-keygen: cannot write %s: %s\n", pub, strerror (errno));
    zcert_destroy (&cert);
    return rc;
}
