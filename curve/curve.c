/*
 * curve — see curve.h.
 */
#include "curve.h"

#include "log.h"

#include <arpa/inet.h>
#include <czmq.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

bool
curve_available (void)
{
    return zmq_has ("curve") != 0;
}

/* The certificate at path, or NULL with the reason in err. Read with
   zconfig rather than zcert_load, which tries "PATH_secret" before PATH:
   the file named is the file read. */
static zcert_t *
s_load (const char *path, char *err, size_t size)
{
    FILE *f = fopen (path, "r");
    if (!f) {
        snprintf (err, size, "cannot read '%s': %s", path, strerror (errno));
        return NULL;
    }
    fclose (f);
    zconfig_t *root = zconfig_load (path);
    const char *pub = root ? zconfig_get (root, "/curve/public-key", NULL) : NULL;
    const char *sec = root ? zconfig_get (root, "/curve/secret-key", NULL) : NULL;
    zcert_t *cert = NULL;
    if (pub && strlen (pub) == CURVE_Z85_LEN) {
        uint8_t public_key[CURVE_KEY_LEN] = { 0 }, secret_key[CURVE_KEY_LEN] = { 0 };
        if (zmq_z85_decode (public_key, pub)
            && (!sec || (strlen (sec) == CURVE_Z85_LEN && zmq_z85_decode (secret_key, sec))))
            cert = zcert_new_from (public_key, secret_key);
    }
    zconfig_destroy (&root);
    if (!cert)
        snprintf (err, size, "'%s' is not a CURVE certificate (make one with herald-keygen)", path);
    return cert;
}

int
curve_load_keypair (const char *path, curve_keypair_t *keys, char *err, size_t size)
{
    zcert_t *cert = s_load (path, err, size);
    if (!cert)
        return -1;
    static const uint8_t zero[CURVE_KEY_LEN] = { 0 };
    int rc = 0;
    if (memcmp (zcert_secret_key (cert), zero, CURVE_KEY_LEN) == 0) {
        snprintf (err, size,
                  "'%s' holds no secret key (a public certificate? the secret one is "
                  "NAME.key_secret)",
                  path);
        rc = -1;
    } else {
        memcpy (keys->public_key, zcert_public_key (cert), CURVE_KEY_LEN);
        memcpy (keys->secret_key, zcert_secret_key (cert), CURVE_KEY_LEN);
        struct stat st;
        if (stat (path, &st) == 0 && (st.st_mode & (S_IRWXG | S_IRWXO)))
            log_warn ("%s: a secret key readable by others than its owner (chmod 600 it)", path);
    }
    zcert_destroy (&cert);
    return rc;
}

int
curve_load_public (const char *path, uint8_t key[CURVE_KEY_LEN], char *err, size_t size)
{
    zcert_t *cert = s_load (path, err, size);
    if (!cert)
        return -1;
    memcpy (key, zcert_public_key (cert), CURVE_KEY_LEN);
    zcert_destroy (&cert);
    return 0;
}

int
curve_load_client (const char *key_file, const char *server_file, curve_client_t *client, char *err,
                   size_t size)
{
    if (!key_file && !server_file)
        return 0;
    if (!key_file || !server_file) {
        snprintf (err, size, "a CURVE client needs both its own key and the store's public key");
        return -1;
    }
    if (!curve_available ()) {
        snprintf (err, size, "this libzmq has no CURVE");
        return -1;
    }
    if (curve_load_keypair (key_file, &client->keys, err, size) != 0
        || curve_load_public (server_file, client->server_key, err, size) != 0)
        return -1;
    return 1;
}

int
curve_make_server (void *socket, const curve_keypair_t *keys)
{
    int one = 1;
    if (zmq_setsockopt (socket, ZMQ_CURVE_SERVER, &one, sizeof one) != 0
        || zmq_setsockopt (socket, ZMQ_CURVE_SECRETKEY, keys->secret_key, CURVE_KEY_LEN) != 0)
        return -1;
    return 0;
}

int
curve_make_client (void *socket, const curve_keypair_t *keys,
                   const uint8_t server_key[CURVE_KEY_LEN])
{
    if (zmq_setsockopt (socket, ZMQ_CURVE_SERVERKEY, server_key, CURVE_KEY_LEN) != 0
        || zmq_setsockopt (socket, ZMQ_CURVE_PUBLICKEY, keys->public_key, CURVE_KEY_LEN) != 0
        || zmq_setsockopt (socket, ZMQ_CURVE_SECRETKEY, keys->secret_key, CURVE_KEY_LEN) != 0)
        return -1;
    return 0;
}

bool
curve_endpoint_is_local (const char *endpoint)
{
    if (strncmp (endpoint, "ipc://", 6) == 0 || strncmp (endpoint, "inproc://", 9) == 0)
        return true;
    if (strncmp (endpoint, "tcp://", 6) != 0)
        return false;
    const char *host = endpoint + 6;
    const char *colon = strrchr (host, ':');
    if (!colon || strchr (host, ';')) /* tcp://SOURCE;HOST:PORT: not worth the risk */
        return false;
    char text[INET6_ADDRSTRLEN + 2];
    size_t len = (size_t)(colon - host);
    if (len >= 2 && host[0] == '[' && host[len - 1] == ']') {
        host++;
        len -= 2;
    }
    if (len == 0 || len >= sizeof text)
        return false;
    memcpy (text, host, len);
    text[len] = '\0';
    if (strcmp (text, "localhost") == 0)
        return true;
    struct in_addr v4;
    struct in6_addr v6;
    if (inet_pton (AF_INET, text, &v4) == 1)
        return (ntohl (v4.s_addr) >> 24) == 127;
    if (inet_pton (AF_INET6, text, &v6) == 1)
        return IN6_IS_ADDR_LOOPBACK (&v6);
    return false;
}
